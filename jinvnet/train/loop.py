"""`train_and_evaluate(config, workdir)`: the training loop behind the CLI.

It builds the dataset, the model (a factory in `jinvnet.models`, wrapped in
`models.FlowDensity` for density objectives) and the optimiser from the config,
initialises ActNorm-style layers on a first batch, resumes from the newest
checkpoint in `workdir`, trains data parallel over all devices, evaluates,
checkpoints, and writes metrics (JSONL, and TensorBoard if tensorboardX is
installed), PNG figures and a summary (JSON).

Example (a doctest): a two-step run on the embedded digits, then the pieces it
is built from, which experiments reuse.

    >>> import os, tempfile
    >>> from jinvnet.train import configs, parallel
    >>> from jinvnet.train.optim import make_optimizer
    >>> from jinvnet.train.step import make_eval_step
    >>> config = configs.get_config("digits_glow_single")
    >>> config.model.kwargs.num_steps = 1
    >>> config.train.num_steps, config.train.checkpoint_every = 2, 2
    >>> config.train.batch_size, config.train.figures = 16, False
    >>> workdir = tempfile.mkdtemp()
    >>> summary = train_and_evaluate(config, workdir, progress=False)
    >>> summary["step"], summary["dataset"], "bits_per_dim" in summary["test"]
    (2, 'digits', True)
    >>> sorted(os.listdir(workdir))[:4]
    ['checkpoints', 'config.json', 'loss_curve.png', 'metrics.jsonl']
    >>> dataset = load_dataset(config)
    >>> model = build_model(config)                 # FlowDensity(single_scale_glow)
    >>> parameter_counts(config, dataset.image_shape)["params"] == summary["params"]
    True
    >>> objective = build_objective(config, dataset.num_bins)
    >>> objective.kind, objective.num_bins
    ('density', 17)
    >>> saved = fingerprint(config)                 # what a checkpoint must match
    >>> upgrade_fingerprint(saved) == saved
    True
    >>> mesh = parallel.data_mesh()
    >>> optimizer = make_optimizer(config.optim, 2)
    >>> state = initial_state(config, model, dataset, optimizer, mesh)
    >>> checkpoints = checkpointer(config, workdir)  # the run's, as it resumes
    >>> int(checkpoints.restore(state)[0].step)
    2
    >>> checkpoints.close()
    >>> step_layout_conversion(saved, saved).to_saved(state) is state  # same layout
    True
    >>> metrics = evaluate(make_eval_step(model, objective, mesh),
    ...                    {"params": state.params, **state.constants},
    ...                    dataset.test, dataset.num_bins, mesh, config)
    >>> baseline = categorical_baseline(dataset, 10_000)   # per-pixel categoricals
    >>> bool(metrics["bits_per_dim"] > baseline)    # an untrained flow loses to it
    True
    >>> figures = sample_figures(model, {"params": state.params, **state.constants},
    ...                          dataset, config, workdir)
    >>> sorted(figures)[:2]
    ['inverse_lipschitz', 'reconstruction_max_abs_error']
    >>> issubclass(NonFiniteLossError, FloatingPointError)  # a NaN loss: no save
    True
"""

import dataclasses
import json
import logging
import math
import os
import time
from typing import Callable

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from tqdm import tqdm

from jinvnet import data, models
from jinvnet.train import configs, parallel, plots, sample_check, sample_score
from jinvnet.train.checkpoint import IDENTITY, Checkpointer, LayoutConversion
from jinvnet.train.config_validation import validate_config
from jinvnet.train.metrics_log import MetricsLog
from jinvnet.train.objectives import Objective
from jinvnet.train.optim import make_optimizer
from jinvnet.train.step import TrainState, make_eval_step, make_train_step

_LOG = logging.getLogger(__name__)


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss or parameter; nothing was saved."""


def build_model(config: ml_collections.ConfigDict) -> nn.Module:
    """The config's model, wrapped in `FlowDensity` for density objectives.

    `config.model.factory` names a callable in `jinvnet.models` ("MultiScaleFlow")
    or one of its submodules ("multiscale.cinc"); it is called with
    `config.model.kwargs`. With `data.dequantization = "variational"` the density is
    wrapped in `models.VariationalDequantization` with a `models.Dequantizer`.

    Raises:
      ValueError: if the factory is not in `jinvnet.models`.
    """
    factory = configs.resolve_factory(config.model.factory)
    if factory is None:
        raise ValueError(
            f"model.factory {config.model.factory!r} is not in jinvnet.models; "
            f"available: {', '.join(sorted(models.__all__))} or <submodule>.<name>"
        )
    module = factory(**config.model.kwargs.to_dict())
    if config.objective == "density":
        density = models.FlowDensity(module)
        if config.data.dequantization == "variational":
            dequantizer = models.Dequantizer(
                hidden_channels=config.data.dequantizer_hidden_channels,
                num_steps=config.data.dequantizer_steps,
            )
            return models.VariationalDequantization(density, dequantizer)
        return density
    return module


def parameter_counts(
    config: ml_collections.ConfigDict, image_shape: tuple[int, int, int]
) -> dict[str, int]:
    """Stored and free parameter counts of the config's model, without compute.

    From shapes alone (`jax.eval_shape`) for images of `image_shape`; "free"
    leaves out the entries masks hold at zero (`models.free_param_count`).
    """
    model = build_model(config)
    x = jax.ShapeDtypeStruct((1, *image_shape), jnp.float32)
    params = jax.eval_shape(model.init, jax.random.PRNGKey(0), x)["params"]
    return {
        "params": models.count_params(params),
        "free_params": models.free_param_count(model, x),
    }


def build_objective(config: ml_collections.ConfigDict, num_bins: int) -> Objective:
    """The config's loss: objective kind, hybrid weight and dequantisation."""
    return Objective(
        config.objective,
        num_bins,
        config.hybrid_weight,
        dequantization=config.data.dequantization,
    )


# How convolution kernels are stored in checkpoints (`ops`: HWIO for every op).
KERNEL_LAYOUT = "HWIO"
# Before 2026-12-03 the CInC and emerging kernels were (row, column, out, in).
_OLD_CAUSAL_LAYOUT = "(row, column, out, in) for CInC and emerging kernels"


def _uses_causal_convolutions(model: dict) -> bool:
    """Whether a saved model description has CInC or emerging convolutions."""
    kwargs = model.get("kwargs") or {}
    names = f"{model.get('factory', '')} {kwargs.get('conv', '')}".lower()
    return "cinc" in names or "emerging" in names


def upgrade_fingerprint(saved: dict) -> dict:
    """A checkpoint's saved fingerprint as this version writes it.

    Checkpoints from before 2026-12-03 list only the model kwargs their config set;
    the factory's defaults fill in the rest. (A default changed since would go
    unnoticed for those; fingerprints written now list every argument.) They have
    no `kernel_layout`: a model with CInC or emerging convolutions then stored
    their kernels (row, column, out, in), which this version would read transposed,
    so the comparison refuses it; other models' kernels were HWIO already.

    Fingerprints from before 2026-12-04 have no `scan_steps`: their flows wrote
    the steps out, which is `scan_steps=False` (the default since is True).
    """
    saved = dict(saved)
    model = saved.get("model")
    if isinstance(model, dict):
        model = _written_out_if_unstated(model)
        saved["model"] = configs.full_model_fields(model)
        if "kernel_layout" not in saved:
            old = _uses_causal_convolutions(model)
            saved["kernel_layout"] = _OLD_CAUSAL_LAYOUT if old else KERNEL_LAYOUT
    return saved


def _written_out_if_unstated(model: dict) -> dict:
    """A saved model description with `scan_steps=False` if it does not say."""
    kwargs = dict(model.get("kwargs") or {})
    if kwargs.get("scan_steps") is not None:
        return model
    try:
        takes_it = "scan_steps" in configs.model_kwargs(model.get("factory", ""), {})
    except ValueError:
        return model
    return {**model, "kwargs": {**kwargs, "scan_steps": False}} if takes_it else model


# Model arguments that change how the steps are stored or looped, not the values.
_STEP_LAYOUT_FIELDS = ("scan_steps", "scan_unroll")


def step_layout_conversion(saved: dict, current: dict) -> LayoutConversion | None:
    """How a checkpoint with another step layout restores into this run (or None).

    Two (upgraded) fingerprints that differ only in the model's `scan_steps` /
    `scan_unroll` describe the same flow, its parameters (and Adam moments, EMA)
    stored as written-out steps or stacked for the scan: the conversion is
    `models.unstack_steps` / `stack_steps`. Any other difference: None.
    """

    def without_layout(fingerprint: dict) -> tuple[dict, bool]:
        fingerprint = json.loads(json.dumps(fingerprint))
        kwargs = (fingerprint.get("model") or {}).get("kwargs") or {}
        scanned = bool(kwargs.get("scan_steps", False))
        for name in _STEP_LAYOUT_FIELDS:
            kwargs.pop(name, None)
        return fingerprint, scanned

    (saved, saved_scanned), (current, scanned) = map(without_layout, (saved, current))
    if saved != current:
        return None
    if saved_scanned == scanned:
        return IDENTITY
    if scanned:
        return LayoutConversion(models.unstack_steps, models.stack_steps)
    return LayoutConversion(models.stack_steps, models.unstack_steps)


def checkpointer(
    config: ml_collections.ConfigDict, workdir: str, **options
) -> Checkpointer:
    """The `Checkpointer` of a run in `workdir` (`options`: keep_last, keep_best).

    It reads older fingerprints as this version writes them (`upgrade_fingerprint`)
    and restores checkpoints of either step layout (`step_layout_conversion`).
    """
    return Checkpointer(
        os.path.join(os.path.abspath(workdir), "checkpoints"),
        fingerprint=fingerprint(config),
        upgrade_saved=upgrade_fingerprint,
        convert_saved=step_layout_conversion,
        **options,
    )


def load_dataset(config: ml_collections.ConfigDict) -> data.Dataset:
    """The config's dataset (TFDS options are ignored by the embedded ones)."""
    return data.load(
        config.data.name,
        data_dir=config.data.data_dir or None,
        image_size=config.data.image_size or None,
        num_bits=config.data.num_bits,
    )


def fingerprint(config: ml_collections.ConfigDict) -> dict:
    """What a checkpoint must share with the run restoring it.

    The dequantiser's fields enter only when it is variational, so runs from before
    they existed still resume. The model's kwargs are listed in full (every
    argument of the factory, `configs.full_model_fields`), whether the config
    lists them all or not.
    """
    data_fields = config.data.to_dict()
    if data_fields.get("dequantization", "uniform") == "uniform":
        for key in ("dequantization", "dequantizer_hidden_channels"):
            data_fields.pop(key, None)
        data_fields.pop("dequantizer_steps", None)
    return {
        "objective": config.objective,
        "data": data_fields,
        "model": configs.full_model_fields(config.model.to_dict()),
        "optimizer": config.optim.name,
        "ema": config.optim.ema_decay > 0,
        "kernel_layout": KERNEL_LAYOUT,
    }


def _all_finite(tree) -> bool:
    leaves = jax.tree_util.tree_leaves(jax.device_get(tree))
    return all(bool(np.all(np.isfinite(leaf))) for leaf in leaves)


def evaluate(
    eval_step, variables: dict, source: data.Source, num_bins: int, mesh, config
) -> dict[str, float]:
    """Means of every metric over the test split (or its first eval_max_batches)."""
    totals = {}
    batches = data.eval_batches(
        source,
        batch_size=config.train.eval_batch_size,
        num_bins=num_bins,
        seed=config.seed,
        pixels=config.data.dequantization == "variational",
    )
    for i, batch in enumerate(batches):
        if config.train.eval_max_batches and i >= config.train.eval_max_batches:
            break
        sums = jax.device_get(eval_step(variables, parallel.shard_batch(batch, mesh)))
        for key, value in sums.items():
            totals[key] = totals.get(key, 0.0) + float(value)
    count = totals.pop("count")
    return {key: value / count for key, value in totals.items()}


def sample_figures(
    model: nn.Module, variables: dict, dataset: data.Dataset, config, workdir: str
) -> dict:
    """Sample checks and grids at each temperature, reconstructions, inverse stability.

    Draws `train.sample_check_draws` samples per temperature (`sample_check`), warns
    when any is non-finite or fails the round trip, and returns the counts, the
    reconstruction error of test images and the inverse Lipschitz estimate. With
    `train.sample_score` and a classifier shipped for the dataset
    (`sample_score.packaged`), every draw is also classified, and the test images'
    own score is the reference ("sample_score_test_*").
    """
    test_batch = next(
        data.eval_batches(
            dataset.test,
            batch_size=8,
            num_bins=dataset.num_bins,
            process_index=0,
            process_count=1,
        )
    )
    x = jnp.asarray(test_batch["image"][:8])
    like = jnp.zeros((1, *dataset.image_shape), jnp.float32)  # only its shape matters
    dist = model.apply(variables, like)
    dist = dist[0] if config.objective == "hybrid" else dist
    flow = dist.bijector  # latent to data; the check wants data to latent
    flow = flow.bijector if isinstance(flow, distrax.Inverse) else distrax.Inverse(flow)
    latent_shape = dist.distribution.event_shape

    stats = {}
    classifier = (
        sample_score.packaged(dataset.name, dataset.image_shape, dataset.num_bins)
        if config.train.get("sample_score", True)
        else None
    )
    if classifier is not None:
        test_pixels = dataset.test.get(np.arange(len(dataset.test)))["image"]
        reference = sample_score.score(classifier.pixel_probabilities(test_pixels))
        stats.update(reference.as_dict("sample_score_test"))
    key = jax.random.PRNGKey(config.seed + 2)
    for temperature in config.train.temperatures:
        check = sample_check.check_samples(
            flow,
            latent_shape,
            key,
            temperature,
            num_draws=max(config.train.sample_check_draws, config.train.num_samples),
            keep=config.train.num_samples,
            classify=classifier.sample_probabilities if classifier else None,
        )
        stats.update(check.as_dict())
        if check.warning():
            _LOG.warning("samples: %s", check.warning())
        plots.save_image_grid(
            check.images,
            os.path.join(workdir, f"samples_T{temperature}.png"),
            title=f"samples, temperature {temperature}",
        )
    recon = np.asarray(jax.jit(lambda x: flow.inverse(flow.forward(x)))(x))
    stats["reconstruction_max_abs_error"] = float(np.max(np.abs(recon - np.asarray(x))))
    stats["inverse_lipschitz"] = sample_check.inverse_lipschitz(
        flow, x, jax.random.PRNGKey(config.seed + 3)
    )
    plots.save_reconstructions(
        np.asarray(x), recon, os.path.join(workdir, "reconstructions.png")
    )
    return stats


def categorical_baseline(dataset: data.Dataset, limit: int) -> float:
    """Test bits/dim of independent per-pixel categoricals fitted on the train split."""

    def images(source):
        return source.get(np.arange(min(len(source), limit)))["image"]

    return data.categorical_baseline_bits_per_dim(
        images(dataset.train), images(dataset.test), dataset.num_bins
    )


@dataclasses.dataclass
class _Run:
    """What a training run holds between its set-up and its summary."""

    config: ml_collections.ConfigDict
    workdir: str
    dataset: data.Dataset
    model: nn.Module
    mesh: jax.sharding.Mesh
    state: TrainState
    train_iter: data.BatchIterator
    train_step: Callable
    eval_step: Callable
    checkpoints: Checkpointer
    metrics_log: MetricsLog

    @property
    def use_ema(self) -> bool:
        return self.config.optim.ema_decay > 0

    def evaluate(self, state: TrainState) -> dict:
        """Test metrics of the state's (EMA) parameters."""
        return evaluate(
            self.eval_step,
            state.variables(use_ema=self.use_ema),
            self.dataset.test,
            self.dataset.num_bins,
            self.mesh,
            self.config,
        )


def initial_state(
    config: ml_collections.ConfigDict,
    model: nn.Module,
    dataset: data.Dataset,
    optimizer: optax.GradientTransformation,
    mesh: jax.sharding.Mesh,
) -> TrainState:
    """The train state of the model initialised on one batch of the train split.

    The batch has `train.init_batch_size` images (ActNorm's data-dependent
    start); the state is replicated over the mesh.
    """
    init_batch = next(
        data.BatchIterator(
            dataset.train,
            batch_size=min(config.train.init_batch_size, len(dataset.train)),
            num_bins=dataset.num_bins,
            seed=config.seed + 1,
            process_index=0,
            process_count=1,
        )
    )
    init_key, state_key = jax.random.split(jax.random.PRNGKey(config.seed))
    variables = model.init(init_key, jnp.asarray(init_batch["image"]))
    state = TrainState.create(
        variables, optimizer, state_key, ema=config.optim.ema_decay > 0
    )
    return parallel.replicate(state, mesh)


def _set_up(config, workdir, dataset, model) -> _Run:
    """Validates, writes config.json, builds everything and resumes if it can."""
    validate_config(config)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        f.write(config.to_json_best_effort(indent=2))  # for --eval_only
    mesh = parallel.data_mesh()
    dataset = dataset or load_dataset(config)
    model = model or build_model(config)
    objective = build_objective(config, dataset.num_bins)
    optimizer = make_optimizer(config.optim, config.train.num_steps)
    train_iter = data.BatchIterator(
        dataset.train,
        batch_size=config.train.batch_size,
        num_bins=dataset.num_bins,
        seed=config.seed,
        pixels=config.data.dequantization == "variational",
    )
    state = initial_state(config, model, dataset, optimizer, mesh)
    checkpoints = checkpointer(
        config,
        workdir,
        keep_last=config.train.keep_last,
        keep_best=config.train.keep_best,
    )
    if checkpoints.latest_step() is not None:
        state, position = checkpoints.restore(state)
        train_iter.restore(position)
        state = parallel.replicate(state, mesh)
        _LOG.info("resumed from step %d in %s", int(state.step), checkpoints.directory)
    start = int(jax.device_get(state.step))
    return _Run(
        config=config,
        workdir=workdir,
        dataset=dataset,
        model=model,
        mesh=mesh,
        state=state,
        train_iter=train_iter,
        train_step=make_train_step(
            model, objective, optimizer, mesh, ema_decay=config.optim.ema_decay
        ),
        eval_step=make_eval_step(model, objective, mesh),
        checkpoints=checkpoints,
        metrics_log=MetricsLog(
            workdir, tensorboard=config.train.tensorboard, resume_step=start
        ),
    )


def _non_finite_loss(loss: float, step: int, last_good, directory) -> Exception:
    where = (
        f"step {last_good} in {directory} (intact; training resumes from it if you "
        "run again)"
        if last_good is not None
        else "none (no checkpoint was written yet)"
    )
    return NonFiniteLossError(
        f"loss is {loss} at step {step}; training stopped and this state was not "
        f"saved. Last good checkpoint: {where}. Try a lower optim.learning_rate, "
        "more optim.warmup_steps or optim.grad_clip_norm."
    )


def _run_steps(run: _Run, bar) -> tuple[TrainState, int | None, dict | None]:
    """Steps from the state's step to num_steps; evaluates and saves on schedule.

    Returns:
      (state, last saved step, test metrics of the final step if this call
      evaluated it, else None).
    """
    config, checkpoints, state = run.config, run.checkpoints, run.state
    last_good = checkpoints.latest_step()
    test_metrics = None
    num_steps = config.train.num_steps
    for step in range(int(jax.device_get(state.step)) + 1, num_steps + 1):
        new_state, metrics = run.train_step(
            state, parallel.shard_batch(next(run.train_iter), run.mesh)
        )
        metrics = jax.device_get(metrics)
        if not math.isfinite(float(metrics["loss"])):
            raise _non_finite_loss(
                float(metrics["loss"]), step, last_good, checkpoints.directory
            )
        state = new_state
        bar.update(1)
        bar.set_postfix(
            {
                k: f"{float(metrics[k]):.4f}"
                for k in ("loss", "bits_per_dim", "accuracy")
                if k in metrics
            }
        )
        if step % config.train.log_every == 0 or step == num_steps:
            run.metrics_log.write(step, "train", metrics)
        if step % config.train.checkpoint_every == 0 or step == num_steps:
            test_metrics = run.evaluate(state)
            run.metrics_log.write(step, "test", test_metrics)
            if not (_all_finite(state.params) and math.isfinite(test_metrics["loss"])):
                raise NonFiniteLossError(
                    f"non-finite parameters or test loss at step {step}; not saved. "
                    f"Last good checkpoint: step {last_good} in "
                    f"{checkpoints.directory}."
                )
            checkpoints.save(state, run.train_iter.position, test_metrics)
            last_good = step
    return state, last_good, test_metrics  # a run to the end evaluates num_steps


def _summary(run: _Run, state: TrainState, last_good, final) -> dict:
    """The run's summary: test metrics, sizes, and (densities) samples and figures."""
    config, dataset = run.config, run.dataset
    if final is None:  # resumed at num_steps: the loop evaluated nothing
        final = run.evaluate(state)
    summary = {
        "step": int(jax.device_get(state.step)),
        "objective": config.objective,
        "dequantization": config.data.dequantization,  # variational: bits/dim a bound
        "dataset": dataset.name,
        "num_devices": run.mesh.devices.size,
        "test": final,
        "params": int(
            sum(leaf.size for leaf in jax.tree_util.tree_leaves(state.params))
        ),
        "checkpoint": os.path.join(run.checkpoints.directory, str(last_good)),
    }
    if config.objective != "classification" and config.train.figures:
        summary["categorical_baseline_bits_per_dim"] = categorical_baseline(
            dataset, config.train.baseline_max_examples
        )
        summary.update(
            sample_figures(
                run.model, state.variables(run.use_ema), dataset, config, run.workdir
            )
        )
    plots.save_loss_curve(
        run.metrics_log.records,
        os.path.join(run.workdir, "loss_curve.png"),
        metric="bits_per_dim" if config.objective == "density" else "loss",
    )
    return summary


def train_and_evaluate(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    dataset: data.Dataset | None = None,
    model: nn.Module | None = None,
    progress: bool = True,
) -> dict:
    """Trains (resuming from `workdir`), evaluates and writes the run's artefacts.

    Args:
      config: a config from `jinvnet.train.configs`.
      workdir: output folder: checkpoints/, metrics.jsonl, *.png, summary.json.
      dataset: overrides the config's dataset (e.g. mock data in tests).
      model: overrides the config's model; it must fit `config.objective`.
      progress: show a tqdm progress bar.

    Returns:
      The summary: final step, test metrics (evaluated once, at the final step),
      parameter count, the categorical baseline, sample statistics and wall_s,
      the seconds this call took (set-up, training and evaluation, figures
      included).

    Raises:
      ValueError: for a bad config value (`validate_config`), before anything runs.
      NonFiniteLossError: on a NaN/inf loss or parameter; names the step and the
        last good checkpoint, which is left intact.
      CheckpointError: if no checkpoint in the workdir can be restored (a damaged
        newest one is moved aside, with a warning, when an older one restores).
      CheckpointSaveError: at the first checkpoint that cannot be written; training
        stops there.
    """
    start_time = time.monotonic()
    run = _set_up(config, workdir, dataset, model)
    bar = tqdm(
        total=config.train.num_steps,
        initial=int(jax.device_get(run.state.step)),
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        state, last_good, final = _run_steps(run, bar)
    finally:  # also on Ctrl-C or an error: finish pending saves, never leave them half
        bar.close()
        run.checkpoints.close()
        run.metrics_log.close()
    summary = _summary(run, state, last_good, final)
    summary["wall_s"] = round(time.monotonic() - start_time, 3)
    with open(os.path.join(workdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary
