"""Where a training run's numbers go: a CSV file, TensorBoard, and a progress bar (or one printed line).

:class:`RunLogger` takes one history dict per iteration (see :func:`convenv.algorithms.train.train`) and hands it
to each sink that is switched on:

- :class:`CsvLog` (``TrainConfig.log_csv``): one row per iteration, lists written as JSON, flushed every row.
- :class:`TensorBoardLog` (``TrainConfig.log_dir``): one scalar per numeric key, tagged with the key itself, at
  step ``iteration``; ``eval_success_by_turn`` becomes ``eval_success_by_turn/1``, ``/2``, ... (one per turn).
- :class:`Progress`: a tqdm bar (the ``train`` extra), else one printed line per iteration.

On resume the CSV is rewritten with the history so far and TensorBoard drops events at or after the resumed
iteration (``purge_step``), so neither holds the rows a killed run wrote after its last checkpoint.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from typing import Any

from convenv.error import missing_extra

__all__ = ["CsvLog", "Progress", "RunLogger", "TensorBoardLog"]


class CsvLog:
    """One CSV row per history dict (lists as JSON, None as empty), header from the first row, flushed every row.

    Args:
        path: the file (its directory is created); None: write nothing.
        history: rows to write first (the history a resumed run starts from).

    """

    def __init__(self, path: str | os.PathLike | None, history: Sequence[dict[str, Any]] = ()):
        self._file = None
        self._writer: csv.DictWriter | None = None
        if path is None:
            return
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._file = open(path, "w", newline="")  # noqa: SIM115 -- closed in close()
        for row in history:
            self.write(row)

    def write(self, row: dict[str, Any]) -> None:
        """Append ``row``."""
        if self._file is None:
            return
        flat = {k: json.dumps(v) if isinstance(v, list) else ("" if v is None else v) for k, v in row.items()}
        if self._writer is None:
            # extrasaction="ignore": a key that only some iterations have (none today) must not crash the run
            self._writer = csv.DictWriter(self._file, fieldnames=list(flat), extrasaction="ignore")
            self._writer.writeheader()
        self._writer.writerow(flat)
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


class TensorBoardLog:
    """Scalars for TensorBoard through ``torch.utils.tensorboard.SummaryWriter``.

    Args:
        log_dir: where the event files go (created).
        purge_step: drop the events already there at or after this step (resume from a checkpoint).

    Raises:
        MissingExtra: tensorboard is not installed (``pip install 'convenv[train]'``).

    """

    def __init__(self, log_dir: str | os.PathLike, purge_step: int | None = None):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise missing_extra("tensorboard", "train") from e
        self._writer = SummaryWriter(os.fspath(log_dir), purge_step=purge_step)

    def write(self, row: dict[str, Any]) -> None:
        """Every numeric value of ``row`` as a scalar at step ``row["iteration"]``; a by-turn list per turn."""
        step = int(row["iteration"])
        for key, value in row.items():
            if key == "iteration":
                continue
            if isinstance(value, list):
                for turn, x in enumerate(value, start=1):
                    if _is_number(x):
                        self._writer.add_scalar(f"{key}/{turn}", float(x), step)
            elif _is_number(value):
                self._writer.add_scalar(key, float(value), step)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()


class Progress:
    """A tqdm bar when tqdm is installed (the ``train`` extra), else a printed line per iteration.

    Args:
        total: iterations of the whole run.
        enabled: False shows nothing.
        initial: iterations already done (a resumed run).
        desc: the bar's label (the algorithm).

    """

    def __init__(self, total: int, enabled: bool, *, initial: int = 0, desc: str = "train"):
        self.enabled = enabled
        self._bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, initial=initial, desc=desc, unit="it")

    def update(self, row: dict[str, Any]) -> None:
        """Advance by one iteration, showing its success, KL (when the update logs one) and eval."""
        if not self.enabled:
            return
        shown = {"success": f"{row['train_success']:.2f}"}
        if row.get("approx_kl") is not None:
            shown["kl"] = f"{row['approx_kl']:.4f}"
        if row.get("eval_success") is not None:
            shown["eval"] = f"{row['eval_success']:.2f}"
        if self._bar is not None:
            self._bar.set_postfix(shown)
            self._bar.update(1)
        else:
            print(f"iteration {row['iteration']}: " + ", ".join(f"{k} {v}" for k, v in shown.items()), flush=True)

    def close(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._bar.close()


class RunLogger:
    """CSV + TensorBoard + progress in one: ``write(row)`` per iteration, ``close()`` at the end.

    Args:
        log_csv: the CSV file, or None.
        log_dir: the TensorBoard directory, or None.
        total: iterations of the whole run (for the bar).
        progress: show progress.
        history: the rows of a resumed run (rewritten to the CSV; TensorBoard purges from ``len(history)``).
        desc: the bar's label.
        enabled: False (ranks other than 0 of a distributed run): nothing is written or shown.

    """

    def __init__(
        self,
        log_csv: str | None,
        log_dir: str | None,
        *,
        total: int,
        progress: bool,
        history: Sequence[dict[str, Any]] = (),
        desc: str = "train",
        enabled: bool = True,
    ):
        self._csv = CsvLog(log_csv if enabled else None, history)
        self._tb = None
        if enabled and log_dir is not None:
            self._tb = TensorBoardLog(log_dir, purge_step=len(history) if history else None)
        self._bar = Progress(total, progress and enabled, initial=len(history), desc=desc)

    def write(self, row: dict[str, Any]) -> None:
        """Log one iteration everywhere."""
        self._csv.write(row)
        if self._tb is not None:
            self._tb.write(row)
        self._bar.update(row)

    def close(self) -> None:
        """Close every sink."""
        self._bar.close()
        self._csv.close()
        if self._tb is not None:
            self._tb.close()


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)  # NaN included: a NaN loss must show
