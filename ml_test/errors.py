"""One exception hierarchy: every user mistake is an ``MLTestError`` with a message that says where."""

from __future__ import annotations

__all__ = ["MLTestError", "InputError", "UsageError", "MLTestWarning", "locate"]


class MLTestError(Exception):
    """Base class of every error this package raises for a user's mistake."""


class InputError(MLTestError):
    """The test data cannot be read or has a wrong structure or value."""


class UsageError(MLTestError):
    """An option or argument is invalid (metric, threshold, size, ...)."""


class MLTestWarning(UserWarning):
    """Something in the data was repaired or ignored; the run goes on."""


def locate(
    file: str | None = None,
    task: object | None = None,
    line: int | None = None,
    region: str | None = None,
    field: str | None = None,
) -> str:
    """Build the ``file: task 17 (line 212): result 'r3': value.width`` prefix of a message."""
    parts = []
    if file:
        parts.append(str(file))
    if task is not None:
        parts.append(f"task {task}" + (f" (line {line})" if line else ""))
    elif line:
        parts.append(f"line {line}")
    if region is not None:
        parts.append(f"result {region!r}")
    if field:
        parts.append(field)
    return ": ".join(parts)
