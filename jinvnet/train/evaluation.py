"""Evaluate and sample a trained run without training again.

`evaluate_run(config, workdir)` restores the best checkpoint that
`train_and_evaluate` wrote (lowest test loss among the steps on disk; EMA
parameters when the run kept them) and returns the test metrics next to the
per-pixel categorical baseline, after writing to `workdir`/eval/:

    samples_T<T>.png    sample grids, one per `train.temperatures` (with the sample
                        check of `sample_check`: non-finite and unstable counts)
    reconstructions.png test images above f^{-1}(f(x))
    interpolation.png   decoded latent interpolations between test images
    summary.json        everything returned

The CLI runs it with `python -m jinvnet.train --workdir=runs/x --eval_only`.


Example (a doctest): train two steps, then evaluate the run from disk.

    >>> import tempfile
    >>> from jinvnet.train import configs, loop
    >>> config = configs.get_config("digits_glow_single")
    >>> config.model.kwargs.num_steps = 1
    >>> config.train.num_steps, config.train.checkpoint_every = 2, 1
    >>> config.train.batch_size, config.train.figures = 16, False
    >>> config.train.sample_check_draws, config.train.num_samples = 16, 16
    >>> workdir = tempfile.mkdtemp()
    >>> _ = loop.train_and_evaluate(config, workdir, progress=False)
    >>> best_step(workdir, [1, 2]) in (1, 2)        # the lower test loss
    True
    >>> dataset = loop.load_dataset(config)
    >>> model, variables, step = restore_variables(config, workdir, dataset, step=2)
    >>> step
    2
    >>> test = dataset.test.get(np.arange(4))["image"]
    >>> interpolation_grid(model, variables, test, dataset.num_bins, 5).shape  # 2 x 5
    (10, 8, 8, 1)
    >>> path = f"{workdir}/interpolation.png"
    >>> save_interpolation(model, variables, dataset, path, pairs=1) == path
    True
    >>> summary = evaluate_run(config, workdir, step=2, interpolation_pairs=1)
    >>> summary["step"], "bits_per_dim" in summary["test"]
    (2, True)
"""

import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jinvnet import data
from jinvnet.train import loop, parallel, plots
from jinvnet.train.checkpoint import CheckpointError
from jinvnet.train.optim import make_optimizer
from jinvnet.train.step import TrainState, make_eval_step


def best_step(workdir: str, steps: list[int]) -> int:
    """The step of `steps` with the lowest test loss in `workdir`/metrics.jsonl.

    Steps without a test record rank last; ties and a missing metrics file fall
    back to the newest step.

    Raises:
      CheckpointError: if `steps` is empty.
    """
    if not steps:
        raise CheckpointError(f"no checkpoint in {workdir}; train first")
    losses = {}
    path = os.path.join(workdir, "metrics.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if record.get("split") == "test" and "loss" in record:
                    losses[record["step"]] = record["loss"]
    return min(steps, key=lambda step: (losses.get(step, np.inf), -step))


def restore_variables(
    config: ml_collections.ConfigDict,
    workdir: str,
    dataset: data.Dataset,
    step: int | None = None,
) -> tuple[nn.Module, dict, int]:
    """(model, variables, step) of a checkpoint `train_and_evaluate` wrote.

    Args:
      config: the config the run was trained with.
      workdir: the run's folder.
      dataset: the run's dataset (for the image shape).
      step: the step to restore; None (default) for `best_step`.

    Raises:
      CheckpointError: no checkpoint, or one written by an incompatible config.
    """
    model = loop.build_model(config)
    like_x = jnp.zeros((1, *dataset.image_shape), jnp.float32)
    init_key, state_key = jax.random.split(jax.random.PRNGKey(config.seed))
    variables = jax.eval_shape(model.init, init_key, like_x)
    variables = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), variables)
    use_ema = config.optim.ema_decay > 0
    optimizer = make_optimizer(config.optim, config.train.num_steps)
    like = TrainState.create(variables, optimizer, state_key, ema=use_ema)
    checkpoints = loop.checkpointer(config, workdir)
    try:
        if step is None:
            step = best_step(workdir, checkpoints.all_steps())
        state, _ = checkpoints.restore(like, step)
    finally:
        checkpoints.close()
    return model, state.variables(use_ema), step


def interpolation_grid(
    model: nn.Module,
    variables: dict,
    images: np.ndarray,
    num_bins: int,
    num_points: int,
) -> np.ndarray:
    """Decodes (1 - a) z_i + a z_j for consecutive image pairs, a in [0, 1].

    Args:
      model: the `FlowDensity` module.
      variables: its variables.
      images: integer pixels (2 * num_pairs, h, w, c).
      num_bins: pixel levels of the dataset.
      num_points: images per row, the two ends included.

    Returns:
      Images (num_pairs * num_points, h, w, c) in [-1/2, 1/2), one pair per row.
    """
    x = jnp.asarray(data.dequantize(images, num_bins, None))
    bijector = model.apply(variables, x).bijector  # latent -> data
    z = bijector.inverse(x)
    start, end = z[0::2], z[1::2]
    alphas = jnp.linspace(0.0, 1.0, num_points).reshape(1, -1, 1, 1, 1)
    path = (1 - alphas) * start[:, None] + alphas * end[:, None]
    decoded = jax.jit(bijector.forward)(path.reshape(-1, *z.shape[1:]))
    return np.asarray(decoded)


def save_interpolation(
    model: nn.Module,
    variables: dict,
    dataset: data.Dataset,
    path: str,
    *,
    pairs: int = 4,
    points: int = 8,
) -> str:
    """Writes the `interpolation_grid` of the first 2 * pairs test images to `path`.

    Returns:
      `path`.
    """
    images = dataset.test.get(np.arange(2 * pairs))["image"]
    grid = interpolation_grid(model, variables, images, dataset.num_bins, points)
    plots.save_image_grid(
        grid, path, title="latent interpolation between test images", columns=points
    )
    return path


def evaluate_run(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    step: int | None = None,
    interpolation_pairs: int = 4,
    interpolation_points: int = 8,
) -> dict:
    """Restores a trained density run, evaluates it and writes samples (module doc).

    Args:
      config: the config the run was trained with; `train.temperatures` and
        `train.sample_check_draws` choose the sample grids and checks.
      workdir: the run's folder.
      step: the checkpoint to restore; None (default) for the best one.
      interpolation_pairs: rows of the interpolation grid (default 4).
      interpolation_points: images per row (default 8).

    Returns:
      The evaluation summary (also written to eval_summary.json).

    Raises:
      CheckpointError: no usable checkpoint in `workdir`.
      ValueError: for a classification run (nothing to sample).
    """
    if config.objective == "classification":
        raise ValueError(
            "evaluate_run: samples need a density or hybrid model, got objective "
            f"{config.objective!r}"
        )
    dataset = loop.load_dataset(config)
    model, variables, step = restore_variables(config, workdir, dataset, step)
    mesh = parallel.data_mesh()
    objective = loop.build_objective(config, dataset.num_bins)
    eval_step = make_eval_step(model, objective, mesh)
    summary = {
        "step": step,
        "dataset": dataset.name,
        "dequantization": config.data.dequantization,  # variational: a bound
        "test": loop.evaluate(
            eval_step, variables, dataset.test, dataset.num_bins, mesh, config
        ),
        "categorical_baseline_bits_per_dim": loop.categorical_baseline(
            dataset, config.train.baseline_max_examples
        ),
    }
    figures = os.path.join(workdir, "eval")
    os.makedirs(figures, exist_ok=True)
    summary.update(loop.sample_figures(model, variables, dataset, config, figures))
    if config.objective == "density":
        save_interpolation(
            model,
            variables,
            dataset,
            os.path.join(figures, "interpolation.png"),
            pairs=interpolation_pairs,
            points=interpolation_points,
        )
    with open(os.path.join(figures, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary
