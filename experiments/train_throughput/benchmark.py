"""Images per second of one data-parallel training step, for each flow preset."""

import json
import os
import time

import jax
import ml_collections
import numpy as np
import optax

from jinvnet import models
from jinvnet.models import multiscale
from jinvnet.train import Objective, TrainState, data_mesh, make_train_step, shard_batch


def _throughput(name: str, config: ml_collections.ConfigDict) -> dict:
    flow = getattr(multiscale, name)(
        num_levels=config.num_levels,
        steps_per_level=config.steps_per_level,
        hidden_channels=config.hidden_channels,
    )
    model = models.FlowDensity(flow)
    rng = np.random.default_rng(config.seed)
    shape = (config.batch_size, *config.image_shape)
    batch = {"image": rng.uniform(-0.5, 0.5, shape).astype(np.float32)}
    variables = model.init(jax.random.PRNGKey(config.seed), batch["image"])
    optimizer = optax.adam(1e-4)
    mesh = data_mesh()
    step = make_train_step(model, Objective("density", 256), optimizer, mesh)
    state = TrainState.create(variables, optimizer, jax.random.PRNGKey(1), ema=False)
    sharded = shard_batch(batch, mesh)
    start = time.perf_counter()
    state, metrics = step(state, sharded)
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(config.steps):
        state, metrics = step(state, sharded)
    jax.block_until_ready((state, metrics))
    seconds = (time.perf_counter() - start) / config.steps
    return {
        "model": name,
        "params": models.count_params(variables["params"]),
        "first_step_s": compile_s,
        "step_s": seconds,
        "images_per_s": config.batch_size / seconds,
        "loss_finite": bool(np.isfinite(float(metrics["loss"]))),
    }


def run(config: ml_collections.ConfigDict, output_dir: str | None) -> list[dict]:
    """Times every preset in one run; adds each one's ratio to the first."""
    rows = []
    for name in config.models:
        try:
            rows.append(_throughput(name, config))
        except Exception as error:  # a preset that is not implemented yet
            rows.append({"model": name, "error": f"{type(error).__name__}: {error}"})
    reference = next((r for r in rows if "images_per_s" in r), None)
    for row in rows:
        if reference and "images_per_s" in row:
            ratio = row["images_per_s"] / reference["images_per_s"]
            row["ratio_to_" + reference["model"]] = ratio
    meta = {
        "device": str(jax.devices()[0]),
        "num_devices": jax.device_count(),
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
        "| model | params | images/s | ratio | first step (s) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            error = row["error"][:80]
            lines.append(f"| {row['model']} | - | not run: {error} | - | - |")
            continue
        ratio = next(v for k, v in row.items() if k.startswith("ratio_to_"))
        lines.append(
            f"| {row['model']} | {row['params']} | {row['images_per_s']:.1f} | "
            f"{ratio:.2f} | {row['first_step_s']:.1f} |"
        )
    return "\n".join(lines)
