"""Trains i-RevNet classifiers / flows with additive or affine blocks and runs the
stability diagnostics of `jinvnet.diagnostics` on them (Behrmann et al. 2021).

Training uses memory-saving backprop, and every `angle_every` steps also standard
backprop, logging the angle between the two gradients (seed 004's figure). After
training, `diagnostics.stability_report` measures reconstruction errors on test
data, OOD inputs, samples and under the invertibility attack, and the local
bi-Lipschitz estimates. Training is the library's `train.fit` with the variant's
loss as the objective (the regularisers need the feature bijector inside the
loss) and a `before_step` hook for the gradient angle.
"""

import json
import os
import time

import jax
import jax.numpy as jnp
import matplotlib
import ml_collections
import numpy as np
import optax

from jinvnet import data, diagnostics, models, regularization, train

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ERROR_KEYS = ("data", "uniform_noise", "constant", "rescaled_x10", "samples", "attack")


def _model(config, coupling: str, memory_saving: bool) -> models.IRevNetClassifier:
    features = models.IRevNet(
        blocks_per_stage=tuple(config.blocks_per_stage),
        hidden_channels=config.hidden_channels,
        block=coupling,
        memory_saving=memory_saving,
    )
    return models.IRevNetClassifier(10, features)


def _loss_fn(model, config, objective: str, regulariser: str):
    def loss_fn(variables, x, labels, key):
        out = model.apply(variables, x)
        if objective == "classifier":
            nf_weight = config.nf_weight if regulariser == "nf" else 0.0
            loss = regularization.hybrid_classifier_loss(
                out.logits, labels, out.latent, out.log_det, nf_weight=nf_weight
            )
        else:
            loss = jnp.mean(regularization.flow_nll_per_dim(out.latent, out.log_det))
        if regulariser == "fd":
            bijector = model.apply(variables, x, method="feature_bijector")
            loss = loss + config.fd_weight * regularization.finite_difference_penalty(
                bijector, x, key, epsilon=config.fd_epsilon
            )
        return loss

    return loss_fn


def _objective(model, config, objective: str, regulariser: str):
    """The variant's loss as a trainer objective: (model, variables, batch, rng)."""
    loss_fn = _loss_fn(model, config, objective, regulariser)

    def terms(_model, variables, batch, rng):
        return {"loss": loss_fn(variables, batch["image"], batch["label"], rng)}

    return terms


def _batches(dataset, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    n = len(dataset.train)
    while True:
        indices = rng.choice(n, batch, replace=False)
        examples = dataset.train.get(indices)
        noise = rng.random(examples["image"].shape, dtype=np.float32)
        x = data.dequantize(examples["image"], dataset.num_bins, noise)
        yield {"image": jnp.asarray(x), "label": jnp.asarray(examples["label"])}


def train_variant(config, dataset, objective, coupling, regulariser) -> dict:
    """Trains one variant; returns its metrics, angle history and stability report.

    Training is `train.fit` with memory-saving backprop; before every
    `angle_every`-th step (and the last) a hook compares its gradient with
    standard backprop's at the same parameters, batch and key. A variant whose
    loss becomes NaN or infinite stops there (`diverged_at_step`), and is
    diagnosed at the parameters of the step that produced it.
    """
    key = jax.random.PRNGKey(config.seed)
    saving_model = _model(config, coupling, memory_saving=True)
    standard_model = _model(config, coupling, memory_saving=False)
    saving_grad, standard_grad = (
        jax.jit(jax.grad(_loss_fn(model, config, objective, regulariser)))
        for model in (saving_model, standard_model)
    )
    angles, last = [], {}

    def before_step(i, variables, batch):
        last["variables"] = variables
        if i % config.angle_every == 0 or i == config.num_steps - 1:
            args = (
                variables,
                batch["image"],
                batch["label"],
                jax.random.fold_in(key, i),
            )
            angle = diagnostics.gradient_angle(saving_grad(*args), standard_grad(*args))
            angles.append((i, float(angle)))

    start, diverged_at = time.perf_counter(), None
    try:
        variables = train.fit(
            saving_model,
            _batches(dataset, config.batch, config.seed),
            objective=_objective(saving_model, config, objective, regulariser),
            optimizer=optax.adam(config.learning_rate),
            num_steps=config.num_steps,
            seed=config.seed,
            before_step=before_step,
        ).variables
    except train.NonFiniteFitLossError as error:
        diverged_at, variables = error.step, last["variables"]
    train_s = time.perf_counter() - start

    test = dataset.test.get(np.arange(config.eval_examples))
    x_test = jnp.asarray(data.dequantize(test["image"], dataset.num_bins, None))
    out = standard_model.apply(variables, x_test)
    bijector = standard_model.apply(variables, x_test, method="feature_bijector")
    report = diagnostics.stability_report(
        bijector,
        x_test,
        jax.random.PRNGKey(config.seed + 1),
        attack_steps=config.attack_steps,
        num_power_iterations=config.power_iterations,
    )
    return {
        "objective": objective,
        "coupling": coupling,
        "regulariser": regulariser,
        "accuracy": float(jnp.mean(jnp.argmax(out.logits, -1) == test["label"])),
        "nll_per_dim": float(
            jnp.mean(regularization.flow_nll_per_dim(out.latent, out.log_det))
        ),
        "train_s": train_s,
        "diverged_at_step": diverged_at,
        "angles": angles,
        "final_angle_deg": angles[-1][1],
        "flags": list(report.flags),
        **report.as_dict(),
    }


def run(config: ml_collections.ConfigDict, output_dir: str) -> list[dict]:
    """Trains every variant; writes results.json, errors.png and angles.png."""
    os.makedirs(output_dir, exist_ok=True)
    dataset = data.load(config.dataset)
    rows = [train_variant(config, dataset, *variant) for variant in config.variants]
    with open(os.path.join(output_dir, "results.json"), "w") as f:
        json.dump({"config": config.to_dict(), "rows": rows}, f, indent=2)
    _plot_errors(rows, os.path.join(output_dir, "errors.png"))
    _plot_angles(rows, os.path.join(output_dir, "angles.png"))
    return rows


def _name(row: dict) -> str:
    return f"{row['objective']}/{row['coupling']}/{row['regulariser']}"


def _plot_errors(rows: list[dict], path: str) -> None:
    figure, axis = plt.subplots(figsize=(max(6, 1.6 * len(rows)), 4))
    width = 0.8 / len(ERROR_KEYS)
    floor = 1e-9
    for k, name in enumerate(ERROR_KEYS):
        values = [row[f"error/{name}"] for row in rows]
        shown = [v if np.isfinite(v) else 1e12 for v in values]
        positions = np.arange(len(rows)) + (k - len(ERROR_KEYS) / 2) * width
        axis.bar(positions, np.maximum(shown, floor), width, label=name)
    axis.set_yscale("log")
    axis.set_xticks(
        np.arange(len(rows)), [_name(r) for r in rows], rotation=20, ha="right"
    )
    axis.set_ylabel("max relative reconstruction error (non-finite at 1e12)")
    axis.axhline(1e-3, color="k", linestyle="--", linewidth=0.8, label="flag threshold")
    axis.legend(fontsize=7, ncol=2)
    axis.set_title("||f^-1(f(x)) - x|| / max(||x||, 1): data, OOD, samples, attack")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _plot_angles(rows: list[dict], path: str) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    for row in rows:
        steps, angles = zip(*row["angles"])
        axis.plot(steps, np.maximum(angles, 1e-8), marker=".", label=_name(row))
    axis.set_yscale("log")
    axis.set(
        xlabel="training step",
        ylabel="angle (degrees)",
        title="Memory-saving vs standard gradient",
    )
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _exploding(row: dict) -> str:
    """ "yes" / "no", or the step the training loss became non-finite at."""
    if row.get("diverged_at_step"):
        return f"diverged (NaN loss) at step {row['diverged_at_step']}"
    return "yes" if row["exploding"] else "no"


def table(rows: list[dict]) -> str:
    """A markdown table of the results."""
    header = (
        "| objective | coupling | reg | acc | NLL/dim | "
        + " | ".join(f"err {k}" for k in ERROR_KEYS)
        + " | Lip f | Lip f^-1 | final angle (deg) | exploding |"
    )
    lines = [header, "|" + "---|" * (9 + len(ERROR_KEYS))]
    for r in rows:
        errors = " | ".join(f"{r[f'error/{k}']:.1e}" for k in ERROR_KEYS)
        lines.append(
            f"| {r['objective']} | {r['coupling']} | {r['regulariser']} "
            f"| {r['accuracy']:.3f} | {r['nll_per_dim']:.3f} | {errors} "
            f"| {r['lipschitz/forward']:.3g} | {r['lipschitz/inverse']:.3g} "
            f"| {r['final_angle_deg']:.2e} | {_exploding(r)} |"
        )
    return "\n".join(lines)
