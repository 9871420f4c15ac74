"""Sampling time of multi-scale flows with the sequential and the fast inverses.

For every image shape, model and inverse method the flow is initialised (ActNorm on
a random batch) and the invertible convolutions' parameters are moved by
N(0, param_noise^2) noise, so they are not at their near-identity init. The
sampler z -> g(z) is compiled once (timed separately). All samplers of one image
shape then run on the same `num_samples` latents in `repeats` interleaved rounds
(`experiments/_timing.py`); the median wall time is reported, with
`block_until_ready`. The round-trip error max |f(g(z)) - z| / max |z| of the same
samples checks that the fast inverse is exact.

Ceiling: a CInC step is Glow's step (ActNorm, LU 1x1, coupling) plus one CInC
convolution, and an emerging step is Glow's with the 1x1 replaced by the emerging
layer (whose 1x1 part has a free inverse). So Glow's time is what these models
would take with a free inverse of their masked convolutions, and
(scan time) / (Glow time) bounds the speed-up over the sequential reference that
any faster inverse can give at the model level, on the machine it was measured on.
"""

import functools
import json
import math
import os
import time
from typing import Any

import jax
import ml_collections
import numpy as np

from experiments import _timing
from jinvnet import models
from jinvnet.models import multiscale

PRESETS = {
    "glow": multiscale.glow,
    "emerging": multiscale.emerging,
    "cinc": multiscale.cinc,
    "cinc_quad": multiscale.cinc_quad,
}


# Presets whose step is Glow's plus a masked convolution (module docstring).
CEILING_MODELS = ("cinc", "emerging")


def _flow(
    name: str,
    method: str,
    num_levels: int,
    steps: int,
    hidden: int,
    scan_steps: bool = False,
):
    kwargs = dict(
        num_levels=num_levels,
        steps_per_level=steps,
        hidden_channels=hidden,
        scan_steps=scan_steps,
    )
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


def _sampler(
    name: str,
    methods: tuple[str, ...],
    shape: tuple,
    num_levels: int,
    steps: int,
    config: ml_collections.ConfigDict,
    z: jax.Array,
) -> tuple[dict[str, dict[str, Any]], Any]:
    """Compiled samplers z -> g(z) of one preset, per inverse method.

    The parameters are drawn once and shared by all methods (the inverse method
    does not change them), and so is the forward pass that checks the round trip.

    Returns:
      ({method: {"fn": compiled sampler of one batch, "compile_s": seconds}},
       forward), where forward(x) = f(x) with the same parameters.
    """
    flows = {
        m: _flow(name, m, num_levels, steps, config.hidden_channels, config.scan_steps)
        for m in methods
    }
    flow = flows[methods[0]]
    key_init, key_x = jax.random.split(jax.random.PRNGKey(config.seed))
    x_init = jax.random.uniform(key_x, (4, *shape), minval=-0.5, maxval=0.5)
    # Eager init: op-by-op dispatch compiles each distinct small op once, far
    # faster than compiling the whole data-dependent init of a deep flow.
    variables = flow.init(key_init, x_init)
    variables = {**variables, "params": _perturb(variables["params"], config)}
    samplers = {}
    for method in methods:

        def sample(v, latent, f=flows[method]):
            return f.apply(v, latent).inverse(latent)

        start = time.perf_counter()
        compiled = jax.jit(sample).lower(variables, z[0]).compile()
        samplers[method] = {
            "fn": functools.partial(compiled, variables),
            "compile_s": time.perf_counter() - start,
            "params": models.count_params(variables["params"]),
        }
    forward = jax.jit(lambda x: flow.apply(variables, x).forward(x))
    return samplers, forward


def measure_shape(
    shape_name: str, config: ml_collections.ConfigDict
) -> list[dict[str, Any]]:
    """One row per (model, method) of one image shape, all timed side by side.

    Every sampler draws the same `num_samples` latents (in batches of
    `batch_size`). After a warm-up round, each of `repeats` rounds times every
    (model, method) once, interleaved, so a slow spell of the machine hits all of
    them alike; the median and the minimum over rounds are reported.
    """
    shape, num_levels, steps = config.shapes[shape_name]
    shape = tuple(shape)
    num_batches = math.ceil(config.num_samples / config.batch_size)
    z = config.temperature * jax.random.normal(
        jax.random.PRNGKey(config.seed + 2), (num_batches, config.batch_size, *shape)
    )
    entries, rows = {}, []
    for name in config.models:
        if not available(name):
            rows.append({"shape": shape_name, "model": name, "method": "n/a"})
            continue
        methods = config.methods[-1:] if name == "glow" else tuple(config.methods)
        samplers, forward = _sampler(name, methods, shape, num_levels, steps, config, z)
        for method, sampler in samplers.items():
            entries[(name, method)] = dict(sampler, forward=forward)
    seconds, samples = _timing.interleaved(
        {
            key: (lambda fn=entry["fn"]: [fn(batch) for batch in z])
            for key, entry in entries.items()
        },
        config.repeats,
    )
    z_np = np.asarray(z)
    for (name, method), entry in entries.items():
        images = samples[(name, method)]  # from the last timed round
        z_back = np.stack([np.asarray(entry["forward"](batch)) for batch in images])
        rows.append(
            {
                "shape": shape_name,
                "levels": num_levels,
                "steps": steps,
                "model": name,
                "method": method,
                "sample_s": float(np.median(seconds[(name, method)])),
                "sample_min_s": float(np.min(seconds[(name, method)])),
                "compile_s": entry["compile_s"],
                "round_trip_rel_error": float(
                    np.max(np.abs(z_back - z_np)) / np.max(np.abs(z_np))
                ),
                "nonfinite": int(np.sum(~np.isfinite(np.stack(images)))),
                "params": entry["params"],
            }
        )
    return rows


def run(config: ml_collections.ConfigDict, output_dir: str | None = None) -> list[dict]:
    """Measures every (shape, model, method); writes results.json if output_dir."""
    rows = []
    for shape_name in config.shape_names:
        rows += measure_shape(shape_name, config)
        if output_dir:  # after every shape, so a long run keeps what it measured
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
    """A markdown table: median time per method, scan / fast, fast / Glow, ceiling.

    One time column per inverse method measured (in the config's order); Glow,
    which has one inverse, shows its time in every column.
    """
    methods = list(
        dict.fromkeys(
            r["method"] for r in rows if r.get("model") != "glow" and "sample_s" in r
        )
    ) or ["fast"]
    lines = [
        "| shape | model | params | "
        + " | ".join(f"{m} s" for m in methods)
        + " | scan / fast | fast / Glow | ceiling: scan / Glow | compile fast s | "
        "round trip (fast) |",
        "|---|---|---|" + "---|" * (len(methods) + 5),
    ]
    for shape in dict.fromkeys(row["shape"] for row in rows):
        glow = _find(rows, shape, "glow", "fast")
        for model in dict.fromkeys(
            row["model"] for row in rows if row["shape"] == shape
        ):
            found = {m: _find(rows, shape, model, m) for m in methods}
            scan, fast = found.get("scan"), found.get("fast")
            if fast is None:
                lines.append(
                    f"| {shape} | {model} | not available in this checkout |"
                    + " |" * (len(methods) + 5)
                )
                continue
            times = " | ".join(
                f"{row['sample_s']:.3g}" if row else "-" for row in found.values()
            )
            speedup = f"{scan['sample_s'] / fast['sample_s']:.1f}x" if scan else "-"
            vs_glow = f"{fast['sample_s'] / glow['sample_s']:.2f}" if glow else "-"
            ceiling = (
                f"{scan['sample_s'] / glow['sample_s']:.2f}x"
                if scan and glow and model in CEILING_MODELS
                else "-"
            )
            lines.append(
                f"| {shape} | {model} | {fast['params']:,} | {times} | {speedup} | "
                f"{vs_glow} | {ceiling} | {fast['compile_s']:.3g} | "
                f"{fast['round_trip_rel_error']:.1e} |"
            )
    return "\n".join(lines)
