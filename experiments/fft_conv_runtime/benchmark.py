"""Runtime of the Fourier-domain convolution against the dense route (seed 000, Fig. 2).

For each (channels c, size m) the batch is (batch, m, m, c) with a k x k kernel. Timed
side by side in one process, after compilation, interleaved (every round calls each
path once, so a slow spell of the machine hits all paths alike) and summarised by the
median over `repeats` rounds (the minimum of millisecond calls on a 2-core machine
proved to jump by 2x between runs; the median of interleaved rounds did not):

- "forward": the FFT forward (`ops.fft_conv.forward`, y only); "forward_lax": the same
  map with `lax.conv_general_dilated` on a wrap-padded input (reference);
- "inverse": the FFT inverse (y only), one c x c solve per rfft2 frequency;
- "log_det_<method>" for the complex, lifting and rfft paths;
- "inverse_log_det": the FFT inverse returning x and the (rfft) log-det;
- dense route, only where n = c m^2 <= dense_max_dim: "dense_forward" (J x with the
  n x n Jacobian J prebuilt), "dense_log_det" (build J by `jax.jacfwd`, `slogdet`),
  "dense_inverse" (build J, `solve` for the batch), "dense_inverse_log_det" (build J,
  one LU for both). The dense timings include building J, since J changes with the
  kernel at every training step.
"""

import json
import os
from typing import Callable

import jax
import jax.numpy as jnp
import matplotlib
import ml_collections

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments import _timing  # noqa: E402
from jinvnet.ops import fft_conv  # noqa: E402


def _dense_jacobian(params: fft_conv.Params, shape: tuple[int, int, int]) -> jax.Array:
    n = shape[0] * shape[1] * shape[2]

    def flat_forward(v):
        return fft_conv.forward(params, v.reshape(shape))[0].reshape(-1)

    return jax.jacfwd(flat_forward)(jnp.zeros((n,), params.kernel.dtype))


def _dense_fns(shape: tuple[int, int, int]) -> dict[str, Callable]:
    def log_det(params, y):
        del y
        return jnp.linalg.slogdet(_dense_jacobian(params, shape))[1]

    def inverse(params, y):
        jacobian = _dense_jacobian(params, shape)
        return jnp.linalg.solve(jacobian, y.reshape(y.shape[0], -1).T).T

    def inverse_log_det(params, y):
        lu, pivots = jax.scipy.linalg.lu_factor(_dense_jacobian(params, shape))
        x = jax.scipy.linalg.lu_solve((lu, pivots), y.reshape(y.shape[0], -1).T).T
        return x, jnp.sum(jnp.log(jnp.abs(jnp.diag(lu))))

    return {
        "dense_log_det": jax.jit(log_det),
        "dense_inverse": jax.jit(inverse),
        "dense_inverse_log_det": jax.jit(inverse_log_det),
    }


def _fft_fns(kernel_size: int) -> dict[str, Callable]:
    pads = ((kernel_size - 1) // 2, kernel_size // 2)

    def forward_lax(params, x):
        padded = jnp.pad(x, ((0, 0), pads, pads, (0, 0)), mode="wrap")
        return jax.lax.conv_general_dilated(
            padded,
            params.kernel,
            (1, 1),
            "VALID",
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )

    fns = {
        "forward": lambda p, x: fft_conv.forward(p, x)[0],
        "forward_lax": forward_lax,
        "inverse": lambda p, y: fft_conv.inverse(p, y)[0],
        "inverse_log_det": fft_conv.inverse,
    }
    for method in fft_conv.LOG_DET_METHODS:
        fns[f"log_det_{method}"] = lambda p, x, m=method: fft_conv.log_det(
            p, x.shape[-3], x.shape[-2], m
        )
    return {name: jax.jit(fn) for name, fn in fns.items()}


def measure(
    channels: int,
    size: int,
    *,
    batch: int,
    kernel_size: int,
    repeats: int,
    dense_max_dim: int,
) -> dict[str, float]:
    """Times every path for one (channels, size); returns milliseconds by name."""
    k_params, k_x = jax.random.split(jax.random.PRNGKey(0))
    params = fft_conv.init(k_params, channels, kernel_size=kernel_size, init_scale=0.1)
    x = jax.random.normal(k_x, (batch, size, size, channels))
    results = _timing.interleaved_median_ms(
        _fft_fns(kernel_size), params, x, repeats=repeats
    )
    n = channels * size * size
    if n <= dense_max_dim:
        shape = (size, size, channels)
        jacobian = jax.jit(_dense_jacobian, static_argnums=1)(params, shape)
        dense_forward = jax.jit(lambda j, v: v.reshape(v.shape[0], -1) @ j.T)
        results.update(
            _timing.interleaved_median_ms(
                {"dense_forward": dense_forward}, jacobian, x, repeats=repeats
            )
        )
        results.update(
            _timing.interleaved_median_ms(
                _dense_fns(shape), params, x, repeats=max(1, repeats // 10)
            )
        )
    return results


def _ratios(row: dict[str, float]) -> dict[str, float]:
    ratios = {
        "complex/rfft": row["log_det_complex"] / row["log_det_rfft"],
        "lifting/rfft": row["log_det_lifting"] / row["log_det_rfft"],
    }
    if "dense_inverse_log_det" in row:
        ratios["dense/fft inverse+log_det"] = (
            row["dense_inverse_log_det"] / row["inverse_log_det"]
        )
        ratios["dense/fft log_det"] = row["dense_log_det"] / row["log_det_rfft"]
        ratios["dense/fft inverse"] = row["dense_inverse"] / row["inverse"]
    return ratios


def _format_table(rows: list[dict]) -> str:
    columns = [
        "forward",
        "forward_lax",
        "inverse",
        "log_det_complex",
        "log_det_lifting",
        "log_det_rfft",
        "inverse_log_det",
        "dense_log_det",
        "dense_inverse",
        "dense_inverse_log_det",
    ]
    ratio_names = [
        "complex/rfft",
        "lifting/rfft",
        "dense/fft log_det",
        "dense/fft inverse",
        "dense/fft inverse+log_det",
    ]
    header = "| c | m | " + " | ".join(columns + ratio_names) + " |"
    lines = [header, "|" + "---|" * (2 + len(columns) + len(ratio_names))]
    for row in rows:
        cells = [str(row["channels"]), str(row["size"])]
        cells += [f"{row['ms'][c]:.3g}" if c in row["ms"] else "-" for c in columns]
        cells += [
            f"{row['ratios'][r]:.1f}x" if r in row["ratios"] else "-"
            for r in ratio_names
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plot(rows: list[dict], config: ml_collections.ConfigDict, path: str) -> None:
    names = [
        "forward",
        "inverse",
        "log_det_complex",
        "log_det_lifting",
        "log_det_rfft",
        "dense_log_det",
        "dense_inverse",
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sweeps = (
        (axes[0], [r for r in rows if r["sweep"] == "channels"], "channels", "c"),
        (axes[1], [r for r in rows if r["sweep"] == "size"], "size", "m"),
    )
    for ax, sweep, key, label in sweeps:
        for name in names:
            points = [(r[key], r["ms"][name]) for r in sweep if name in r["ms"]]
            if points:
                style = "--" if name.startswith("dense") else "-"
                ax.plot(*zip(*points), style, marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("ms per call")
    axes[0].set_title(f"m = {config.channel_sweep_size}, batch {config.batch}")
    axes[1].set_title(f"c = {config.size_sweep_channels}, batch {config.batch}")
    axes[1].legend(fontsize=7)
    fig.suptitle(
        f"circular {config.kernel_size}x{config.kernel_size} conv on "
        f"{jax.default_backend()}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(config: ml_collections.ConfigDict, output_dir: str) -> list[dict]:
    """Runs both sweeps, writes results.json and runtime.png; returns the rows."""
    os.makedirs(output_dir, exist_ok=True)
    points = [("channels", c, config.channel_sweep_size) for c in config.channels]
    points += [("size", config.size_sweep_channels, m) for m in config.sizes]
    rows, measured = [], {}
    for sweep, channels, size in points:
        if (channels, size) not in measured:
            measured[channels, size] = measure(
                channels,
                size,
                batch=config.batch,
                kernel_size=config.kernel_size,
                repeats=config.repeats,
                dense_max_dim=config.dense_max_dim,
            )
        ms = measured[channels, size]
        rows.append(
            {
                "sweep": sweep,
                "channels": channels,
                "size": size,
                "ms": ms,
                "ratios": _ratios(ms),
            }
        )
    with open(os.path.join(output_dir, "results.json"), "w") as f:
        json.dump({"config": config.to_dict(), "rows": rows}, f, indent=1)
    _plot(rows, config, os.path.join(output_dir, "runtime.png"))
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a markdown table (milliseconds and ratios)."""
    return _format_table(rows)
