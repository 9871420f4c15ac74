"""PNG figures of a run: image grids, reconstructions and the loss curve.

Figures are drawn on matplotlib's Agg canvas directly, so no global backend is set.

Example (a doctest):

    >>> import os, tempfile, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> images = np.random.default_rng(0).uniform(-0.5, 0.5, (16, 8, 8, 1))
    >>> save_image_grid(images, os.path.join(folder, "grid.png"), title="samples")
    >>> save_reconstructions(images[:4], images[:4], os.path.join(folder, "rec.png"))
    >>> records = [{"step": s, "split": "train", "loss": 3.0 / s} for s in (1, 2, 3)]
    >>> save_loss_curve(records, os.path.join(folder, "loss.png"))
    >>> sorted(os.listdir(folder))
    ['grid.png', 'loss.png', 'rec.png']
"""

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _to_display(images: np.ndarray) -> np.ndarray:
    """Scaled images in [-1/2, 1/2) to [0, 1], non-finite pixels shown as 0."""
    images = np.nan_to_num(
        np.asarray(images, np.float32) + 0.5, nan=0.0, posinf=1.0, neginf=0.0
    )
    return np.clip(images, 0.0, 1.0)


def _tile(images: np.ndarray, columns: int) -> np.ndarray:
    count, height, width, channels = images.shape
    rows = math.ceil(count / columns)
    canvas = np.ones((rows * (height + 1) + 1, columns * (width + 1) + 1, channels))
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        top, left = 1 + r * (height + 1), 1 + c * (width + 1)
        canvas[top : top + height, left : left + width] = image
    return canvas


def _save(figure: Figure, path: str) -> None:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100, bbox_inches="tight")


def save_image_grid(
    images: np.ndarray, path: str, *, title: str = "", columns: int = 8
) -> None:
    """Saves a grid of images (n, h, w, c) scaled to [-1/2, 1/2)."""
    grid = _tile(_to_display(images), columns)
    figure = Figure(
        figsize=(columns * 0.8, math.ceil(len(images) / columns) * 0.8 + 0.4)
    )
    axes = figure.add_subplot()
    axes.imshow(
        grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1
    )
    axes.set_axis_off()
    axes.set_title(title, fontsize=9)
    _save(figure, path)


def save_reconstructions(
    originals: np.ndarray, reconstructions: np.ndarray, path: str
) -> None:
    """Saves originals (top row) above their reconstructions f^-1(f(x)) (bottom row)."""
    count = len(originals)
    both = np.concatenate([originals, reconstructions])
    error = float(np.max(np.abs(np.asarray(originals) - np.asarray(reconstructions))))
    save_image_grid(
        both,
        path,
        columns=count,
        title=f"top: data, bottom: f^-1(f(x)); max |error| {error:.2e}",
    )


def save_loss_curve(records: list[dict], path: str, *, metric: str = "loss") -> None:
    """Plots `metric` of the metrics log's "train" and "test" records over steps."""
    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    for split, style in (("train", "-"), ("test", "o-")):
        points = [
            (r["step"], r[metric])
            for r in records
            if r.get("split") == split and metric in r
        ]
        if points:
            steps, values = zip(*points)
            axes.plot(steps, values, style, label=split)
    axes.set_xlabel("step")
    axes.set_ylabel(metric.replace("_", " "))
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)
