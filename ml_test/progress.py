"""A progress bar for long runs: drawn on a terminal, silent in CI logs and pipes."""

from __future__ import annotations

import os
import sys
import time
from typing import Mapping, TextIO

__all__ = ["Progress", "wants_progress"]


def wants_progress(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is an interactive terminal and no CI is detected."""
    env = os.environ if env is None else env
    if env.get("CI") or env.get("GITHUB_ACTIONS") or env.get("ML_TEST_NO_PROGRESS"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """``with Progress(total) as p: p.advance(n)``; draws at most ten times a second."""

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None, label: str = "tasks") -> None:
        self.total, self.enabled, self.label = total, enabled and total > 0, label
        self.stream = stream or sys.stderr
        self.done, self._last = 0, 0.0

    def __enter__(self) -> "Progress":
        return self

    def advance(self, n: int) -> None:
        """Record n more items done and redraw if due."""
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            width = 30
            filled = int(width * self.done / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {self.label}")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
