"""Orbax checkpoints of the whole training state, with clear save and restore errors.

A checkpoint holds the `TrainState` (params, constants, optimiser state, EMA, step,
RNG), the data iterator's position and the run's config. Orbax writes each step to
a temporary directory and renames it atomically when complete; an incomplete save
(a process killed while writing) is never listed or restored, and orbax deletes
it in the background when the next `Checkpointer` opens the directory. The last
`keep_last` steps and the `keep_best` steps with the lowest evaluation loss are kept.

Failures are never left to orbax's background threads. A save waits until the step
is on disk and raises `CheckpointSaveError` naming the folder when it could not be
written (the training loop stops there). Restoring the newest step falls back to
the newest one that restores, and moves the damaged newer ones aside with a
warning. Tensorstore reads that finish after orbax has given up on a damaged step
report "RuntimeError: Event loop is closed" from their threads, and their
abandoned coroutines "was never awaited" warnings when the interpreter exits;
those reports say nothing about the data and are dropped (a `sys.unraisablehook`
wrapper and a warnings filter installed by the first restore), so that the
`CheckpointError` is what a user sees.


Example (a doctest): save a state, restore it into a fresh one.

    >>> import tempfile, jax, jax.numpy as jnp, optax
    >>> from jinvnet.train.step import TrainState
    >>> variables = {"params": {"w": jnp.arange(3.0)}}
    >>> state = TrainState.create(variables, optax.sgd(0.1), jax.random.PRNGKey(0),
    ...                           ema=False)
    >>> checkpoints = Checkpointer(tempfile.mkdtemp(), fingerprint={"model": "demo"})
    >>> checkpoints.save(state.replace(step=jnp.array(7)), {"epoch": 1}, {"loss": 1.5})
    >>> checkpoints.latest_step(), checkpoints.all_steps()
    (7, [7])
    >>> like = state.replace(params={"w": jnp.zeros(3)})
    >>> restored, position = checkpoints.restore(like)
    >>> restored.params["w"].tolist(), int(restored.step), position
    ([0.0, 1.0, 2.0], 7, {'epoch': 1})
    >>> checkpoints.close()
    >>> other = Checkpointer(checkpoints.directory, fingerprint={"model": "other"})
    >>> try:                                   # another model's checkpoint: loud
    ...     other.restore(like)
    ... except CheckpointError as error:
    ...     print("refused")
    refused
    >>> def rename(state, old, new):           # the same values under another name
    ...     return state.replace(params={new: state.params[old]})
    >>> conversion = LayoutConversion(to_saved=lambda s: rename(s, "v", "w"),
    ...                               from_saved=lambda s: rename(s, "w", "v"))
    >>> renamed = Checkpointer(checkpoints.directory, fingerprint={"model": "v"},
    ...                        convert_saved=lambda saved, current: conversion)
    >>> restored, _ = renamed.restore(state.replace(params={"v": jnp.zeros(3)}))
    >>> restored.params["v"].tolist()
    [0.0, 1.0, 2.0]
    >>> IDENTITY.to_saved(like) is like
    True
    >>> for manager in (other, renamed):
    ...     manager.close()
    >>> issubclass(CheckpointSaveError, CheckpointError)   # a failed write
    True
"""

import json
import logging
import os
import shutil
import sys
import warnings
from typing import Callable, NamedTuple

import jax
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers

from jinvnet.train.step import TrainState

_LOG = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable or does not match this run's model or optimiser."""


class CheckpointSaveError(CheckpointError):
    """A checkpoint could not be written (an unwritable or full folder)."""


class _DamagedCheckpointError(CheckpointError):
    """A step's files could not be read (or do not fit the state restored into)."""


def _is_late_loop_callback(unraisable) -> bool:
    """A tensorstore read that finished after orbax closed its event loop."""
    error = unraisable.exc_value
    return isinstance(error, RuntimeError) and str(error) == "Event loop is closed"


class _DropLateLoopCallbacks:
    """A `sys.unraisablehook` that drops `_is_late_loop_callback` reports only."""

    def __init__(self, previous):
        self.previous = previous

    def __call__(self, unraisable) -> None:
        if not _is_late_loop_callback(unraisable):
            self.previous(unraisable)


class _DropUnretrievedReads(logging.Filter):
    """Drops asyncio's "exception was never retrieved" for reads of our folders."""

    directories: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            "exception was never retrieved" in message
            and any(directory in message for directory in self.directories)
        )


_UNRETRIEVED_FILTER = _DropUnretrievedReads()


def _quiet_late_reports(directory: str) -> None:
    """Installs (once) the filters for a failed restore's late background reports."""
    if not isinstance(sys.unraisablehook, _DropLateLoopCallbacks):
        sys.unraisablehook = _DropLateLoopCallbacks(sys.unraisablehook)
    _DropUnretrievedReads.directories.add(directory)
    asyncio_logger = logging.getLogger("asyncio")
    if _UNRETRIEVED_FILTER not in asyncio_logger.filters:
        asyncio_logger.addFilter(_UNRETRIEVED_FILTER)
    # Seen under load: "RuntimeWarning: coroutine ... was never awaited" (and its
    # "Enable tracemalloc" line) printed at exit after the CheckpointError.
    warnings.filterwarnings(
        "ignore", message="coroutine .* was never awaited", category=RuntimeWarning
    )


def _first_line(error: BaseException, limit: int = 300) -> str:
    text = str(error).splitlines()[0] if str(error) else repr(error)
    return text if len(text) <= limit else text[:limit] + " ..."


class LayoutConversion(NamedTuple):
    """A train state in a checkpoint's layout (`to_saved`) and back (`from_saved`)."""

    to_saved: Callable[[TrainState], TrainState]
    from_saved: Callable[[TrainState], TrainState]


IDENTITY = LayoutConversion(lambda state: state, lambda state: state)


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

    Damaged steps found by `restore()` are moved to `<directory>_damaged/<step>`.

    Args:
      directory: where the step folders go (created if needed).
      fingerprint: JSON-serialisable description of what must match on restore
        (the model, data and objective configs); saved with every step.
      upgrade_saved: applied to a checkpoint's saved fingerprint before it is
        compared with `fingerprint`: how this version reads the description an
        older one wrote (default: as it is).
      convert_saved: for a saved fingerprint that differs from `fingerprint`,
        `convert_saved(saved, fingerprint)` returns None (the checkpoint is
        refused) or a `LayoutConversion` from this run's state to the saved
        layout and back (the same values stored another way, such as the
        scanned and written-out flow steps). Default: every difference refuses.
      keep_last: number of most recent steps kept (default 3).
      keep_best: number of lowest-"loss" steps kept besides them (default 1).
    """

    def __init__(
        self,
        directory: str,
        *,
        fingerprint: dict,
        upgrade_saved: Callable[[dict], dict] | None = None,
        convert_saved: Callable[[dict, dict], "LayoutConversion | None"] | None = None,
        keep_last: int = 3,
        keep_best: int = 1,
    ):
        self.directory = str(directory)
        self._upgrade_saved = upgrade_saved or (lambda saved: saved)
        self._convert_saved = convert_saved or (lambda saved, current: None)
        self._failed = False  # a save failed and was reported
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
            preservation_policy=policy,
            create=True,
            cleanup_tmp_directories=True,
            # Create the step's folder in the calling thread: a failure then raises
            # here, instead of leaving orbax's writer threads waiting 300 s for a
            # folder that will never exist (and the process hanging at exit).
            async_options=ocp.AsyncOptions(create_directories_asynchronously=False),
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

    def save(
        self, state: TrainState, position: dict, metrics: dict, *, block: bool = True
    ) -> None:
        """Saves at `state.step`; metrics["loss"] ranks "best".

        Args:
          state: the training state.
          position: the data iterator's position (JSON).
          metrics: the step's test metrics (JSON numbers), with "loss".
          block: wait until the step is on disk (default), so that a failed write
            stops the caller at once. With False the files are written in the
            background and a failure is raised by the next `save`, `wait` or
            `close`.

        Raises:
          CheckpointSaveError: if the step could not be written (an unwritable or
            full folder), naming the folder and the last complete step.
        """
        step = int(jax.device_get(state.step))
        try:
            saved = self._manager.save(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave(state),
                    data=ocp.args.JsonSave(position),
                    meta=ocp.args.JsonSave(self._fingerprint),
                ),
                metrics={key: float(value) for key, value in metrics.items()},
            )
            if block:
                self._manager.wait_until_finished()
        except Exception as error:  # an OSError, or whatever orbax wraps it in
            self._failed = True
            raise self._save_error(f"step {step}", error) from error
        if not saved:
            self._failed = True
            raise CheckpointSaveError(
                f"checkpoint step {step} was not written to {self.directory}: the "
                f"folder already holds step {self.latest_step()}. Is another run "
                "writing to the same --workdir?"
            )

    def _save_error(self, what: str, error: BaseException) -> CheckpointSaveError:
        last = self.latest_step()  # orbax has dropped the failed step
        where = (
            f"the last complete checkpoint is step {last}; running again resumes "
            "from it"
            if last is not None
            else "no complete checkpoint was written yet"
        )
        return CheckpointSaveError(
            f"could not write checkpoint {what} to {self.directory}: "
            f"{type(error).__name__}: {error}. "
            f"Training stopped so that no more work goes unsaved; {where}. Make the "
            "folder writable (permissions, free space, quota) or choose another "
            "--workdir."
        )

    def wait(self) -> None:
        """Blocks until pending saves are on disk.

        Raises:
          CheckpointSaveError: if a non-blocking save could not be written.
        """
        try:
            self._manager.wait_until_finished()
        except Exception as error:
            self._failed = True
            raise self._save_error("(pending save)", error) from error

    def restore(
        self, like: TrainState, step: int | None = None
    ) -> tuple[TrainState, dict]:
        """Restores (state, data position) at `step`, or the newest intact step.

        Without a step, the steps are tried from the newest down. If a newer step
        is damaged (unreadable files) and an older one restores, each damaged step
        is moved, not deleted, to `<directory>_damaged/<step>` with a warning
        naming it, so that training can write that step again. If no step
        restores, nothing is moved and the newest step's error is raised.

        Args:
          like: a state with the structure, shapes and shardings to restore into.
          step: the step to restore (no fallback); None for the newest intact one.

        Raises:
          CheckpointError: if there is no checkpoint, the step (or every step) is
            unreadable or does not match `like`, or a checkpoint was written by a
            run with another model/data/objective config.
        """
        if step is not None:
            return self._restore_step(like, step)
        steps = sorted(self.all_steps(), reverse=True)
        if not steps:
            raise CheckpointError(f"no checkpoint in {self.directory}")
        damaged = []
        for candidate in steps:
            try:
                restored = self._restore_step(like, candidate)
            except _DamagedCheckpointError as error:
                damaged.append((candidate, error))
                continue
            for bad_step, error in damaged:
                self._set_aside(bad_step, error, candidate)
            return restored
        newest, error = damaged[0]
        older = ", ".join(str(bad_step) for bad_step, _ in damaged[1:])
        also = f" The older steps ({older}) do not restore either." if older else ""
        raise CheckpointError(f"{error}{also}") from error

    def _set_aside(self, step: int, error: BaseException, restored: int) -> None:
        """Moves a damaged step out of the folder orbax manages, and warns."""
        target = os.path.join(f"{self.directory}_damaged", str(step))
        suffix = 1
        while os.path.exists(target):
            target = os.path.join(f"{self.directory}_damaged", f"{step}-{suffix}")
            suffix += 1
        if jax.process_index() == 0:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.move(os.path.join(self.directory, str(step)), target)
        ocp.multihost.sync_global_processes(f"jinvnet_set_aside_{step}")
        self._manager.reload()
        _LOG.warning(
            "checkpoint step %d in %s is damaged (%s); resuming from step %d, the "
            "newest intact one. The damaged step was moved, not deleted, to %s so "
            "that training can write step %d again; inspect or delete it.",
            step,
            self.directory,
            _first_line(error.__cause__ or error),
            restored,
            target,
            step,
        )

    def _restore_step(self, like: TrainState, step: int) -> tuple[TrainState, dict]:
        _quiet_late_reports(self.directory)
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
            raise _DamagedCheckpointError(
                f"{where} is unreadable or corrupt: {error!r}. {advice}"
            ) from error
        saved_fingerprint = json.loads(
            json.dumps(self._upgrade_saved(saved["meta"] or {}))
        )
        differences = _diff(saved_fingerprint, self._fingerprint)
        conversion = IDENTITY
        if differences:
            conversion = self._convert_saved(saved_fingerprint, self._fingerprint)
            if conversion is None:
                raise CheckpointError(
                    f"{where} was written by an incompatible run:\n  "
                    + "\n  ".join(differences)
                    + f"\n{advice}"
                )
            _LOG.info("%s: %s; converting", where, "; ".join(differences))
        abstract = jax.tree_util.tree_map(
            ocp.utils.to_shape_dtype_struct, conversion.to_saved(like)
        )
        try:
            restored = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(abstract),
                    data=ocp.args.JsonRestore(),
                ),
            )
        except Exception as error:  # shape/structure mismatch or damaged arrays
            raise _DamagedCheckpointError(
                f"{where} could not be restored into this run's state (a different "
                f"model or optimiser, or damaged files): {error}. {advice}"
            ) from error
        return conversion.from_saved(restored["state"]), restored["data"]

    def close(self) -> None:
        """Waits for pending saves and releases the manager.

        Returns at once after a save failure that was already raised.

        Raises:
          CheckpointSaveError: if a non-blocking save failed and was not raised yet.
        """
        try:
            if not self._failed:
                self.wait()
        finally:
            self._manager.close()
