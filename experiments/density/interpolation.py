"""Restores a trained flow from its workdir and draws a latent interpolation grid."""

import os

import ml_collections
import numpy as np

from jinvnet import data
from jinvnet.train import evaluation, plots


def save_interpolations(
    config: ml_collections.ConfigDict, workdir: str, dataset: data.Dataset
) -> str:
    """Writes interpolation.png into `workdir` from the trained model; its path."""
    model, variables, _ = evaluation.restore_variables(config, workdir, dataset)
    count = 2 * config.interpolation.num_pairs
    images = dataset.test.get(np.arange(count))["image"]
    grid = evaluation.interpolation_grid(
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
