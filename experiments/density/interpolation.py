"""Restores a trained flow from its workdir and draws a latent interpolation grid."""

import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jinvnet import data, train
from jinvnet.train import loop, plots


def restore_variables(
    config: ml_collections.ConfigDict, workdir: str, dataset: data.Dataset
) -> tuple[object, dict]:
    """(model, variables) of the newest checkpoint that `train_and_evaluate` wrote."""
    model = train.build_model(config)
    like_x = jnp.zeros((1, *dataset.image_shape), jnp.float32)
    init_key, state_key = jax.random.split(jax.random.PRNGKey(config.seed))
    variables = jax.jit(model.init)(init_key, like_x)
    optimizer = train.make_optimizer(config.optim, config.train.num_steps)
    use_ema = config.optim.ema_decay > 0
    like = train.TrainState.create(variables, optimizer, state_key, ema=use_ema)
    checkpoints = train.Checkpointer(
        os.path.join(os.path.abspath(workdir), "checkpoints"),
        fingerprint=loop.fingerprint(config),
    )
    try:
        state, _ = checkpoints.restore(like)
    finally:
        checkpoints.close()
    return model, state.variables(use_ema)


def interpolation_grid(
    model, variables: dict, images: np.ndarray, num_bins: int, num_points: int
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


def save_interpolations(
    config: ml_collections.ConfigDict, workdir: str, dataset: data.Dataset
) -> str:
    """Writes interpolation.png into `workdir` from the trained model; its path."""
    model, variables = restore_variables(config, workdir, dataset)
    count = 2 * config.interpolation.num_pairs
    images = dataset.test.get(np.arange(count))["image"]
    grid = interpolation_grid(
        model, variables, images, dataset.num_bins, config.interpolation.num_points
    )
    path = os.path.join(workdir, "interpolation.png")
    plots.save_image_grid(
        grid,
        path,
        title="latent interpolation between test images",
        columns=config.interpolation.num_points,
    )
    return path
