"""Number formatting shared by the renderers."""

from __future__ import annotations

__all__ = ["score_text"]


def score_text(value: float | None, threshold: float | None = None) -> str:
    """Three decimals, or more when three would print a failing score equal to its threshold."""
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # counts, e.g. tasks that could not be scored
    for digits in (3, 4, 6, 9, 17):
        text = f"{value:.{digits}f}"
        if threshold is None or value == threshold or float(text) != threshold:
            return text
    return repr(value)
