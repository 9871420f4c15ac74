"""Seed 000 Table 1, "path to invertibility": trains an `IConvNet` for each rung.

Each rung of `models.iconvnet.PATH_TO_INVERTIBILITY` changes one switch of the
classifier (padding, activation, downsampling); every rung is trained with the same
budget by the shared trainer (`jinvnet.train.train_and_evaluate`, classification
objective), and the test accuracies are laid out as in the seed: change, accuracy,
difference to the row it modifies.
"""

import os

import ml_collections

from jinvnet import data
from jinvnet.models import iconvnet
from jinvnet.train import configs, train_and_evaluate


def rung_config(
    config: ml_collections.ConfigDict, rung: iconvnet.Rung
) -> ml_collections.ConfigDict:
    """The shared trainer's config for one rung of the table."""
    run = configs.base()
    run.seed = config.seed
    run.objective = "classification"
    for key, value in config.data.items():  # base() keeps fields the config lacks
        run.data[key] = value
    run.model.factory = "IConvNet"
    run.model.kwargs = ml_collections.ConfigDict(
        {
            **config.model.to_dict(),
            "padding": rung.padding,
            "activation": rung.activation,
            "downsampling": rung.downsampling,
        }
    )
    for key, value in config.optim.items():
        run.optim[key] = value
    for key, value in config.train.items():
        run.train[key] = value
    run.train.figures = False
    return run


def run(
    config: ml_collections.ConfigDict,
    workdir: str,
    *,
    dataset: data.Dataset | None = None,
    progress: bool = False,
) -> list[dict]:
    """Trains the rungs `config.rungs` and returns one row per rung.

    Args:
      config: an experiment config (`configs/default.py`).
      workdir: one subfolder per rung (checkpoints, metrics); reruns resume.
      dataset: overrides `config.data` (tests).
      progress: show the trainer's progress bars.

    Returns:
      Rows with the rung, its test accuracy (%) and parameter count.
    """
    rows = []
    for index in config.rungs:
        rung = iconvnet.PATH_TO_INVERTIBILITY[index]
        summary = train_and_evaluate(
            rung_config(config, rung),
            os.path.join(workdir, f"rung_{index}_{rung.downsampling}"),
            dataset=dataset,
            progress=progress,
        )
        rows.append(
            {
                "index": index,
                "rung": rung,
                "accuracy": 100.0 * summary["test"]["accuracy"],
                "params": summary["params"],
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    """Markdown table in the seed's layout (plus the seed's own numbers)."""
    by_index = {row["index"]: row for row in rows}
    lines = [
        "| Change | Accuracy | Diff | Params | Seed accuracy | Seed diff |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        rung = row["rung"]
        reference = by_index.get(rung.reference)
        seed_reference = iconvnet.PATH_TO_INVERTIBILITY[rung.reference]
        if row["index"] == rung.reference:
            diff = seed_diff = "-"
        else:
            diff = (
                f"{row['accuracy'] - reference['accuracy']:+.1f}" if reference else "?"
            )
            seed_diff = f"{rung.paper_accuracy - seed_reference.paper_accuracy:+.1f}"
        lines.append(
            f"| {rung.change} | {row['accuracy']:.1f} | {diff} | {row['params']} | "
            f"{rung.paper_accuracy} | {seed_diff} |"
        )
    return "\n".join(lines)
