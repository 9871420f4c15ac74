"""optax optimiser chains: gradient clipping, Adam/Adamax, warm-up, decay.

Example (a doctest):

    >>> from jinvnet.train import configs
    >>> config = configs.base().optim
    >>> config.warmup_steps, config.decay, config.learning_rate = 10, "cosine", 1e-3
    >>> schedule = learning_rate_schedule(config, num_steps=100)
    >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 100)]   # warm-up, cosine
    [0.0, 0.0005, 0.001, 0.0]
    >>> optimizer = make_optimizer(config, num_steps=100)   # clip, then Adam
    >>> type(optimizer).__name__
    'GradientTransformationExtraArgs'
"""

import ml_collections
import optax

_OPTIMIZERS = {"adam": optax.adam, "adamax": optax.adamax, "adamw": optax.adamw}
OPTIMIZERS = tuple(_OPTIMIZERS)  # the values `optim.name` accepts
DECAYS = ("constant", "cosine")  # the values `optim.decay` accepts


def learning_rate_schedule(
    config: ml_collections.ConfigDict, num_steps: int
) -> optax.Schedule:
    """Linear warm-up from 0 over `warmup_steps`, then constant or cosine decay.

    Args:
      config: the `optim` config (learning_rate, warmup_steps, decay).
      num_steps: total training steps, the end of the cosine decay.
    """
    if config.decay not in DECAYS:
        raise ValueError(
            f"optim.decay must be 'constant' or 'cosine', got {config.decay!r}"
        )
    # optax's warm-up schedules stay at 0 forever when warmup_steps == 0.
    if config.decay == "constant" and config.warmup_steps == 0:
        return optax.constant_schedule(config.learning_rate)
    if config.decay == "constant":
        return optax.warmup_constant_schedule(
            0.0, config.learning_rate, config.warmup_steps
        )
    if config.warmup_steps == 0:
        return optax.cosine_decay_schedule(config.learning_rate, max(num_steps, 1))
    return optax.warmup_cosine_decay_schedule(
        0.0,
        config.learning_rate,
        config.warmup_steps,
        max(num_steps, config.warmup_steps + 1),
    )


def make_optimizer(
    config: ml_collections.ConfigDict, num_steps: int
) -> optax.GradientTransformation:
    """Clip the global gradient norm, then Adam/Adamax/AdamW with the schedule.

    Args:
      config: the `optim` config: name ("adam", "adamax", "adamw"), learning_rate,
        warmup_steps, decay ("constant" or "cosine"), b1, b2, eps,
        grad_clip_norm (0 disables clipping), weight_decay (adamw only).
      num_steps: total training steps.

    Raises:
      ValueError: for an unknown optimiser or decay.
    """
    if config.name not in _OPTIMIZERS:
        raise ValueError(
            f"optim.name must be one of {sorted(_OPTIMIZERS)}, got {config.name!r}"
        )
    schedule = learning_rate_schedule(config, num_steps)
    kwargs = {"b1": config.b1, "b2": config.b2, "eps": config.eps}
    if config.name == "adamw":
        kwargs["weight_decay"] = config.weight_decay
    chain = [_OPTIMIZERS[config.name](schedule, **kwargs)]
    if config.grad_clip_norm > 0:
        chain.insert(0, optax.clip_by_global_norm(config.grad_clip_norm))
    return optax.chain(*chain)
