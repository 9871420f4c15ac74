"""Train-step time of main-job variants, side by side in one process.

Builds each variant's model, objective and optimiser as the trainer does
(`jinvnet.train.loop`), compiles its train step, then times the steps interleaved
(`experiments._timing.interleaved`: a slow spell of the machine hits every variant
alike) and prints the median seconds per step and the ratio to the first variant,
with how many steps of it fit in the main job's 1,800-step wall time.

    python -m experiments.main_job.step_time \
        --variants uniform,variational_dequantization,variational_small
"""

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from experiments._timing import interleaved
from experiments.main_job.ablation import BASE_CONFIG, VARIANTS
from jinvnet import data
from jinvnet.train import config_cli, loop, parallel
from jinvnet.train.optim import make_optimizer
from jinvnet.train.step import TrainState, make_train_step

_MAIN_JOB_STEPS = 1800


def variant_config(variant: str):
    """The ablation's base config with the variant's overrides applied."""
    return config_cli.parse_config(
        [f"--config={BASE_CONFIG}", *VARIANTS[variant]], default=BASE_CONFIG
    )


def stepper(config, dataset: data.Dataset):
    """(compile seconds, a zero-argument function running one train step)."""
    mesh = parallel.data_mesh()
    model = loop.build_model(config)
    objective = loop.build_objective(config, dataset.num_bins)
    optimizer = make_optimizer(config.optim, config.train.num_steps)
    batch = next(
        data.BatchIterator(
            dataset.train,
            batch_size=config.train.batch_size,
            num_bins=dataset.num_bins,
            seed=config.seed,
            pixels=config.data.dequantization == "variational",
        )
    )
    variables = model.init(jax.random.PRNGKey(0), jnp.asarray(batch["image"]))
    state = TrainState.create(
        variables, optimizer, jax.random.PRNGKey(1), ema=config.optim.ema_decay > 0
    )
    state = parallel.replicate(state, mesh)
    step = make_train_step(
        model, objective, optimizer, mesh, ema_decay=config.optim.ema_decay
    )
    sharded = parallel.shard_batch(batch, mesh)
    start = time.perf_counter()
    jax.block_until_ready(step(state, sharded))
    return time.perf_counter() - start, lambda: step(state, sharded)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="uniform,variational_dequantization")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    dataset = data.load("mnist5k")
    compiled, fns = {}, {}
    for variant in variants:
        compiled[variant], fns[variant] = stepper(variant_config(variant), dataset)
    times, _ = interleaved(fns, args.repeats)
    base = float(np.median(times[variants[0]]))
    rows = []
    for variant in variants:
        median = float(np.median(times[variant]))
        rows.append(
            {
                "variant": variant,
                "compile_s": round(compiled[variant], 1),
                "step_s": round(median, 4),
                "ratio": round(median / base, 2),
                "steps_in_main_job_time": int(_MAIN_JOB_STEPS * base / median),
            }
        )
        print(json.dumps(rows[-1]))
    return rows


if __name__ == "__main__":
    main()
