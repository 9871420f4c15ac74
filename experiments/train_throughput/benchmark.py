"""Images per second of one data-parallel training step, for each flow preset.

Besides the whole step (the trainer's `make_train_step`: forward, log-det,
backward, Adam), each row times the forward pass alone (the loss) and the gradient
(forward + backward), every one compiled separately and timed in interleaved rounds
(medians): backward = gradient - forward, update = step - gradient. With
`peer_python` set (a virtualenv holding torch and normflows), the peer's Glow at the
same shape is timed by `peer_normflows.py` in a subprocess, after ours, and added as
a row.
"""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import jax
import ml_collections
import numpy as np
import optax
from jax.sharding import Mesh

from experiments._timing import interleaved
from jinvnet import models
from jinvnet.models import multiscale
from jinvnet.train import (
    Objective,
    TrainState,
    data_mesh,
    make_train_step,
    parallel,
    shard_batch,
)
from jinvnet.train.step import mean_loss


def _peer(config: ml_collections.ConfigDict) -> dict:
    """The peer's row, measured in its own virtualenv by peer_normflows.py."""
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "peer.json")
        command = [
            config.peer_python,
            "-m",
            "experiments.train_throughput.peer_normflows",
            "--output",
            path,
            "--levels",
            str(config.num_levels),
            "--blocks",
            str(config.steps_per_level),
            "--hidden",
            str(config.hidden_channels),
            "--batch_size",
            str(config.batch_size),
            "--steps",
            str(config.steps),
            "--threads",
            str(config.peer_threads or os.cpu_count()),
        ]
        subprocess.run(command, check=True, cwd=root)
        with open(path) as f:
            return json.load(f)


def scan_options(variant: str) -> dict:
    """A variant's steps layout: "unrolled" (written out), "scan" or "scanN"
    (`MultiScaleFlow.scan_steps`, N steps per loop iteration)."""
    if variant == "unrolled":
        return {"scan_steps": False}
    if variant == "scan" or (variant[:4] == "scan" and variant[4:].isdigit()):
        return {"scan_steps": True, "scan_unroll": int(variant[4:] or 1)}
    raise ValueError(f"unknown variant {variant!r}: unrolled, scan or scanN")


# A model's latent distribution: "split_prior" (the presets' default: each split
# half whitened by a Gaussian conditioned on the kept half, then N(0, I)) or
# "learned" (a learned diagonal Gaussian per latent entry, no split prior:
# normflows' multi-scale Glow, whose Glow has our glow preset's parameter count).
BASES = {
    "split_prior": {},
    "learned": {"split_prior": False, "learned_base": True},
}


def base_options(base: str) -> dict:
    """The preset keyword arguments of a `BASES` name."""
    if base not in BASES:
        raise ValueError(f"unknown base {base!r}: one of {sorted(BASES)}")
    return BASES[base]


def _row_name(name: str, variant: str, base: str) -> str:
    details = [] if variant == "unrolled" else [variant]
    details += [] if base == "split_prior" else [f"{base} base"]
    return f"{name} ({', '.join(details)})" if details else name


class Setup(NamedTuple):
    """What a timed train step needs: a density of the flow on a batch of noise."""

    model: models.FlowDensity
    objective: Objective
    optimizer: optax.GradientTransformation
    mesh: Mesh
    state: TrainState  # at step 0, not yet replicated over the mesh
    batch: dict  # {"image": uniform noise in [-1/2, 1/2)}, split over the mesh


def use_devices(config: ml_collections.ConfigDict) -> None:
    """Splits the CPU into the config's `cpu_devices` devices, or when that is 0
    into `parallel.default_cpu_devices` for its batch size (one per core that the
    batch divides). Call before JAX starts its backend."""
    if config.cpu_devices:
        parallel.set_cpu_devices(config.cpu_devices)
    else:
        parallel.default_cpu_devices([config.batch_size])


def build_flow(name: str, config: ml_collections.ConfigDict, **options):
    """The `multiscale` preset `name` at the config's levels, steps per level and
    coupling width; `options` (e.g. `scan_options`, `base_options`, or another
    `steps_per_level`) go to it too and win."""
    shape = {
        "num_levels": config.num_levels,
        "steps_per_level": config.steps_per_level,
        "hidden_channels": config.hidden_channels,
    }
    return getattr(multiscale, name)(**{**shape, **options})


def setup(flow, shape: tuple, seed: int) -> Setup:
    """A `Setup` for `flow` on a batch of the given (n, H, W, C) shape."""
    model = models.FlowDensity(flow)
    rng = np.random.default_rng(seed)
    batch = {"image": rng.uniform(-0.5, 0.5, shape).astype(np.float32)}
    variables = model.init(jax.random.PRNGKey(seed), batch["image"])
    optimizer, mesh = optax.adam(1e-4), data_mesh()
    state = TrainState.create(variables, optimizer, jax.random.PRNGKey(1), ema=False)
    return Setup(
        model,
        Objective("density", 256),
        optimizer,
        mesh,
        state,
        shard_batch(batch, mesh),
    )


def _throughput(
    name: str, config: ml_collections.ConfigDict, variant: str, base: str
) -> dict:
    flow = build_flow(name, config, **scan_options(variant), **base_options(base))
    shape = (config.batch_size, *config.image_shape)
    model, objective, optimizer, mesh, state, sharded = setup(flow, shape, config.seed)
    step = make_train_step(model, objective, optimizer, mesh)
    start = time.perf_counter()
    state, metrics = step(state, sharded)
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - start

    # The batch is an argument, not a closed-over constant: a constant would be
    # placed on one device, and with several devices the forward and gradient
    # would then not run sharded like the step (they timed slower than the step).
    def loss(params, batch):
        return mean_loss(model, objective, state.constants, batch, state.rng)(params)

    forward = jax.jit(lambda params, batch: loss(params, batch)[0])
    gradient = jax.jit(jax.grad(loss, has_aux=True))
    # Interleaved rounds, medians (experiments._timing): a slow spell of the
    # machine hits the three alike. Every call starts from the same state.
    seconds, results = interleaved(
        {
            "forward": lambda: forward(state.params, sharded),
            "gradient": lambda: gradient(state.params, sharded),
            "step": lambda: step(state, sharded),
        },
        repeats=config.steps,
    )
    forward_s, gradient_s, step_s = (
        float(np.median(seconds[k])) for k in ("forward", "gradient", "step")
    )
    metrics = results["step"][1]
    return {
        "model": _row_name(name, variant, base),
        "params": models.count_params(state.params),
        "first_step_s": compile_s,
        "forward_s": forward_s,
        "gradient_s": gradient_s,
        "step_s": step_s,
        "images_per_s": config.batch_size / step_s,
        "loss_finite": bool(np.isfinite(float(metrics["loss"]))),
    }


def run(config: ml_collections.ConfigDict, output_dir: str | None) -> list[dict]:
    """Times every preset in one run; adds each one's ratio to the first."""
    use_devices(config)
    rows = []
    for name in config.models:
        for variant in config.variants:
            for base in config.bases:
                try:
                    rows.append(_throughput(name, config, variant, base))
                except Exception as error:  # a preset that is not implemented yet
                    message = f"{type(error).__name__}: {error}"
                    model = _row_name(name, variant, base)
                    rows.append({"model": model, "error": message})
    if config.get("peer_python"):
        rows.append(_peer(config))
    reference = next((r for r in rows if "images_per_s" in r), None)
    for row in rows:
        if reference and "images_per_s" in row:
            ratio = row["images_per_s"] / reference["images_per_s"]
            row["ratio_to_" + reference["model"]] = ratio
    meta = {
        "device": str(jax.devices()[0]),
        "num_devices": jax.device_count(),
        # glibc's tunables, read at process start (`jinvnet.train.huge_pages`).
        "glibc_tunables": os.environ.get("GLIBC_TUNABLES"),
        **config.to_dict(),
    }
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "results.json"), "w") as f:
            json.dump({"config": meta, "rows": rows}, f, indent=2)
    return rows


def table(rows: list[dict]) -> str:
    """A markdown table of the rows."""
    lines = [
        "| model | params | images/s | ratio | forward ms | backward ms | "
        "update ms | step ms | first step (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            error = row["error"][:80]
            lines.append(f"| {row['model']} | - | not run: {error} |" + " - |" * 6)
            continue
        ratio = next(v for k, v in row.items() if k.startswith("ratio_to_"))
        forward, gradient, step = (
            row[k] for k in ("forward_s", "gradient_s", "step_s")
        )
        first = row.get("first_step_s")
        lines.append(
            f"| {row['model']} | {row['params']:,} | {row['images_per_s']:.1f} | "
            f"{ratio:.2f} | {1e3 * forward:.0f} | {1e3 * (gradient - forward):.0f} | "
            f"{1e3 * (step - gradient):.0f} | {1e3 * step:.0f} | "
            f"{'-' if first is None else f'{first:.1f}'} |"
        )
    return "\n".join(lines)
