"""The GitHub Actions runner protocol: what may be printed to a workflow log, and the runner's files.

The runner reads every line of stdout and stderr for workflow commands (``::cmd props::data``
at the start of a line, and the legacy ``##[cmd]`` anywhere in a line), so text a user wrote
(task data, labels, file names) must never reach the log raw. This module is the only place
that writes ``::`` lines: every command goes through :func:`command`, which escapes the data
(``%``, CR, LF) and property values (also ``:`` and ``,``), ``%`` first, as the runner decodes
them. Free text is wrapped in ``::stop-commands::TOKEN`` ... ``::TOKEN::`` with a fresh random
token (:func:`stop_commands`), the runner's documented way to print untrusted text.

It also owns every limit the runner imposes (10 annotations per level per step, 255-character
titles, 64 KB messages, the 1 MiB step summary) and the file commands: ``GITHUB_OUTPUT`` values
are written as heredocs with a random delimiter, so no value can end one early and inject
another output.

Why not the PyPI ``actions-toolkit`` (0.1.15): its last release is from 2022, it has no job
summary API, its ``set_failed`` exits the process at once (so no summary or outputs could be
written after a failure), and its GitHub client ignores ``GITHUB_API_URL`` (GitHub Enterprise
Server). What we need fits in this module.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import uuid
from contextlib import contextmanager
from typing import Iterator, Mapping, TextIO

__all__ = [
    "in_github_actions",
    "stop_commands",
    "escape_data",
    "escape_property",
    "command",
    "truncate_bytes",
    "Runner",
    "LEVELS",
    "MAX_ANNOTATIONS_PER_LEVEL",
    "MAX_TITLE_CHARS",
    "MAX_MESSAGE_BYTES",
    "SUMMARY_LIMIT_BYTES",
]

LEVELS = ("error", "warning", "notice")
# GitHub shows 10 error, 10 warning and 10 notice annotations per step and drops the rest silently.
MAX_ANNOTATIONS_PER_LEVEL = 10
# The annotation limits of the Checks API, which the UI applies to workflow-command annotations too.
MAX_TITLE_CHARS = 255
MAX_MESSAGE_BYTES = 64_000
# Above this the runner aborts the upload of the step summary (the step's status is unchanged).
SUMMARY_LIMIT_BYTES = 1024 * 1024

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ELLIPSIS = "…"


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
    # a fresh token per block: untrusted text cannot guess it to resume command processing
    token = secrets.token_hex(16)
    stream.write(f"::stop-commands::{token}\n")
    try:
        yield
    finally:
        stream.flush()
        stream.write(f"::{token}::\n")
        stream.flush()


def escape_data(text: object) -> str:
    """Escape the data (message) part of a workflow command: ``%`` first, then CR and LF."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: object) -> str:
    """Escape a property value of a workflow command: as data, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: object = "", **properties: object) -> str:
    """One workflow-command line, e.g. ``::error file=a.json,line=3,title=T::message``.

    Properties whose value is None or empty are left out (the runner would drop them anyway).
    """
    if not re.fullmatch(r"[a-z-]+", name):
        raise ValueError(f"not a workflow command name: {name!r}")
    props = ",".join(
        f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None and value != ""
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def truncate_bytes(text: str, max_bytes: int, marker: str = _ELLIPSIS) -> str:
    """``text`` cut so that its UTF-8 encoding, ``marker`` included, fits in ``max_bytes``."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max(0, max_bytes - len(marker.encode("utf-8")))
    return data[:room].decode("utf-8", errors="ignore") + marker


def _truncate_chars(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1] + _ELLIPSIS


class Runner:
    """The job log and the runner's file commands, with GitHub's limits enforced where data leaves.

    ``output_path`` and ``summary_path`` are the files named by ``GITHUB_OUTPUT`` and
    ``GITHUB_STEP_SUMMARY``; when one is missing (a run outside GitHub) that channel is skipped.
    """

    def __init__(
        self,
        *,
        output_path: str | None = None,
        summary_path: str | None = None,
        stream: TextIO | None = None,
        max_per_level: int = MAX_ANNOTATIONS_PER_LEVEL,
    ) -> None:
        self.output_path = output_path or None
        self.summary_path = summary_path or None
        self.stream = stream or sys.stdout
        self.max_per_level = min(max_per_level, MAX_ANNOTATIONS_PER_LEVEL)
        self.emitted = dict.fromkeys(LEVELS, 0)
        self.dropped = dict.fromkeys(LEVELS, 0)

    @classmethod
    def from_env(cls, env: Mapping[str, str], stream: TextIO | None = None) -> "Runner":
        """A runner writing to the files the environment names."""
        return cls(output_path=env.get("GITHUB_OUTPUT"), summary_path=env.get("GITHUB_STEP_SUMMARY"), stream=stream)

    # -- the log ---------------------------------------------------------------------------

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def log(self, text: str) -> None:
        """Print text we wrote ourselves; it must hold no user text (use ``raw`` for that)."""
        self._line(text)

    def raw(self, text: str) -> None:
        """Print text that may contain anything, with workflow commands suspended around it."""
        with stop_commands(True, self.stream):
            self._line(text)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible section of the log."""
        self._line(command("group", title))
        try:
            yield
        finally:
            self._line(command("endgroup"))

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> bool:
        """Emit an ``::error``/``::warning``/``::notice``; False when the per-step cap dropped it."""
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
        if self.emitted[level] >= self.max_per_level:
            self.dropped[level] += 1
            return False
        self.emitted[level] += 1
        message = truncate_bytes(message, MAX_MESSAGE_BYTES)
        title = _truncate_chars(title, MAX_TITLE_CHARS) if title else None
        # a line without a file is meaningless to the runner; leave it out rather than send it alone
        self._line(command(level, message, file=file, line=line if file else None, title=title))
        return True

    def error(self, message: str, **where: object) -> bool:
        """An error annotation (see ``annotate``)."""
        return self.annotate("error", message, **where)

    def warning(self, message: str, **where: object) -> bool:
        """A warning annotation (see ``annotate``)."""
        return self.annotate("warning", message, **where)

    def notice(self, message: str, **where: object) -> bool:
        """A notice annotation (see ``annotate``)."""
        return self.annotate("notice", message, **where)

    def room(self, level: str) -> int:
        """How many more annotations of this level GitHub would still show in this step."""
        return self.max_per_level - self.emitted[level]

    # -- file commands -----------------------------------------------------------------------

    def set_output(self, name: str, value: object) -> None:
        """Append ``name`` to ``GITHUB_OUTPUT`` as a heredoc with a random delimiter."""
        if not _OUTPUT_NAME.match(name):
            raise ValueError(f"not a valid output name: {name!r}")
        text = "" if value is None else str(value)
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter in text:  # a random UUID in a value means someone is trying; refuse
            raise ValueError(f"output {name!r} contains its own delimiter")
        if self.output_path is None:
            return
        with open(self.output_path, "a", encoding="utf-8", newline="\n") as f:
            f.write(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")

    def append_summary(self, markdown: str, *, overflow_note: str = "") -> bool:
        """Append Markdown to the step summary, cut to fit 1 MiB; True when it had to be cut.

        When cut, the text ends at a line boundary, open ``<details>`` blocks are closed and
        a note (``overflow_note`` says where the rest is) is added, all within the limit.
        """
        if self.summary_path is None:
            return False
        try:
            used = os.path.getsize(self.summary_path)
        except OSError:
            used = 0
        room = SUMMARY_LIMIT_BYTES - used
        cut = len(markdown.encode("utf-8")) > room
        if cut:
            markdown = _fit_markdown(markdown, room, overflow_note)
        with open(self.summary_path, "a", encoding="utf-8", newline="\n") as f:
            f.write(markdown)
        return cut


def _fit_markdown(markdown: str, room: int, overflow_note: str) -> str:
    """The longest run of whole lines of ``markdown`` that fits ``room`` with a closing note."""
    note = (
        "\n\n> [!WARNING]\n> This summary was cut to fit GitHub's 1 MiB limit for a step summary."
        + (f" {overflow_note}" if overflow_note else "")
        + "\n"
    )
    data = markdown.encode("utf-8")
    # the tail needs room for the note and for closing every <details> we might cut through
    reserve = len(note.encode("utf-8")) + 16 * markdown.count("<details>")
    if reserve > room:
        return truncate_bytes(note.lstrip("\n"), max(room, 0), marker="")
    kept = data[: room - reserve]
    newline = kept.rfind(b"\n")
    kept_text = kept[: newline + 1 if newline >= 0 else 0].decode("utf-8", errors="ignore")
    open_details = kept_text.count("<details>") - kept_text.count("</details>")
    return kept_text + "\n</details>\n" * max(open_details, 0) + note
