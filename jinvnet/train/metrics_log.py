"""Training metrics: a JSONL file, kept in memory for plots, and TensorBoard.

Every record is one line of `metrics.jsonl`: {"step": int, "split": "train" or
"test", metric: float, ...}. If tensorboardX is installed (`pip install
"jinvnet[tensorboard]"`), the same values also go to TensorBoard event files in
`<workdir>/tensorboard` as scalars named "<split>/<metric>"; view them with
`tensorboard --logdir <workdir>/tensorboard`.

A resumed run passes the step it resumed from: records written after it (by the
run that was interrupted) are dropped from the file, and TensorBoard is told to
hide that run's later events (tensorboardX's `purge_step`), so that every step
appears once. In a multi-process run every process keeps the records and only
process 0 writes them.

Example (a doctest):

    >>> import json, os, tempfile
    >>> workdir = tempfile.mkdtemp()
    >>> log = MetricsLog(workdir, tensorboard=False)
    >>> log.write(10, "train", {"loss": 2.5})
    >>> log.close()
    >>> with open(os.path.join(workdir, "metrics.jsonl")) as f:
    ...     json.loads(f.readline())
    {'step': 10, 'split': 'train', 'loss': 2.5}
"""

import importlib
import json
import logging
import os

import jax

_LOG = logging.getLogger(__name__)


def _tensorboard_writer(logdir: str, purge_step: int | None = None):
    """A tensorboardX SummaryWriter, or None if tensorboardX is not installed.

    With `purge_step`, TensorBoard hides the earlier events at steps >= it.
    """
    try:
        tensorboardx = importlib.import_module("tensorboardX")
    except ImportError:
        _LOG.info("tensorboardX not installed: metrics go to metrics.jsonl only")
        return None
    return tensorboardx.SummaryWriter(logdir, purge_step=purge_step)


class MetricsLog:
    """Appends metric records to `<workdir>/metrics.jsonl` (and TensorBoard).

    Records already in the file (from a run being resumed) are loaded, so `records`
    holds the whole history for the loss curve.

    Args:
      workdir: the run's output folder.
      tensorboard: also write TensorBoard events when tensorboardX is installed.
      resume_step: the step the run resumes from (0 for a fresh start): records
        of later steps, written by the run that was interrupted and about to be
        written again, are dropped from the file and hidden in TensorBoard. None
        (default) keeps every record.
    """

    def __init__(
        self,
        workdir: str,
        *,
        tensorboard: bool = True,
        resume_step: int | None = None,
    ):
        self.path = os.path.join(workdir, "metrics.jsonl")
        self.records: list[dict] = []
        self._primary = jax.process_index() == 0
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.records = [json.loads(line) for line in f if line.strip()]
        purge_step = None
        if resume_step is not None:
            kept = [r for r in self.records if r["step"] <= resume_step]
            if len(kept) < len(self.records):
                _LOG.info(
                    "metrics.jsonl: dropped %d records after step %d, the step "
                    "this run resumes from",
                    len(self.records) - len(kept),
                    resume_step,
                )
                self.records = kept
                if self._primary:
                    self._rewrite()
                purge_step = resume_step + 1
        self._writer = (
            _tensorboard_writer(os.path.join(workdir, "tensorboard"), purge_step)
            if tensorboard and self._primary
            else None
        )

    def _rewrite(self) -> None:
        """Replaces the file by `records` (atomically: a new file, then a rename)."""
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "w") as f:
            f.writelines(json.dumps(record) + "\n" for record in self.records)
        os.replace(temporary, self.path)

    def write(self, step: int, split: str, values: dict) -> None:
        """Appends {"step", "split", **values} (values cast to float)."""
        record = {"step": step, "split": split}
        record.update({key: float(value) for key, value in values.items()})
        self.records.append(record)
        if not self._primary:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"{split}/{key}", float(value), step)

    def close(self) -> None:
        """Flushes and closes the TensorBoard writer (the JSONL is always closed)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
