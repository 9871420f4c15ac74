"""Orbax checkpoints of the whole training state, with clear restore errors.

A checkpoint holds the `TrainState` (params, constants, optimiser state, EMA, step,
RNG), the data iterator's position and the run's config. Orbax writes each step to
a temporary directory and renames it atomically when complete; an incomplete save
(a process killed while writing) is never listed or restored, and orbax deletes
it in the background when the next `Checkpointer` opens the directory. The last
`keep_last` steps and the `keep_best` steps with the lowest evaluation loss are kept.
"""

import json

import jax
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers

from jinvnet.train.step import TrainState


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable or does not match this run's model or optimiser."""


def _diff(saved: dict, current: dict, prefix: str = "") -> list[str]:
    lines = []
    for key in sorted(set(saved) | set(current)):
        name = f"{prefix}{key}"
        old, new = saved.get(key, "<missing>"), current.get(key, "<missing>")
        if isinstance(old, dict) and isinstance(new, dict):
            lines += _diff(old, new, f"{name}.")
        elif old != new:
            lines.append(f"{name}: checkpoint {old!r}, this run {new!r}")
    return lines


class Checkpointer:
    """Saves and restores (state, data position) under `directory`.

    Args:
      directory: where the step folders go (created if needed).
      fingerprint: JSON-serialisable description of what must match on restore
        (the model, data and objective configs); saved with every step.
      keep_last: number of most recent steps kept (default 3).
      keep_best: number of lowest-"loss" steps kept besides them (default 1).
    """

    def __init__(
        self,
        directory: str,
        *,
        fingerprint: dict,
        keep_last: int = 3,
        keep_best: int = 1,
    ):
        self.directory = str(directory)
        self._fingerprint = json.loads(json.dumps(fingerprint))
        policy = checkpoint_managers.AnyPreservationPolicy(
            [
                checkpoint_managers.LatestN(n=keep_last),
                checkpoint_managers.BestN(
                    get_metric_fn=lambda metrics: metrics["loss"],
                    reverse=True,
                    n=keep_best,
                ),
            ]
        )
        options = ocp.CheckpointManagerOptions(
            preservation_policy=policy, create=True, cleanup_tmp_directories=True
        )
        self._manager = ocp.CheckpointManager(
            self.directory, options=options, item_names=("state", "data", "meta")
        )

    def latest_step(self) -> int | None:
        """The newest complete step, or None."""
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """Every complete step on disk, ascending."""
        return sorted(self._manager.all_steps())

    def save(self, state: TrainState, position: dict, metrics: dict) -> None:
        """Saves at `state.step` (asynchronously); metrics["loss"] ranks "best"."""
        step = int(jax.device_get(state.step))
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state),
                data=ocp.args.JsonSave(position),
                meta=ocp.args.JsonSave(self._fingerprint),
            ),
            metrics={key: float(value) for key, value in metrics.items()},
        )

    def wait(self) -> None:
        """Blocks until pending saves are on disk."""
        self._manager.wait_until_finished()

    def restore(
        self, like: TrainState, step: int | None = None
    ) -> tuple[TrainState, dict]:
        """Restores (state, data position) at `step` (default the latest).

        Args:
          like: a state with the structure, shapes and shardings to restore into.
          step: the step to restore.

        Raises:
          CheckpointError: if the checkpoint is unreadable, was written by a run with
            another model/data/objective config, or does not match `like`.
        """
        step = self.latest_step() if step is None else step
        where = f"checkpoint step {step} in {self.directory}"
        advice = (
            "Resume with the config it was written with, or start a fresh --workdir "
            "(or delete the checkpoint folder)."
        )
        try:
            saved = self._manager.restore(
                step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())
            )
        except Exception as error:  # orbax raises many types for a damaged folder
            raise CheckpointError(
                f"{where} is unreadable or corrupt: {error!r}. {advice}"
            ) from error
        differences = _diff(saved["meta"] or {}, self._fingerprint)
        if differences:
            raise CheckpointError(
                f"{where} was written by an incompatible run:\n  "
                + "\n  ".join(differences)
                + f"\n{advice}"
            )
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, like)
        try:
            restored = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(abstract),
                    data=ocp.args.JsonRestore(),
                ),
            )
        except Exception as error:  # shape/structure mismatch or damaged arrays
            raise CheckpointError(
                f"{where} could not be restored into this run's state (a different "
                f"model or optimiser, or damaged files): {error}. {advice}"
            ) from error
        return restored["state"], restored["data"]

    def close(self) -> None:
        """Waits for pending saves and releases the manager."""
        self._manager.wait_until_finished()
        self._manager.close()
