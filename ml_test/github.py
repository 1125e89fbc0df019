"""The GitHub Actions runner protocol: what may be printed to a workflow log.

The runner interprets any stdout line starting with ``::`` as a workflow command, so text a
user wrote (task data, labels, file names) must never reach the log raw. ``stop_commands``
wraps free text in ``::stop-commands::TOKEN`` ... ``::TOKEN::`` with a random token, which the
runner documents as the way to print untrusted text.
"""

from __future__ import annotations

import secrets
import sys
from contextlib import contextmanager
from typing import Iterator, Mapping, TextIO

__all__ = ["in_github_actions", "stop_commands"]


def in_github_actions(env: Mapping[str, str]) -> bool:
    """True inside a GitHub Actions job."""
    return env.get("GITHUB_ACTIONS") == "true"


@contextmanager
def stop_commands(enabled: bool, stream: TextIO | None = None) -> Iterator[None]:
    """Suspend workflow-command processing for the output written inside the block."""
    stream = stream or sys.stdout
    if not enabled:
        yield
        return
    token = secrets.token_hex(16)
    stream.write(f"::stop-commands::{token}\n")
    try:
        yield
    finally:
        stream.flush()
        stream.write(f"::{token}::\n")
        stream.flush()
