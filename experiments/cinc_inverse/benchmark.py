"""CInC inverse: time and error of the scan reference against the fast solvers.

Part 1 (timing): for each image size and batch size, a CInC layer with
trained-like kernels (taps N(0, kernel_noise^2), log|diag| N(0, 0.1^2)) inverts
y = f(x) for x ~ N(0, I) with every method in `config.methods`, jit-compiled
once, best of `repeats` wall times with `block_until_ready`. Errors are
max |x_hat - x| / max |x| and max |x_hat - x_scan| / max |x_scan|.

Part 2 (trained kernels): a small two-level CInC flow (squeeze, then
[ActNorm, CInC, affine coupling] x D per level) is fitted by maximum likelihood
with optax Adam (`jinvnet.train.fit`, the density objective: bits/dim of the
17-level pixels) to 16x16 images tiled from 2x2 scikit-learn digits. For every
trained CInC layer at its own shape: min |diag|, the inverse filter's gain
bound and the errors of each method against scan on y = f(x) of standard
normal x; and the whole flow's round trip with each method.
"""

import itertools
import time
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import ml_collections
import optax
from sklearn import datasets

from experiments import _timing
from jinvnet import models, train
from jinvnet.ops import cinc


def _relative(a: jax.Array, b: jax.Array) -> float:
    return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))


def time_inverses(config: ml_collections.ConfigDict) -> list[dict[str, Any]]:
    """Part 1: one row per (shape, batch, method): time, ratio to scan, errors.

    Besides the inverse methods, a "forward" row times the layer's forward
    convolution on the same input: a practical floor for any exact inverse (which
    must at least apply a convolution of the same size), so scan / forward bounds
    the speed-up a faster inverse can reach on this machine.
    """
    rows = []
    key = jax.random.PRNGKey(config.seed)
    for (size, channels), batch in itertools.product(config.shapes, config.batches):
        k_params, k_diag, k_x = jax.random.split(jax.random.fold_in(key, size), 3)
        params = cinc.init(k_params, channels, init_scale=config.kernel_noise)
        params = params._replace(log_diag=0.1 * jax.random.normal(k_diag, (channels,)))
        x = jax.random.normal(k_x, (batch, size, size, channels))
        y, _ = cinc.forward(params, x)
        _, gain = cinc.inverse_filter(params, size, size)
        fns = {
            method: jax.jit(lambda p, v, m=method: cinc.inverse(p, v, method=m)[0])
            for method in config.methods
        }
        solutions, compile_s = {}, {}
        for method, fn in fns.items():
            start = time.perf_counter()
            solutions[method] = jax.block_until_ready(fn(params, y))
            compile_s[method] = time.perf_counter() - start
        fns["forward"] = jax.jit(lambda p, v: cinc.forward(p, v)[0])
        ms = _timing.interleaved_median_ms(fns, params, y, repeats=config.repeats)
        for method in fns:
            x_hat = solutions.get(method)
            rows.append(
                dict(
                    size=size,
                    channels=channels,
                    batch=batch,
                    method=method,
                    ms=ms[method],
                    compile_s=compile_s.get(method, float("nan")),
                    speedup_vs_scan=ms["scan"] / ms[method],
                    error_vs_x=_relative(x_hat, x) if x_hat is not None else None,
                    error_vs_scan=(
                        _relative(x_hat, solutions["scan"])
                        if x_hat is not None
                        else None
                    ),
                    gain=float(gain),
                )
            )
    return rows


def _digits(key: jax.Array, count: int) -> jax.Array:
    """(count, 16, 16, 1) images in [0, 1): 2x2 tiles of dequantised digits."""
    images = jnp.asarray(datasets.load_digits().images, jnp.float32)  # 0..16
    k_pick, k_noise = jax.random.split(key)
    pick = jax.random.randint(k_pick, (count, 4), 0, images.shape[0])
    tiles = images[pick]  # (count, 4, 8, 8)
    grid = tiles.reshape(count, 2, 2, 8, 8).transpose(0, 1, 3, 2, 4)
    grid = grid.reshape(count, 16, 16, 1)
    noise = jax.random.uniform(k_noise, grid.shape)
    return (grid + noise) / 17.0


def _flow(config: ml_collections.ConfigDict, method: str) -> models.FlowDensity:
    layers = []
    for _ in range(2):
        layers.append(models.Squeeze())
        for _ in range(config.steps_per_level):
            layers += [
                models.ActNorm(),
                models.CInCConv(method=method),
                models.AffineCoupling(hidden_channels=config.hidden_channels),
            ]
    return models.FlowDensity(models.Sequential(layers))


def _cinc_layers(tree: Any, prefix: str = "") -> list[tuple[str, cinc.Params]]:
    """(path, params) of every CInC layer in a Flax params tree, in path order."""
    found = []
    for name in sorted(tree):
        node, path = tree[name], f"{prefix}/{name}"
        if not hasattr(node, "keys"):
            continue
        if "kernel" in node:  # the only layer with a "kernel" in this flow
            found.append((path, cinc.Params(node["kernel"], node.get("log_diag"))))
        else:
            found += _cinc_layers(node, path)
    return found


def _digit_batches(key: jax.Array, batch: int) -> Iterator[dict]:
    """Batches {"image": (batch, 16, 16, 1)} of tiled digits, a new draw each."""
    yield {"image": _digits(key, batch)}
    for i in itertools.count():
        yield {"image": _digits(jax.random.fold_in(key, i), batch)}


def train_and_check(config: ml_collections.ConfigDict) -> dict[str, Any]:
    """Part 2: fit the tiny flow, then the inverse errors on its trained kernels.

    The flow is trained by `jinvnet.train.fit` with the density objective: bits/dim
    of the 17-level digit pixels (x = (k + u) / 17).
    """
    key = jax.random.PRNGKey(config.seed)
    _, k_data, k_test = jax.random.split(key, 3)
    result = train.fit(
        _flow(config, "scan"),
        _digit_batches(k_data, config.train_batch),
        objective=train.Objective("density", num_bins=17),
        optimizer=optax.adam(config.learning_rate),
        num_steps=config.train_steps,
        seed=config.seed,
    )
    variables = dict(result.variables)
    params = variables.pop("params")
    constants = variables.get("constants", {})
    losses = result.losses

    layers = []
    for index, (name, layer) in enumerate(_cinc_layers(params)):
        kernel = layer.kernel
        channels = kernel.shape[-1]
        size = 16 // (2 if channels == 4 else 4)
        x = jax.random.normal(
            jax.random.fold_in(k_test, index), (config.batch, size, size, channels)
        )
        y, _ = cinc.forward(layer, x)
        report = cinc.solve(layer, y, method="filter")
        x_scan, _ = cinc.inverse(layer, y, method="scan")
        errors = {
            method: _relative(cinc.inverse(layer, y, method=method)[0], x_scan)
            for method in config.methods
            if method != "scan"
        }
        layers.append(
            dict(
                layer=name,
                shape=(size, size, channels),
                min_abs_diagonal=float(report.min_abs_diagonal),
                gain=float(report.gain_bound),
                used_filter=bool(report.used_filter),
                error_scan_vs_x=_relative(x_scan, x),
                errors_vs_scan=errors,
                max_tap_change=float(jnp.max(jnp.abs(kernel))),
            )
        )

    test = _digits(k_test, config.batch)
    round_trips = {}
    for method in config.methods:
        density = _flow(config, method).apply(
            {"params": params, "constants": constants}, test
        )
        to_data = density.bijector  # f^{-1}: latent -> data
        z = to_data.inverse(test)
        round_trips[method] = _relative(to_data.forward(z), test)
    return dict(
        first_loss_bpd=losses[0] if losses else float("nan"),
        last_loss_bpd=losses[-1] if losses else float("nan"),
        layers=layers,
        flow_round_trip=round_trips,
    )


def _sci(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of part 1."""
    lines = [
        "| size | c | batch | method | ms | x vs scan | rel. err vs x | "
        "rel. err vs scan | compile s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']}x{r['size']} | {r['channels']} | {r['batch']} | "
            f"{r['method']} | {r['ms']:.2f} | {r['speedup_vs_scan']:.1f}x | "
            f"{_sci(r['error_vs_x'])} | {_sci(r['error_vs_scan'])} | "
            f"{r['compile_s']:.1f} |"
        )
    return "\n".join(lines)


def trained_table(report: dict[str, Any]) -> str:
    """Markdown summary of part 2."""
    lines = [
        f"training loss (bits/dim): {report['first_loss_bpd']:.3f} -> "
        f"{report['last_loss_bpd']:.3f}",
        "",
        "| layer shape | min diag | max tap | gain bound | filter used | "
        "scan err vs x | "
        + " | ".join(f"{m} vs scan" for m in report["layers"][0]["errors_vs_scan"])
        + " |",
        "|---|---|---|---|---|---|"
        + "---|" * len(report["layers"][0]["errors_vs_scan"]),
    ]
    for r in report["layers"]:
        h, w, c = r["shape"]
        errors = " | ".join(f"{e:.1e}" for e in r["errors_vs_scan"].values())
        lines.append(
            f"| {h}x{w}x{c} | {r['min_abs_diagonal']:.3f} | "
            f"{r['max_tap_change']:.3f} | {r['gain']:.3g} | {r['used_filter']} | "
            f"{r['error_scan_vs_x']:.1e} | {errors} |"
        )
    trips = ", ".join(f"{m}: {e:.1e}" for m, e in report["flow_round_trip"].items())
    lines += ["", f"whole-flow round trip max|x - g(f(x))| / max|x|: {trips}"]
    return "\n".join(lines)
