"""MintNet inversion accuracy (seed 002, Fig. 4): error against fixed-point steps.

Builds a MintNet density on a dataset (default: the embedded 8x8 digits), measures
the reconstruction error of Algorithm 1 with T steps per layer for several step
sizes alpha, at initialisation and after a brief training run (the shared
`jinvnet.train` step), reports the tolerance loop's per-layer iterations and
residuals, and times inverting a batch against the forward pass. On the trained
model it then puts Algorithm 1 (memory 1) next to its Anderson acceleration
(`anderson_memory` m > 1, `jinvnet.ops.mint`): per memory, the error after T
steps, the first T reaching the target, the tolerance loop's forward passes per
layer and its time. Per layer of the trained model, it also computes the smallest
error any method that mixes k fixed-point steps (Algorithm 1, Anderson, GMRES) can
reach on the layer linearised at the solution (`krylov_bound`). Writes
`inversion.png`, `inversion_table.md`, `acceleration_table.md`,
`krylov_bound_table.md` and `results.json` to the workdir.

    python -m experiments.mintnet_inversion.main --config=default --workdir=/tmp/mint
"""

import functools
import json
import logging
import os
import time

import jax
import jax.numpy as jnp
import matplotlib
import ml_collections
import numpy as np

from experiments.mintnet_inversion import krylov_bound
from jinvnet import bijectors, data, models, train
from jinvnet.train import config_cli

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

_LOG = logging.getLogger(__name__)
CONFIGS_DIR = os.path.join(os.path.dirname(__file__), "configs")


def _train(config, model, dataset):
    """Initialises on a first batch and takes `train_steps` Adam steps (`train.fit`).

    Returns:
      (variables at initialisation, trained variables, per-step losses).
    """
    optim = train.configs.base().optim
    optim.learning_rate = config.learning_rate
    optim.warmup_steps = min(optim.warmup_steps, max(1, config.train_steps // 4))
    batches = data.BatchIterator(
        dataset.train,
        batch_size=config.batch_size,
        num_bins=dataset.num_bins,
        seed=config.seed,
    )
    result = train.fit(
        model,
        batches,
        objective=train.Objective("density", num_bins=dataset.num_bins),
        optimizer=train.make_optimizer(optim, config.train_steps),
        num_steps=config.train_steps,
        seed=config.seed,
    )
    return result.initial, result.variables, result.losses


def _flow(model_config, variables, x, **inverse_options):
    """The data-to-latent bijector of the trained density with these inverse options."""
    flow = models.mintnet(**model_config, **inverse_options)
    return flow.apply({"params": variables["params"]["flow"]}, x)


def _errors(x_rec, x):
    """Relative errors: max |x_rec - x| / max |x|, and the mean per-example L2 ratio."""
    axes = tuple(range(1, x.ndim))
    linf = jnp.max(jnp.abs(x_rec - x)) / jnp.max(jnp.abs(x))
    l2 = jnp.mean(
        jnp.sqrt(jnp.sum((x_rec - x) ** 2, axes)) / jnp.sqrt(jnp.sum(x**2, axes))
    )
    return linf, l2


def sweep(model_config, variables, x, alphas, num_steps) -> dict:
    """Relative L-inf reconstruction error for every alpha and T (steps per layer).

    It measures the truncated iteration itself, so it takes every layer's iterate
    from `invert_with_diagnostics`; `bij.inverse` would give NaN for the examples
    that T steps leave above the tolerance.
    """

    @functools.partial(jax.jit, static_argnums=(2, 3))
    def error(v, images, alpha, steps):
        bij = _flow(model_config, v, images, alpha=alpha, num_steps=steps)
        x_rec, _ = bijectors.invert_with_diagnostics(bij, bij.forward(images))
        return _errors(x_rec, images)[0]

    return {
        alpha: [float(error(variables, x, alpha, steps)) for steps in num_steps]
        for alpha in alphas
    }


def tolerance_loop_report(model_config, variables, x, alpha: float = 1.0) -> dict:
    """Per-layer iterations / residuals of the tolerance loop, and the final error."""
    bij = _flow(model_config, variables, x, alpha=alpha)
    z = bij.forward(x)
    x_rec, results = bijectors.invert_with_diagnostics(bij, z)
    linf, l2 = _errors(x_rec, x)
    return {
        "alpha": alpha,
        "iterations_per_layer": [int(r.iterations) for r in results],
        "max_residual_per_layer": [float(jnp.max(r.residual)) for r in results],
        "all_converged": bool(all(bool(jnp.all(r.converged)) for r in results)),
        "relative_error_linf": float(linf),
        "relative_error_l2": float(l2),
    }


def _best_seconds(fn, repeats: int) -> float:
    """Fastest of `repeats` timed calls after a compiling one (robust to a busy CPU)."""
    jax.block_until_ready(fn())  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return float(np.min(times))


def timings(model_config, variables, x, repeats: int, fixed_steps: int) -> dict:
    """Best-of-N wall time of forward, tolerance-loop inverse and fixed-step inverse."""
    bij = _flow(model_config, variables, x)
    fixed = _flow(model_config, variables, x, num_steps=fixed_steps)
    z = jax.jit(bij.forward)(x)
    forward = _best_seconds(functools.partial(jax.jit(bij.forward), x), repeats)
    inverse = _best_seconds(functools.partial(jax.jit(bij.inverse), z), repeats)
    inverse_fixed = _best_seconds(functools.partial(jax.jit(fixed.inverse), z), repeats)
    return {
        "batch": int(x.shape[0]),
        "forward_s": forward,
        "inverse_tolerance_s": inverse,
        f"inverse_{fixed_steps}_steps_s": inverse_fixed,
        "inverse_over_forward": inverse / forward,
        f"inverse_{fixed_steps}_steps_over_forward": inverse_fixed / forward,
    }


def _first_reaching(errors: list[float], num_steps, target: float):
    return next((t for t, e in zip(num_steps, errors) if e <= target), None)


def acceleration(model_config, variables, x, config) -> list[dict]:
    """Algorithm 1 next to Anderson acceleration, one row per memory, alpha = 1.

    Each row: the relative L-inf error after T steps in every layer, the first T
    reaching `config.target`, the tolerance loop's forward passes per layer (one
    before the first step, one per step) with its final error, and the best-of-N
    time of the tolerance-loop inverse (`jax.jit(bij.inverse)`).
    """
    num_steps = tuple(config.acceleration_steps)
    rows = []
    for memory in config.anderson_memories:
        options = dict(model_config, anderson_memory=memory)
        errors = sweep(options, variables, x, (1.0,), num_steps)[1.0]
        loop = tolerance_loop_report(options, variables, x)
        bij = _flow(options, variables, x)
        z = jax.jit(bij.forward)(x)
        seconds = _best_seconds(
            functools.partial(jax.jit(bij.inverse), z), config.timing_repeats
        )
        rows.append(
            {
                "anderson_memory": memory,
                "errors": errors,
                "steps_to_target": _first_reaching(errors, num_steps, config.target),
                "passes_per_layer": [i + 1 for i in loop["iterations_per_layer"]],
                "tolerance_loop_error": loop["relative_error_linf"],
                "all_converged": loop["all_converged"],
                "inverse_s": seconds,
            }
        )
    return rows


def _acceleration_table(rows: list[dict], num_steps, target: float) -> str:
    header = (
        "| memory | "
        + " | ".join(f"T={t}" for t in num_steps)
        + f" | T to {target:.0e} | tolerance loop: passes per layer (sum) "
        "| its error | inverse s |"
    )
    rule = "|---|" + "---|" * (len(num_steps) + 4)
    lines = [header, rule]
    for row in rows:
        passes = row["passes_per_layer"]
        lines.append(
            f"| {row['anderson_memory']} | "
            + " | ".join(f"{e:.1e}" for e in row["errors"])
            + f" | {row['steps_to_target'] or '-'} "
            f"| {' '.join(map(str, passes))} ({sum(passes)}) "
            f"| {row['tolerance_loop_error']:.1e} | {row['inverse_s']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def bound_report(model_config, variables, x, steps_list) -> list[dict]:
    """Per Mint layer (inversion order) and k: Algorithm 1's linearised error next to
    the smallest any Krylov / Anderson method can reach in k steps (`krylov_bound`).
    """
    bij = _flow(model_config, variables, x)
    layers = krylov_bound.mint_layers(bij, x)[::-1]  # inverted last layer first
    return [
        {
            "layer": len(layers) - 1 - i,
            "upper": layer.upper,
            "bounds": krylov_bound.layer_bounds(layer, x_in, z, steps_list),
        }
        for i, (layer, x_in, z) in enumerate(layers)
    ]


def _small(value: float) -> str:
    """Values under the linear programme's resolution (~1e-9 relative) as such."""
    return "< 1e-9" if value < 1e-9 else f"{value:.1e}"


def _bound_table(rows: list[dict], steps_list, target: float) -> str:
    header = (
        "| layer (inversion order) | "
        + " | ".join(f"k={k}: Alg. 1 / optimum" for k in steps_list)
        + f" | fewest k with optimum <= {target:.0e} |"
    )
    lines = [header, "|---|" + "---|" * (len(steps_list) + 1)]
    for row in rows:
        cells = [
            f"{row['bounds'][k]['algorithm_1']:.1e} / "
            + _small(row["bounds"][k]["krylov_optimum"])
            for k in steps_list
        ]
        first = next(
            (k for k in steps_list if row["bounds"][k]["krylov_optimum"] <= target),
            f"> {max(steps_list)}",
        )
        kind = "upper" if row["upper"] else "lower"
        lines.append(
            f"| {row['layer']} ({kind}) | " + " | ".join(cells) + f" | {first} |"
        )
    return "\n".join(lines) + "\n"


def _plot(sweeps: dict, num_steps, target: float, path: str) -> None:
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 4), sharey=True)
    for ax, (title, curves) in zip(np.atleast_1d(axes), sweeps.items()):
        for alpha, errors in curves.items():
            finite = [e if np.isfinite(e) else np.nan for e in errors]
            ax.semilogy(num_steps, finite, marker="o", label=f"alpha={alpha}")
        ax.axhline(target, color="gray", linestyle="--", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel("fixed-point steps per layer")
    np.atleast_1d(axes)[0].set_ylabel("relative reconstruction error (L-inf)")
    np.atleast_1d(axes)[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _table(sweeps: dict, num_steps) -> str:
    header = "| model | alpha | " + " | ".join(f"T={t}" for t in num_steps) + " |"
    rule = "|---|---|" + "---|" * len(num_steps)
    rows = [
        f"| {title} | {alpha} | " + " | ".join(f"{e:.1e}" for e in errors) + " |"
        for title, curves in sweeps.items()
        for alpha, errors in curves.items()
    ]
    return "\n".join([header, rule, *rows]) + "\n"


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
    """Trains briefly, sweeps (alpha, T), times the inverse; writes the results."""
    os.makedirs(workdir, exist_ok=True)
    dataset = data.load(config.dataset)
    model_config = config.model.to_dict()
    model = models.FlowDensity(models.mintnet(**model_config))
    initial, trained, losses = _train(config, model, dataset)
    _LOG.info("trained %d steps: loss %s", config.train_steps, losses[-1:])
    images = dataset.test.get(np.arange(config.eval_batch_size))["image"]
    x = jnp.asarray(data.dequantize(images, dataset.num_bins, None))
    alphas, num_steps = tuple(config.alphas), tuple(config.num_steps)
    sweeps = {
        "initialisation": sweep(model_config, initial, x, alphas, num_steps),
        f"trained ({config.train_steps} steps)": sweep(
            model_config, trained, x, alphas, num_steps
        ),
    }
    trained_curves = list(sweeps.values())[1]
    results = {
        "dataset": config.dataset,
        "model": model_config,
        "train_loss_first_last": [losses[0], losses[-1]] if losses else [],
        "num_steps": list(num_steps),
        "sweeps": {k: {str(a): e for a, e in v.items()} for k, v in sweeps.items()},
        "steps_to_target_trained": {
            str(a): _first_reaching(e, num_steps, config.target)
            for a, e in trained_curves.items()
        },
        "target": config.target,
        "tolerance_loop_trained": [
            tolerance_loop_report(model_config, trained, x, alpha)
            for alpha in (1.0, 0.9)
        ],
        "timing": timings(
            model_config, trained, x, config.timing_repeats, fixed_steps=max(num_steps)
        ),
        "acceleration_trained": acceleration(model_config, trained, x, config),
    }
    _plot(sweeps, num_steps, config.target, os.path.join(workdir, "inversion.png"))
    with open(os.path.join(workdir, "inversion_table.md"), "w") as f:
        f.write(_table(sweeps, num_steps))
    with open(os.path.join(workdir, "acceleration_table.md"), "w") as f:
        f.write(
            _acceleration_table(
                results["acceleration_trained"],
                config.acceleration_steps,
                config.target,
            )
        )
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    if config.bound_steps:  # written after the rest, which a failure here keeps
        results["krylov_bound_trained"] = bound_report(
            model_config, trained, x, tuple(config.bound_steps)
        )
        with open(os.path.join(workdir, "krylov_bound_table.md"), "w") as f:
            f.write(
                _bound_table(
                    results["krylov_bound_trained"], config.bound_steps, config.target
                )
            )
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    return results


def main(argv=None) -> dict:
    """Parses --config (a file in configs/, then --config.<field>=<value>
    overrides) and --workdir, runs, logs a summary."""
    parser = config_cli.experiment_parser(__doc__, CONFIGS_DIR)
    parser.add_argument("--workdir", default="/tmp/mintnet_inversion")
    args, config = config_cli.parse_experiment_args(
        parser, argv, configs_dir=CONFIGS_DIR
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = run(config, args.workdir)
    _LOG.info("%s", json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
