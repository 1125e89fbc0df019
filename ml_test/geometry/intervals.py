"""1-D regions: the ``Interval`` that span-like result types map to, time parsing, and interval IoU.

Every 1-D result type becomes a half-open interval ``[start, end)`` on an axis, plus an optional
``space``: two intervals overlap only when their spaces are equal. Plain text and audio spans
keep the bare ``(start, end)`` tuple (space ``None``); the other types use :class:`Interval`:

* ``timeserieslabels``: numbers as they are; date strings become milliseconds since the epoch
  (UTC when the string has no zone), the unit Label Studio writes for numeric date axes.
* ``paragraphlabels``: position ``paragraph * PARAGRAPH_STRIDE + offset``, so inside one
  paragraph IoU is measured in characters and across paragraphs, where paragraph lengths are
  unknown, in whole paragraphs (each counting as ``PARAGRAPH_STRIDE`` characters).
* ``hypertextlabels`` / ``htmllabels``: ``globalOffsets`` when present (space ``None``); else a
  span inside one text node is ``[startOffset, endOffset)`` in the space of that XPath, and a
  span across nodes gets the unit interval in a space of its own four coordinates, so it only
  ever matches an identical span.
* ``timelinelabels``: frame ranges are inclusive, so ``{start: 1, end: 10}`` is ``[1, 11)``;
  a region with several ranges keeps them in ``parts`` (sorted, overlaps merged) and its IoU
  with another region is that of the two unions.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timezone
from typing import Hashable, NamedTuple, Sequence

import numpy as np

__all__ = [
    "Interval",
    "PARAGRAPH_STRIDE",
    "parse_time",
    "merge_ranges",
    "interval_iou_spaces",
    "union_iou",
]

# 2**32 characters per paragraph: far beyond any paragraph, and p * 2**32 + offset stays an
# exact float64 for a million paragraphs.
PARAGRAPH_STRIDE = float(2**32)

_YEAR_MONTH = re.compile(r"^\s*(\d{4})(?:-(\d{1,2}))?\s*$")


class Interval(NamedTuple):
    """A 1-D region: ``[start, end)``, the ``space`` it lives in, its ``parts`` if several, how to show it."""

    start: float
    end: float
    space: Hashable = None
    parts: tuple[tuple[float, float], ...] | None = None
    shown: str | None = None


def parse_time(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date/time (naive = UTC); a bare time is seconds since midnight.

    Also accepts a year (``"2021"``) or a year and month (``"2021-05"``), which mean their first
    instant. Returns None when the string is none of these.
    """
    s = text.strip()
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        dt = None
    if dt is None:
        m = _YEAR_MONTH.match(s)
        if m:
            month = int(m.group(2) or 1)
            if not 1 <= month <= 12:
                return None
            dt = datetime(int(m.group(1)), month, 1)
    if dt is not None:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    try:
        t = time.fromisoformat(s)
    except ValueError:
        return None
    seconds = t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
    offset = t.utcoffset()
    return seconds - (offset.total_seconds() if offset else 0.0)


def merge_ranges(ranges: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Sort ``[start, end)`` ranges and merge the ones that overlap or touch."""
    out: list[list[float]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def union_iou(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    """IoU of two unions of disjoint, sorted ``[start, end)`` ranges (identical unions give 1)."""
    if tuple(a) == tuple(b):
        return 1.0
    ra, rb = np.asarray(a, dtype=np.float64).reshape(-1, 2), np.asarray(b, dtype=np.float64).reshape(-1, 2)
    # the ranges of each side are disjoint, so the pairwise overlaps add up to |A & B|
    inter = np.maximum(np.minimum(ra[:, None, 1], rb[None, :, 1]) - np.maximum(ra[:, None, 0], rb[None, :, 0]), 0.0).sum()
    union = (ra[:, 1] - ra[:, 0]).sum() + (rb[:, 1] - rb[:, 0]).sum() - inter
    return float(inter / union) if union > 0 else 0.0


def interval_iou_spaces(
    a: np.ndarray, b: np.ndarray, space_a: np.ndarray, space_b: np.ndarray
) -> np.ndarray:
    """Elementwise IoU of (n, 2) intervals that overlap only inside the same space (integer ids)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 2), np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.maximum(np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0]), 0.0)
    union = (a[:, 1] - a[:, 0]) + (b[:, 1] - b[:, 0]) - inter
    same = (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])
    out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.where(space_a == space_b, np.where(same, 1.0, out), 0.0)
