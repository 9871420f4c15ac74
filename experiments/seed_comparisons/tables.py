"""The seeds' comparisons on real MNIST digits (mnist5k) at CPU scale.

Four tables, each a list of rows; a row is one model trained with every seed of
its table by the shared trainer (`jinvnet.train.train_and_evaluate`), on a config
derived from a named config of `jinvnet.train.configs` (or, for the path to
invertibility, from `experiments.path_to_invertibility`'s own config mapping):

- "cinc": seed 001 Table 3 analogue, Glow / Emerging / CInC / CInC + quad at D = 4
  and D = 8 steps per level, the README main job's recipe (`mnist5k_cinc`);
- "mintnet": seed 002, MintNet density (bits/dim) and classifier (accuracy);
- "path": seed 000 Table 1, the path to invertibility (accuracy per rung);
- "iconvnet_flow": seed 000, the fully convolutional FFT flow (bits/dim).

Every bits/dim is reported next to the per-pixel categorical baseline of the same
split, every accuracy next to the majority class, and every row next to the
seed's own numbers (`SEED_NUMBERS`), which come from other datasets and far
larger budgets: compare orderings, not values.
"""

import hashlib
import json
import logging
import os
import time
from typing import Callable, NamedTuple

import jax
import ml_collections
import numpy as np

from experiments.path_to_invertibility import train as path_train
from jinvnet import data, train
from jinvnet.models import iconvnet
from jinvnet.train import (
    build_model,
    build_objective,
    configs,
    data_mesh,
    loop,
    make_eval_step,
    make_optimizer,
    make_train_step,
    shard_batch,
    train_and_evaluate,
)

_LOG = logging.getLogger(__name__)

TABLES = ("cinc", "mintnet", "path", "iconvnet_flow")

# The seeds' numbers, as printed in the seed documents (docs: /work/shared/seeds).
# Keys of the inner dicts are our row keys. None of them is on mnist5k.
SEED_NUMBERS = {
    "cinc": {
        # Seed 001 (Nagar et al., "CInC Flow", UAI 2021), Table 3 "Performance with
        # smaller networks": test bits/dim, L = 3 levels, D steps per level, 600
        # epochs. It has only Emerging and "Ours" (the CInC 3x3 convolution). The
        # extracted table's last depth reads "0": a typo for 8 (the rows pair D = 4
        # and D = 8 for each dataset).
        "table_3_cifar10": {
            "emerging_d4": 3.52,
            "cinc_d4": 3.49,
            "emerging_d8": 3.47,
            "cinc_d8": 3.46,
        },
        "table_3_imagenet32": {
            "emerging_d4": 4.30,
            "cinc_d4": 4.25,
            "emerging_d8": 4.20,
            "cinc_d8": 4.18,
        },
        # Seed 001 Table 2: CIFAR-10 test bits/dim of the full models (L = 3,
        # D = 32, 500 epochs); the only table with all four models.
        "table_2_cifar10_d32": {
            "glow": 3.35,
            "emerging": 3.34,
            "cinc": 3.3498,
            "cinc_quad": 3.3471,
        },
    },
    "mintnet": {
        # Seed 002 (Song, Meng & Ermon, "MintNet", NeurIPS 2019 poster), MNIST.
        # Table 2: test bits/dim of density models.
        "table_2_mnist_bits_per_dim": {
            "MintNet": 0.98,
            "Glow": 1.05,
            "Real NVP": 1.06,
            "i-ResNet": 1.06,
            "FFJORD": 0.99,
            "MAF": 1.89,
            "NICE": 4.36,
        },
        # Table 1: classification accuracy (%), MNIST test (train: 100 for both).
        "table_1_mnist_test_accuracy": {"MintNet": 99.6, "ResNet": 99.6},
    },
    "path": {
        # Seed 000 (Finzi et al., "Invertible Convolutional Networks", 2019) Table
        # 1: CIFAR-10 test accuracy (%) per rung. Stored with the rungs in
        # `jinvnet.models.iconvnet.PATH_TO_INVERTIBILITY` (`Rung.paper_accuracy`).
        "table_1_cifar10_accuracy": {
            rung.change: rung.paper_accuracy for rung in iconvnet.PATH_TO_INVERTIBILITY
        },
    },
    "iconvnet_flow": {
        # Seed 000 Table 2: CIFAR-10 test bits/dim.
        "table_2_cifar10_bits_per_dim": {
            "i-ConvNet": 4.61,
            "Glow": 3.35,
            "RealNVP": 3.49,
            "i-ResNet": 3.45,
            "MADE": 5.67,
        },
    },
}

_LABELS = {
    "glow": "Glow",
    "emerging": "Emerging",
    "cinc": "CInC",
    "cinc_quad": "CInC + quad",
}
_METRIC_NAMES = {"bits_per_dim": "test bits/dim", "accuracy": "test accuracy (%)"}
_LOWER_IS_BETTER = {"bits_per_dim": True, "accuracy": False}


class Row(NamedTuple):
    """One line of a table: a model trained once per seed.

    Attributes:
      key: folder name and JSON key, e.g. "cinc_d8".
      label: the name shown in the markdown.
      group: rows are ranked within their group (e.g. "D=4", "density").
      metric: "bits_per_dim" or "accuracy" (in %).
      make: seed -> the trainer's config for this row.
      seed_numbers: the seed's number for this row, by reference column.
      reference: key of the row whose mean the "Diff" column is taken against.
      shared: run folder shared between tables (identical configs run once).
    """

    key: str
    label: str
    group: str
    metric: str
    make: Callable[[int], ml_collections.ConfigDict]
    seed_numbers: dict[str, float]
    reference: str | None = None
    shared: bool = False


class Table(NamedTuple):
    """The rows of one comparison and how it is labelled."""

    name: str
    title: str
    group_name: str
    seeds: tuple[int, ...]
    num_steps: int
    rows: list[Row]
    notes: list[str]


def _trainer_config(
    base: str,
    *,
    dataset: str,
    seed: int,
    num_steps: int,
    factory: str | None = None,
    kwargs: dict | None = None,
    replace_kwargs: bool = False,
    trainer: ml_collections.ConfigDict | None = None,
) -> ml_collections.ConfigDict:
    """The named config with this dataset, model, seed and length.

    Figures and sample checks are off and the test split is evaluated once, at
    the end (`checkpoint_every = num_steps`). `kwargs` update the base's model
    kwargs, or replace them with `replace_kwargs`; `trainer` updates any other
    section (smoke settings).
    """
    config = configs.get_config(base)
    config.data.name = dataset
    config.seed = seed
    if factory is not None:
        config.model.factory = factory
    if kwargs is not None:
        if replace_kwargs:
            config.model.kwargs = ml_collections.ConfigDict(dict(kwargs))
        else:
            config.model.kwargs.update(dict(kwargs))
    configs.complete_model_kwargs(config)  # every factory argument, as named configs
    config.train.num_steps = num_steps
    config.train.checkpoint_every = num_steps
    config.train.figures = False
    if trainer is not None:
        config.update(trainer.to_dict())
    return config


def _cinc_table(config: ml_collections.ConfigDict) -> Table:
    table = config.cinc
    numbers = SEED_NUMBERS["cinc"]
    rows = []
    for depth in table.steps_per_level:
        for factory in table.factories:
            key = f"{factory}_d{depth}"

            def make(seed, factory=factory, depth=depth):
                return _trainer_config(
                    table.base,
                    dataset=config.dataset,
                    seed=seed,
                    num_steps=table.num_steps,
                    factory=f"multiscale.{factory}",
                    kwargs={**table.model.to_dict(), "steps_per_level": depth},
                    trainer=table.trainer,
                )

            seed_numbers = {
                "seed 001 T3 CIFAR-10": numbers["table_3_cifar10"].get(key),
                "seed 001 T3 ImageNet32": numbers["table_3_imagenet32"].get(key),
                "seed 001 T2 CIFAR-10 D=32": numbers["table_2_cifar10_d32"].get(
                    factory
                ),
            }
            rows.append(
                Row(
                    key,
                    _LABELS.get(factory, factory),
                    f"D={depth}",
                    "bits_per_dim",
                    make,
                    {k: v for k, v in seed_numbers.items() if v is not None},
                )
            )
    first = rows[0].make(table.seeds[0])
    kw, optim = first.model.kwargs, first.optim
    notes = [
        f"Recipe: `jinvnet.train.configs.get_config({table.base!r})` (the README "
        f"main job: {kw.num_levels} levels, width {kw.hidden_channels}, logit "
        f"alpha {kw.logit_alpha}, coupling_min_scale {kw.coupling_min_scale}, "
        f"{optim.name} at {optim.learning_rate:g} with {optim.warmup_steps} warm-up "
        f"steps and {optim.decay} decay, EMA {optim.ema_decay:g}, batch "
        f"{first.train.batch_size}), changing only the factory, steps_per_level, "
        "seed and train.num_steps; test split evaluated once at the end.",
        "Seed 001's numbers are CIFAR-10 / ImageNet32 with L=3 and 600 epochs "
        "(Table 3) or D=32 and 500 epochs (Table 2); Table 3 has no Glow and no "
        "quad coupling. Seed 001 itself is not consistent on Emerging vs CInC: "
        "Table 3 ranks CInC first, Table 2 Emerging.",
    ]
    return Table(
        "cinc",
        "Seed 001 Table 3 analogue: multi-scale flows on mnist5k",
        "D",
        tuple(table.seeds),
        table.num_steps,
        rows,
        notes,
    )


def _comparator_row(config, table, seed_label: str, seed_value: float) -> Row:
    """Glow with the same preprocessing as the compared flow (no logit transform)."""
    spec = table.comparator

    def make(seed):
        return _trainer_config(
            spec.base,
            dataset=config.dataset,
            seed=seed,
            num_steps=table.num_steps,
            factory=spec.factory,
            kwargs=spec.kwargs.to_dict(),
            replace_kwargs=True,
            trainer=table.trainer,
        )

    kwargs = spec.kwargs
    return Row(
        spec.key,
        f"Glow (L={kwargs.num_levels}, D={kwargs.steps_per_level}, width "
        f"{kwargs.hidden_channels}, no logit)",
        "density",
        "bits_per_dim",
        make,
        {seed_label: seed_value},
        shared=True,
    )


def _mintnet_table(config: ml_collections.ConfigDict) -> Table:
    table = config.mintnet
    numbers = SEED_NUMBERS["mintnet"]
    density_label = "seed 002 T2 MNIST"

    def density(seed):
        return _trainer_config(
            table.density_base,
            dataset=config.dataset,
            seed=seed,
            num_steps=table.num_steps,
            factory="mintnet",
            kwargs=table.density.to_dict(),
            replace_kwargs=True,
            trainer=table.trainer,
        )

    def classifier(seed):
        return _trainer_config(
            table.classifier_base,
            dataset=config.dataset,
            seed=seed,
            num_steps=table.num_steps,
            factory="MintNetClassifier",
            kwargs=table.classifier.to_dict(),
            replace_kwargs=True,
            trainer=table.classifier_trainer,
        )

    d, c = table.density, table.classifier
    rows = [
        Row(
            "mintnet_density",
            f"MintNet flow ({d.num_blocks} blocks, K={d.num_groups}, "
            f"{d.num_squeezes} squeezes)",
            "density",
            "bits_per_dim",
            density,
            {density_label: numbers["table_2_mnist_bits_per_dim"]["MintNet"]},
        ),
        _comparator_row(
            config, table, density_label, numbers["table_2_mnist_bits_per_dim"]["Glow"]
        ),
        Row(
            "mintnet_classifier",
            f"MintNet classifier ({c.num_blocks} blocks, {c.num_squeezes} squeezes)",
            "classification",
            "accuracy",
            classifier,
            {
                "seed 002 T1 MNIST test": numbers["table_1_mnist_test_accuracy"][
                    "MintNet"
                ]
            },
        ),
    ]
    notes = [
        f"Density: `get_config({table.density_base!r})` with the factory "
        "`mintnet`; classifier: "
        f"`get_config({table.classifier_base!r})` on {config.dataset}; both "
        f"{table.num_steps} steps, test split evaluated once at the end.",
        "`jinvnet.models.mintnet` has no logit transform, so the MintNet flow sees "
        "uniformly dequantised pixels; the Glow row is the same trainer recipe "
        "without the logit transform, for a like-for-like ordering (Glow with the "
        "logit: the 'cinc' table).",
        "Seed 002: MNIST (60,000 training images), 20 blocks K=45 (density), 19 "
        "blocks with batch normalisation (classifier).",
    ]
    return Table(
        "mintnet",
        "Seed 002 (MintNet): density and classification on mnist5k",
        "task",
        tuple(table.seeds),
        table.num_steps,
        rows,
        notes,
    )


def _path_table(config: ml_collections.ConfigDict) -> Table:
    table = config.path
    experiment = table.experiment
    numbers = SEED_NUMBERS["path"]["table_1_cifar10_accuracy"]
    rows = []
    for index in experiment.rungs:
        rung = iconvnet.PATH_TO_INVERTIBILITY[index]

        def make(seed, rung=rung):
            run = ml_collections.ConfigDict(experiment.to_dict())
            run.seed = seed
            run.data.name = config.dataset
            return path_train.rung_config(run, rung)

        rows.append(
            Row(
                f"rung_{index}_{rung.downsampling}",
                rung.change,
                "classification",
                "accuracy",
                make,
                {"seed 000 T1 CIFAR-10": numbers[rung.change]},
                reference=(
                    None
                    if rung.reference == index
                    else f"rung_{rung.reference}_"
                    f"{iconvnet.PATH_TO_INVERTIBILITY[rung.reference].downsampling}"
                ),
            )
        )
    m = experiment.model
    notes = [
        "Configs: `experiments/path_to_invertibility/configs/mnist5k.py` through "
        "that experiment's `train.rung_config` (IConvNet, "
        f"{m.num_stages} stages x {m.layers_per_stage} convolutions, batch "
        f"{experiment.train.batch_size}, {experiment.train.num_steps} steps).",
        "Diff: to the row the seed's table modifies (its 'Diff' column). Seed 000's "
        "network is a 4M-parameter CIFAR-10 convnet; ours keeps the dimension "
        "through the invertible downsamplings ("
        + " -> ".join(str(4**s) for s in range(m.num_stages + 1))
        + " channels on MNIST).",
    ]
    return Table(
        "path",
        "Seed 000 Table 1 analogue: the path to invertibility on mnist5k",
        "task",
        tuple(table.seeds),
        experiment.train.num_steps,
        rows,
        notes,
    )


def _iconvnet_flow_table(config: ml_collections.ConfigDict) -> Table:
    table = config.iconvnet_flow
    numbers = SEED_NUMBERS["iconvnet_flow"]["table_2_cifar10_bits_per_dim"]
    label = "seed 000 T2 CIFAR-10"

    def make(seed):
        return _trainer_config(
            table.base,
            dataset=config.dataset,
            seed=seed,
            num_steps=table.num_steps,
            factory="iconvnet_flow",
            kwargs=table.kwargs.to_dict(),
            replace_kwargs=True,
            trainer=table.trainer,
        )

    k = table.kwargs
    rows = [
        Row(
            "iconvnet_flow",
            f"i-ConvNet FFT flow ({k.num_levels} levels x {k.steps_per_level} steps)",
            "density",
            "bits_per_dim",
            make,
            {label: numbers["i-ConvNet"]},
        ),
        _comparator_row(config, table, label, numbers["Glow"]),
    ]
    notes = [
        f"`get_config({table.base!r})` with the factory `iconvnet_flow` (its own "
        f"kwargs), {table.num_steps} steps, test split evaluated once at the end. "
        "`iconvnet_flow` has no logit transform; the Glow row is the same recipe "
        "without it.",
        "Seed 000's flow is a CIFAR-10 model whose size the seed text does not "
        "give (`cifar10_iconvnet_flow` uses the factory's defaults, 3 levels x 4 "
        "steps).",
    ]
    return Table(
        "iconvnet_flow",
        "Seed 000: the fully convolutional FFT flow on mnist5k",
        "task",
        tuple(table.seeds),
        table.num_steps,
        rows,
        notes,
    )


_BUILDERS = {
    "cinc": _cinc_table,
    "mintnet": _mintnet_table,
    "path": _path_table,
    "iconvnet_flow": _iconvnet_flow_table,
}


def build(config: ml_collections.ConfigDict, name: str) -> Table:
    """The table `name` (one of `TABLES`) of an experiment config.

    Raises:
      ValueError: for an unknown table name.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}")
    return _BUILDERS[name](config)


def baselines(dataset: data.Dataset, limit: int = 10000) -> dict[str, float]:
    """Trivial baselines on the test split.

    Returns:
      "categorical_bits_per_dim": independent per-pixel categoricals fitted on the
      train split (what summary.json reports when figures are on);
      "majority_accuracy": the most frequent training label's share of the test
      labels, in % (below chance, "chance_accuracy", when the classes are
      balanced overall, as in mnist5k: the train split's most frequent class is
      then the test split's rarest).
    """
    result = {"categorical_bits_per_dim": loop.categorical_baseline(dataset, limit)}
    if dataset.num_classes:
        train_labels = dataset.train.get(np.arange(len(dataset.train)))["label"]
        test_labels = dataset.test.get(np.arange(len(dataset.test)))["label"]
        majority = np.bincount(train_labels, minlength=dataset.num_classes).argmax()
        result["majority_class"] = int(majority)
        result["majority_accuracy"] = 100.0 * float(np.mean(test_labels == majority))
        result["chance_accuracy"] = 100.0 / dataset.num_classes
    return result


# Trainer fields that cannot change a table run's result (tables train with figures
# off): left out of the run's identity, so that adding one keeps finished runs.
_NOT_RESULT_FIELDS = ("sample_score",)


def _config_json(config: ml_collections.ConfigDict) -> dict:
    """The config as JSON, without `_NOT_RESULT_FIELDS` (the run's identity)."""
    fields = json.loads(config.to_json_best_effort())
    for name in _NOT_RESULT_FIELDS:
        fields["train"].pop(name, None)
    return fields


def run_once(
    row: Row, seed: int, rundir: str, dataset: data.Dataset, *, progress: bool = False
) -> dict:
    """Trains one row with one seed (or reuses a finished run of the same config).

    Writes `result.json` into `rundir`: the test metric, the parameter count, the
    wall time of `train_and_evaluate` (compilation and evaluation included) and
    the trainer's config; a rerun with the same config reads it back.
    """
    config = row.make(seed)
    path = os.path.join(rundir, "result.json")
    if os.path.exists(path):
        with open(path) as f:
            result = json.load(f)
        if result.get("config") == _config_json(config):
            _LOG.info("%s seed %d: reusing %s", row.key, seed, path)
            return result
    start = time.perf_counter()
    summary = train_and_evaluate(config, rundir, dataset=dataset, progress=progress)
    wall = time.perf_counter() - start
    value = float(summary["test"][row.metric])
    result = {
        "seed": seed,
        "value": 100.0 * value if row.metric == "accuracy" else value,
        "step": summary["step"],
        "params": summary["params"],
        "wall_s": wall,
        "test": summary["test"],
        "config": _config_json(config),
    }
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    _LOG.info("%s seed %d: %s %.4f (%.0f s)", row.key, seed, row.metric, value, wall)
    return result


def _rundir(workdir: str, table: Table, row: Row, seed: int) -> str:
    """`<workdir>/<table or "shared">/<row>/seed_<s>-<hash of the config>`.

    The hash keeps runs of different configs (another num_steps, the smoke sizes)
    apart: the trainer would otherwise resume one from the other's checkpoint.
    """
    folder = "shared" if row.shared else table.name
    text = json.dumps(_config_json(row.make(seed)), sort_keys=True)
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return os.path.join(workdir, folder, row.key, f"seed_{seed}-{digest}")


def summarize(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (ddof = 1; None for a single value)."""
    values = np.asarray(values, np.float64)
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), std


def run(
    table: Table,
    workdir: str,
    dataset: data.Dataset,
    *,
    rows: tuple[str, ...] | None = None,
    progress: bool = False,
) -> dict:
    """Trains every row of `table` with every seed; returns the results.

    Args:
      table: from `build`.
      workdir: runs go to `<workdir>/<table>/<row>/seed_<s>` (rows shared
        between tables to `<workdir>/shared/...`); finished runs are reused.
      dataset: the loaded dataset (`config.dataset`).
      rows: keys of the rows to run (default all).
      progress: show the trainer's progress bars.

    Returns:
      The table as a JSON-ready dict: baselines, rows (per-seed values, mean,
      sample std, parameter counts, wall times, the seed's numbers), orderings
      and the seed's numbers.
    """
    start = time.perf_counter()
    selected = [row for row in table.rows if rows is None or row.key in rows]
    unknown = set(rows or ()) - {row.key for row in table.rows}
    if unknown:
        raise ValueError(
            f"unknown rows {sorted(unknown)} for table {table.name!r}; its rows: "
            f"{', '.join(row.key for row in table.rows)}"
        )
    results = []
    for row in selected:
        runs = [
            run_once(
                row,
                seed,
                _rundir(workdir, table, row, seed),
                dataset,
                progress=progress,
            )
            for seed in table.seeds
        ]
        counts = train.parameter_counts(row.make(table.seeds[0]), dataset.image_shape)
        values = [r["value"] for r in runs]
        mean, std = summarize(values)
        walls = [r["wall_s"] for r in runs]
        results.append(
            {
                "key": row.key,
                "label": row.label,
                "group": row.group,
                "metric": row.metric,
                "seeds": [r["seed"] for r in runs],
                "values": values,
                "mean": mean,
                "std": std,
                "params": runs[0]["params"],
                "free_params": counts["free_params"],
                "wall_s": walls,
                "wall_s_mean": float(np.mean(walls)),
                "reference": row.reference,
                "seed_numbers": row.seed_numbers,
            }
        )
    return {
        "table": table.name,
        "title": table.title,
        "dataset": dataset.name,
        "num_steps": table.num_steps,
        "seeds": list(table.seeds),
        "baselines": baselines(dataset),
        "group_name": table.group_name,
        "rows": results,
        "orderings": orderings(results),
        "notes": table.notes,
        "seed_numbers": SEED_NUMBERS[table.name],
        "wall_s": time.perf_counter() - start,
        "device": str(jax.devices()[0]),
    }


def _format(value: float, metric: str) -> str:
    return f"{value:.3f}" if metric == "bits_per_dim" else f"{value:.1f}"


def ranking(
    items: list[tuple[str, float, float | None]], metric: str, *, seed: bool = False
) -> str:
    """'A (1.410) < B (1.430) ≈ C (1.440)': best first, '≈' within one std.

    `seed` prints the values as the seed printed them.
    """
    lower = _LOWER_IS_BETTER[metric]
    ordered = sorted(items, key=lambda item: item[1] if lower else -item[1])
    parts = []
    for i, (label, value, std) in enumerate(ordered):
        if i:
            _, previous, previous_std = ordered[i - 1]
            spread = max(s for s in (std, previous_std, 0.0) if s is not None)
            if value == previous:
                parts.append("=")
            elif abs(value - previous) <= spread:
                parts.append("≈")
            else:
                parts.append("<" if lower else ">")
        shown = f"{value:g}" if seed else _format(value, metric)
        parts.append(f"{label} ({shown})")
    return " ".join(parts)


def orderings(rows: list[dict]) -> dict[str, dict[str, str]]:
    """Per group: our ranking of the means and each seed column's, best first."""
    result = {}
    for group in dict.fromkeys(row["group"] for row in rows):
        members = [row for row in rows if row["group"] == group]
        metric = members[0]["metric"]
        ours = [(r["label"], r["mean"], r["std"]) for r in members]
        entry = {"ours": ranking(ours, metric)}
        for column in dict.fromkeys(k for r in members for k in r["seed_numbers"]):
            items = [
                (r["label"], r["seed_numbers"][column], None)
                for r in members
                if column in r["seed_numbers"]
            ]
            entry[column] = ranking(items, metric, seed=True)
        result[group] = entry
    return result


def _mean_std(row: dict) -> str:
    text = _format(row["mean"], row["metric"])
    if row["std"] is not None:
        text += f" ± {_format(row['std'], row['metric'])}"
    return text


def _baseline(row: dict, baselines: dict) -> str:
    if row["metric"] == "bits_per_dim":
        base = baselines["categorical_bits_per_dim"]
        return f"{base:.3f} ({100 * (row['mean'] - base) / base:+.1f}%)"
    return f"{baselines['majority_accuracy']:.1f} (majority class)"


def markdown(result: dict) -> str:
    """The table as markdown: ours (mean ± std over seeds) beside the seed's."""
    rows = result["rows"]
    by_key = {row["key"]: row for row in rows}
    columns = list(dict.fromkeys(k for r in rows for k in r["seed_numbers"]))
    metrics = {row["metric"] for row in rows}
    metric_name = _METRIC_NAMES[metrics.pop()] if len(metrics) == 1 else "test result"
    diffs = any(row["reference"] for row in rows)
    base = result["baselines"]
    seeds = result["seeds"]
    lines = [
        f"## {result['title']}",
        "",
        f"{result['dataset']}, {result['num_steps']} training steps per run, "
        f"{len(seeds)} seed(s) {tuple(seeds)}; mean ± sample std (ddof 1) over "
        "seeds. Trivial baselines on the test split: per-pixel categorical "
        f"{base['categorical_bits_per_dim']:.3f} bits/dim"
        + (
            f", majority class of the train split {base['majority_accuracy']:.1f}% "
            f"(chance {base['chance_accuracy']:.1f}%)."
            if "majority_accuracy" in base
            else "."
        ),
        "",
    ]
    header = [result["group_name"], "model", f"{metric_name} (mean ± std)"]
    header += ["Diff"] if diffs else []
    header += ["trivial baseline (ours vs it)", "params (free)", "wall per run (s)"]
    header += columns + (["seed Diff"] if diffs else [])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["group"], row["label"], _mean_std(row)]
        reference = by_key.get(row["reference"]) if row["reference"] else None
        if diffs:
            cells.append(
                f"{row['mean'] - reference['mean']:+.1f}" if reference else "-"
            )
        cells += [
            _baseline(row, base),
            f"{row['params']:,} ({row['free_params']:,})",
            f"{row['wall_s_mean']:.0f}",
        ]
        cells += [
            f"{row['seed_numbers'][c]:g}" if c in row["seed_numbers"] else "-"
            for c in columns
        ]
        if diffs:
            first = columns[0]
            cells.append(
                f"{row['seed_numbers'][first] - reference['seed_numbers'][first]:+.1f}"
                if reference
                else "-"
            )
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Ordering, best first (lower bits/dim, higher accuracy; '≈': the gap is "
        "within one std over seeds):",
        "",
    ]
    for group, entry in result["orderings"].items():
        lines.append(f"- {group}: ours: {entry['ours']}")
        for column in columns:
            if column in entry:
                lines.append(f"  - {column}: {entry[column]}")
    lines += ["", "The seed's numbers (`tables.SEED_NUMBERS`):", ""]
    for source, values in result["seed_numbers"].items():
        shown = ", ".join(f"{key} {value:g}" for key, value in values.items())
        lines.append(f"- {source}: {shown}")
    lines += ["", "Notes:", "", *[f"- {note}" for note in result["notes"]]]
    lines.append(
        "- Wall per run: mean over the seeds of `train_and_evaluate`'s wall time, "
        "compilation and evaluation included (later seeds read their compiled "
        "programs from the XLA cache when it is on). Free params leave out the "
        "entries that masks hold at zero (`jinvnet.models.count_params`)."
    )
    lines.append(
        f"- Total wall time of this table: {result['wall_s']:.0f} s "
        f"({result['device']})."
    )
    return "\n".join(lines) + "\n"


def write(result: dict, workdir: str, *, timing: bool = False) -> tuple[str, str]:
    """Writes `<workdir>/<table>.json` and `.md` (`<table>_timing.*` for timings).

    Returns:
      The two paths.
    """
    os.makedirs(workdir, exist_ok=True)
    stem = os.path.join(workdir, result["table"] + ("_timing" if timing else ""))
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=2)
    with open(stem + ".md", "w") as f:
        f.write(timing_markdown(result) if timing else markdown(result))
    return stem + ".json", stem + ".md"


_FIXED_S = 5.0  # per run: checkpoint save, metrics, loss curve, start of the loop


def time_row(config: ml_collections.ConfigDict, dataset: data.Dataset, steps: int):
    """Times the trainer's pieces for one config, as `train_and_evaluate` runs them.

    Returns:
      init_s (model.init on the ActNorm batch), first_step_s (tracing and
      compilation included), step_s (median of `steps` further steps), and the
      first and a second full test evaluation (eval_first_s, eval_s).
    """
    mesh = data_mesh()
    model = build_model(config)
    objective = build_objective(config, dataset.num_bins)
    optimizer = make_optimizer(config.optim, config.train.num_steps)
    batches = data.BatchIterator(
        dataset.train,
        batch_size=config.train.batch_size,
        num_bins=dataset.num_bins,
        seed=config.seed,
    )
    start = time.perf_counter()
    state = loop.initial_state(config, model, dataset, optimizer, mesh)
    init_s = time.perf_counter() - start
    train_step = make_train_step(
        model, objective, optimizer, mesh, ema_decay=config.optim.ema_decay
    )
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        state, metrics = train_step(state, shard_batch(next(batches), mesh))
        jax.device_get(metrics)
        times.append(time.perf_counter() - start)
    eval_step = make_eval_step(model, objective, mesh)
    eval_times = []
    for _ in range(2):
        start = time.perf_counter()
        loop.evaluate(
            eval_step,
            state.variables(config.optim.ema_decay > 0),
            dataset.test,
            dataset.num_bins,
            mesh,
            config,
        )
        eval_times.append(time.perf_counter() - start)
    return {
        "init_s": init_s,
        "first_step_s": times[0],
        "step_s": float(np.median(times[1:])),
        "eval_first_s": eval_times[0],
        "eval_s": eval_times[1],
    }


def measure(
    table: Table,
    dataset: data.Dataset,
    steps: int,
    *,
    rows: tuple[str, ...] | None = None,
    budget_s: float = 3600.0,
) -> dict:
    """Times one seed of each row and projects the table's wall time.

    A run is projected at init + first step + (num_steps - 1) steps + two test
    evaluations + `_FIXED_S`, every seed paying the full compilation (an upper
    bound: with the XLA cache of `main.py` later seeds skip most of it).

    Returns:
      rows (timings and projected seconds per run), projected_s for the whole
      table, and fit_num_steps: the most steps per run that fit in `budget_s`.
    """
    timed = []
    for row in table.rows:
        if rows is not None and row.key not in rows:
            continue
        timing = time_row(row.make(table.seeds[0]), dataset, steps)
        fixed = (
            timing["init_s"]
            + timing["first_step_s"]
            - timing["step_s"]
            + timing["eval_first_s"]
            + timing["eval_s"]
            + _FIXED_S
        )
        timing.update(
            key=row.key,
            fixed_s=fixed,
            projected_run_s=fixed + table.num_steps * timing["step_s"],
        )
        timed.append(timing)
        _LOG.info("timed %s: %s", row.key, timing)
    runs = len(table.seeds)
    fixed = runs * sum(t["fixed_s"] for t in timed)
    per_step = runs * sum(t["step_s"] for t in timed)
    return {
        "table": table.name,
        "num_steps": table.num_steps,
        "seeds": list(table.seeds),
        "timed_steps": steps,
        "rows": timed,
        "projected_s": fixed + table.num_steps * per_step,
        "budget_s": budget_s,
        "fit_num_steps": int(max(0.0, budget_s - fixed) // per_step) if per_step else 0,
        "device": str(jax.devices()[0]),
    }


def timing_markdown(result: dict) -> str:
    """The timings of `measure` and the arithmetic of the projection."""
    lines = [
        f"## Timing of table {result['table']!r} ({result['timed_steps']} timed "
        f"steps per row, {result['device']})",
        "",
        "| row | init (s) | first step (s) | step (s) | test eval, first / again "
        "(s) | fixed per run (s) | projected run (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in result["rows"]:
        lines.append(
            f"| {t['key']} | {t['init_s']:.1f} | {t['first_step_s']:.1f} | "
            f"{t['step_s']:.3f} | {t['eval_first_s']:.1f} / {t['eval_s']:.1f} | "
            f"{t['fixed_s']:.0f} | {t['projected_run_s']:.0f} |"
        )
    runs = len(result["seeds"])
    lines += [
        "",
        f"{runs} seed(s) x (sum of fixed + {result['num_steps']} x sum of step) = "
        f"{result['projected_s']:.0f} s ({result['projected_s'] / 60:.1f} min); "
        f"{result['fit_num_steps']} steps per run fit in {result['budget_s']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"
