"""Sampling time of multi-scale flows with the sequential and the fast inverses.

For every image shape, model and inverse method the flow is initialised (ActNorm on
a random batch) and the invertible convolutions' parameters are moved by
N(0, param_noise^2) noise, so they are not at their near-identity init. The
sampler z -> g(z) is compiled once (timed separately) and then run on
`num_samples` latents `repeats` times; the best wall time is reported, with
`block_until_ready`. The round-trip error max |f(g(z)) - z| / max |z| of the same
samples checks that the fast inverse is exact.
"""

import json
import math
import os
import time
from typing import Any

import jax
import ml_collections
import numpy as np

from jinvnet import models
from jinvnet.models import multiscale

PRESETS = {
    "glow": multiscale.glow,
    "emerging": multiscale.emerging,
    "cinc": multiscale.cinc,
    "cinc_quad": multiscale.cinc_quad,
}


def _flow(name: str, method: str, num_levels: int, steps: int, hidden: int):
    kwargs = dict(num_levels=num_levels, steps_per_level=steps, hidden_channels=hidden)
    if name != "glow":
        kwargs["inverse_method"] = method
    return PRESETS[name](**kwargs)


def available(name: str) -> bool:
    """Whether this checkout has the preset's convolution and coupling."""
    flow = PRESETS[name]()
    return flow.conv in multiscale.CONVS and flow.coupling in multiscale.COUPLINGS


_CONV_MODULES = ("CInCConv", "EmergingConv", "Conv1x1LU", "FFTConv")


def _perturb(params: Any, config: ml_collections.ConfigDict) -> Any:
    """Adds N(0, param_noise^2) to the invertible convolutions' parameters.

    The convolutions then sit away from their near-identity init (which matters to
    the fast inverse's safety check). Couplings and split priors stay at their
    zero init: random noise on 96 deep affine couplings makes the inverse of random
    latents overflow, and their values do not change the compute time.
    """
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    keys = jax.random.split(jax.random.PRNGKey(config.seed + 1), len(leaves))
    noisy = []
    for (path, leaf), key in zip(leaves, keys):
        names = [str(getattr(k, "key", k)) for k in path]
        if any(name.startswith(_CONV_MODULES) for name in names):
            leaf = leaf + config.param_noise * jax.random.normal(
                key, leaf.shape, leaf.dtype
            )
        noisy.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, noisy)


def _best_time(fn, batches, repeats: int) -> tuple[float, list]:
    """Best wall time of running fn on every batch (after one warm-up pass)."""
    outputs = [fn(batch) for batch in batches]
    jax.block_until_ready(outputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        outputs = [fn(batch) for batch in batches]
        jax.block_until_ready(outputs)
        times.append(time.perf_counter() - start)
    return min(times), outputs


def measure(
    name: str,
    methods: tuple[str, ...],
    shape: tuple,
    num_levels: int,
    steps: int,
    config: ml_collections.ConfigDict,
) -> list[dict[str, Any]]:
    """Times sampling `config.num_samples` images from one model, per inverse method.

    The parameters are drawn once and shared by all methods (the inverse method
    does not change the parameters), and so is the forward pass used to check the
    round trip.
    """
    flows = {
        m: _flow(name, m, num_levels, steps, config.hidden_channels) for m in methods
    }
    flow = flows[methods[0]]
    key_init, key_x, key_z = jax.random.split(jax.random.PRNGKey(config.seed), 3)
    x_init = jax.random.uniform(key_x, (4, *shape), minval=-0.5, maxval=0.5)
    # Eager init: op-by-op dispatch compiles each distinct small op once, far
    # faster than compiling the whole data-dependent init of a deep flow.
    variables = flow.init(key_init, x_init)
    variables = {**variables, "params": _perturb(variables["params"], config)}
    num_batches = math.ceil(config.num_samples / config.batch_size)
    z = config.temperature * jax.random.normal(
        key_z, (num_batches, config.batch_size, *shape)
    )
    forward = jax.jit(lambda v, x: flow.apply(v, x).forward(x))
    rows = []
    for method in methods:

        def sample(v, latent, f=flows[method]):
            return f.apply(v, latent).inverse(latent)

        start = time.perf_counter()
        compiled = jax.jit(sample).lower(variables, z[0]).compile()
        compile_s = time.perf_counter() - start
        sample_s, images = _best_time(
            lambda batch, c=compiled: c(variables, batch), z, config.repeats
        )
        z_back = np.stack([np.asarray(forward(variables, batch)) for batch in images])
        z_np = np.asarray(z)
        rows.append(
            {
                "model": name,
                "method": method,
                "sample_s": sample_s,
                "compile_s": compile_s,
                "round_trip_rel_error": float(
                    np.max(np.abs(z_back - z_np)) / np.max(np.abs(z_np))
                ),
                "nonfinite": int(np.sum(~np.isfinite(np.stack(images)))),
                "params": models.count_params(variables["params"]),
            }
        )
    return rows


def run(config: ml_collections.ConfigDict, output_dir: str | None = None) -> list[dict]:
    """Measures every (shape, model, method); writes results.json if output_dir."""
    rows = []
    for shape_name in config.shape_names:
        shape, num_levels, steps = config.shapes[shape_name]
        for name in config.models:
            if not available(name):
                rows.append({"shape": shape_name, "model": name, "method": "n/a"})
                continue
            methods = config.methods[-1:] if name == "glow" else tuple(config.methods)
            for row in measure(name, methods, tuple(shape), num_levels, steps, config):
                rows.append(
                    {"shape": shape_name, "levels": num_levels, "steps": steps, **row}
                )
            if output_dir:  # after every model, so a long run keeps what it measured
                os.makedirs(output_dir, exist_ok=True)
                with open(os.path.join(output_dir, "results.json"), "w") as f:
                    json.dump({"config": config.to_dict(), "rows": rows}, f, indent=2)
    return rows


def _find(rows: list[dict], shape: str, model: str, method: str) -> dict | None:
    for row in rows:
        if (
            (row["shape"], row["model"]) == (shape, model)
            and (row["method"] == method or model == "glow")
            and "sample_s" in row
        ):
            return row
    return None


def table(rows: list[dict]) -> str:
    """A markdown table: times per method, the fast/scan speedup and the Glow ratio."""
    lines = [
        "| shape | model | params | scan s | fast s | scan / fast | fast / Glow | "
        "compile scan s | compile fast s | round trip (fast) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for shape in dict.fromkeys(row["shape"] for row in rows):
        glow = _find(rows, shape, "glow", "fast")
        for model in dict.fromkeys(
            row["model"] for row in rows if row["shape"] == shape
        ):
            scan, fast = (
                _find(rows, shape, model, "scan"),
                _find(rows, shape, model, "fast"),
            )
            if fast is None:
                lines.append(
                    f"| {shape} | {model} | not available in this checkout |" + " |" * 7
                )
                continue

            def cell(row, key, fmt="{:.3g}"):
                return fmt.format(row[key]) if row else "-"

            speedup = f"{scan['sample_s'] / fast['sample_s']:.1f}x" if scan else "-"
            vs_glow = f"{fast['sample_s'] / glow['sample_s']:.2f}" if glow else "-"
            lines.append(
                f"| {shape} | {model} | {fast['params']:,} | "
                f"{cell(scan, 'sample_s')} | "
                f"{cell(fast, 'sample_s')} | {speedup} | {vs_glow} | "
                f"{cell(scan, 'compile_s')} | {cell(fast, 'compile_s')} | "
                f"{fast['round_trip_rel_error']:.1e} |"
            )
    return "\n".join(lines)
