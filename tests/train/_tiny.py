"""A tiny config and data for fast trainer tests."""

import numpy as np

from jinvnet import data
from jinvnet.train import configs


def tiny_config(**train):
    config = configs.base()
    config.model.factory = "single_scale_glow"
    config.model.kwargs.num_steps = 1
    config.model.kwargs.hidden_channels = 8
    config.train.batch_size = 8
    config.train.init_batch_size = 16
    config.train.eval_batch_size = 16
    config.train.num_samples = 4
    config.train.temperatures = (1.0,)
    config.train.figures = False
    config.optim.warmup_steps = 2
    for key, value in train.items():
        config.train[key] = value
    return config


class Scripted:
    """A source that misbehaves from its `from_call`-th `get` on (1-based)."""

    def __init__(self, source, *, from_call, action):
        self.source, self.from_call, self.action, self.calls = (
            source,
            from_call,
            action,
            0,
        )

    def __len__(self):
        return len(self.source)

    def get(self, indices):
        self.calls += 1
        batch = self.source.get(indices)
        if self.calls >= self.from_call:
            if self.action == "nan":
                batch = {
                    **batch,
                    "image": np.full(batch["image"].shape, np.nan, np.float32),
                }
            else:
                raise KeyboardInterrupt("simulated preemption")
        return batch


def small_digits(num_train=64, num_test=16):
    full = data.digits()
    return data.Dataset(
        name="digits",
        train=data.ArraySource(
            full.train.images[:num_train], full.train.labels[:num_train]
        ),
        test=data.ArraySource(full.test.images[:num_test], full.test.labels[:num_test]),
        image_shape=full.image_shape,
        num_bins=full.num_bins,
        num_classes=10,
    )
