"""The converters' error type."""

from __future__ import annotations

from ..errors import MLTestError

__all__ = ["ConverterError"]


class ConverterError(MLTestError, ValueError):
    """A model output cannot become a Label Studio prediction; the message names the task and field."""
