"""Validated reading of a result's ``value`` fields: numbers, labels, geometry, intervals, answers.

Each reader takes the ``value`` dict and a ``where`` prefix, and raises ``InputError`` naming the
region and the field (``...: result 'r3': value.width must be finite``). ``regions.py`` groups
results into regions and calls these; nothing behind the parser checks values again.
"""

from __future__ import annotations

import math
import numpy as np

from .errors import InputError
from .geometry.intervals import PARAGRAPH_STRIDE, Interval, merge_ranges, parse_time

__all__ = [
    "read_number", "read_score", "read_labels", "read_image_size", "read_box", "read_polygon", "read_ellipse",
    "read_interval", "ANSWER_READERS",
]  # fmt: skip

def read_number(value: dict, key: str, where: str, default: float | None = None, prefix: str = "value.") -> float:
    """A finite number at ``value[key]`` (numeric strings accepted), or ``default``."""
    v = value.get(key, default)
    # fast path for the common case; ``v - v == 0`` is False for nan and inf
    if (type(v) is float and v - v == 0.0) or type(v) is int:
        return float(v)
    if v is None:
        raise InputError(f"{where}: {prefix}{key} is missing")
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            raise InputError(f"{where}: {prefix}{key} must be a number, got {v!r:.40}") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{where}: {prefix}{key} must be a number, got {type(v).__name__}")
    if not math.isfinite(v):
        raise InputError(f"{where}: {prefix}{key} must be finite, got {v}")
    return float(v)


def read_score(r: dict, value: dict, default: float | None, where: str) -> float | None:
    """The region score: result ``score``, else ``value.score``, else the prediction's."""
    for key, holder in (("score", r), ("value.score", value)):
        v = holder.get("score")
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{where}: {key} must be a number, got {v!r:.40}")
        if not math.isfinite(v):
            raise InputError(f"{where}: {key} must be finite, got {v}")
        return float(v)
    return default


def read_labels(value: dict, key: str, where: str) -> tuple[str, ...]:
    """The labels (or choices) list at ``value[key]``; nested choice paths joined with ``/``."""
    raw = value.get(key)
    if raw is None:
        return ()
    if type(raw) is list and len(raw) == 1 and type(raw[0]) is str:
        return (raw[0],)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise InputError(f"{where}: value.{key} must be a list of strings, got {type(raw).__name__}")
    out = []
    for item in raw:
        # nested choices arrive as a path list: ["Animals", "Cat"]
        out.append("/".join(map(str, item)) if isinstance(item, list) else str(item))
    return tuple(out)


def read_image_size(r: dict, where: str) -> tuple[float, float] | None:
    """``(original_width, original_height)`` in pixels, or None when the result has none."""
    w, h = r.get("original_width"), r.get("original_height")
    if w is None or h is None:
        return None
    if type(w) is int and type(h) is int and w > 0 and h > 0:
        return float(w), float(h)
    if isinstance(w, bool) or isinstance(h, bool) or not isinstance(w, (int, float)) or not isinstance(h, (int, float)):
        raise InputError(f"{where}: original_width/original_height must be numbers")
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        raise InputError(f"{where}: original_width/original_height must be positive, got {w}x{h}")
    return float(w), float(h)


def read_box(value: dict, where: str, warnings: list[str]) -> tuple[float, float, float, float, float]:
    """``(x, y, width, height, rotation)`` in percent; upright boxes normalised and clipped to the image."""
    x, y = read_number(value, "x", where), read_number(value, "y", where)
    w, h = read_number(value, "width", where), read_number(value, "height", where)
    rotation = read_number(value, "rotation", where, 0.0) % 360.0
    if rotation != 0.0:
        # signed sizes of a rotated box still give the right corners (geometry.box_corners_px)
        return x, y, w, h, rotation
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + w, 100.0), min(y + h, 100.0)
    if (x0, y0, x1, y1) != (x, y, x + w, y + h):
        warnings.append(f"{where}: box outside the image (0-100%) was clipped")
        x, y, w, h = x0, y0, max(x1 - x0, 0.0), max(y1 - y0, 0.0)
    return x, y, w, h, 0.0


def read_polygon(value: dict, where: str, warnings: list[str]) -> np.ndarray:
    """The ``(n, 2)`` percent points of a polygon, clipped to the image."""
    points = value.get("points")
    if not isinstance(points, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in points):
        raise InputError(f"{where}: value.points must be a list of [x, y] pairs")
    try:
        arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise InputError(f"{where}: value.points must hold numbers") from None
    if not np.isfinite(arr).all():
        raise InputError(f"{where}: value.points must be finite numbers")
    if len(arr) < 3:
        warnings.append(f"{where}: polygon with fewer than 3 points has no area")
    clipped = np.clip(arr, 0.0, 100.0)
    if not np.array_equal(clipped, arr):
        warnings.append(f"{where}: polygon points outside the image (0-100%) were clipped")
    return clipped


def _span(value: dict, where: str) -> tuple[float, float]:
    start, end = read_number(value, "start", where), read_number(value, "end", where)
    return (start, end) if start <= end else (end, start)


def read_ellipse(value: dict, where: str) -> tuple[float, float, float, float, float]:
    """``(cx, cy, radius_x, radius_y, rotation)`` of an ellipse, in percent and degrees."""
    x, y = read_number(value, "x", where), read_number(value, "y", where)
    # Konva draws a negative radius as its absolute value
    rx, ry = abs(read_number(value, "radiusX", where)), abs(read_number(value, "radiusY", where))
    return x, y, rx, ry, read_number(value, "rotation", where, 0.0) % 360.0


def _time_point(value: dict, key: str, where: str) -> float:
    """A time-series coordinate: a number, or a date string as milliseconds since the epoch."""
    v = value.get(key)
    if isinstance(v, str):
        try:
            return read_number(value, key, where)
        except InputError:
            seconds = parse_time(v)
            if seconds is None:
                raise InputError(f"{where}: value.{key} must be a number or an ISO 8601 date, got {v!r:.40}") from None
            return seconds * 1000.0
    return read_number(value, key, where)


def _paragraph_index(value: dict, key: str, where: str) -> int:
    v = read_number(value, key, where)  # numeric strings ("2") are common in real exports
    if v < 0 or v != int(v):
        raise InputError(f"{where}: value.{key} must be a paragraph index (an integer >= 0), got {value.get(key)!r:.40}")
    return int(v)


def _paragraphs(value: dict, where: str) -> Interval:
    p0, p1 = _paragraph_index(value, "start", where), _paragraph_index(value, "end", where)
    if "startOffset" in value or "endOffset" in value:
        o0, o1 = read_number(value, "startOffset", where), read_number(value, "endOffset", where)
        a, b, shown = p0 * PARAGRAPH_STRIDE + o0, p1 * PARAGRAPH_STRIDE + o1, f"paragraph {p0}:{o0:g} to {p1}:{o1:g}"
    else:  # whole paragraphs
        a, b, shown = p0 * PARAGRAPH_STRIDE, (max(p0, p1) + 1) * PARAGRAPH_STRIDE, f"paragraphs {p0} to {p1}"
    return Interval(min(a, b), max(a, b), None, None, shown)


def _hypertext(value: dict, where: str) -> tuple[float, float] | Interval:
    offsets = value.get("globalOffsets")
    if isinstance(offsets, dict):
        a = read_number(offsets, "start", where, prefix="value.globalOffsets.")
        b = read_number(offsets, "end", where, prefix="value.globalOffsets.")
        return (a, b) if a <= b else (b, a)
    start, end = value.get("start"), value.get("end")
    if not (isinstance(start, str) and isinstance(end, str)):
        if "startOffset" not in value:  # character offsets into plain text, as a text span
            return _span(value, where)
        raise InputError(f"{where}: value.start and value.end must be XPath strings (or give value.globalOffsets)")
    o0, o1 = read_number(value, "startOffset", where), read_number(value, "endOffset", where)
    if start == end:
        return Interval(min(o0, o1), max(o0, o1), start, None, f"{start}[{o0:g}:{o1:g}]")
    # across text nodes the distance between nodes is unknown: only an identical span matches
    return Interval(0.0, 1.0, (start, o0, end, o1), None, f"{start}[{o0:g}] to {end}[{o1:g}]")


def _timeline(value: dict, where: str) -> Interval:
    ranges = value.get("ranges")
    if not isinstance(ranges, list) or not ranges or not all(isinstance(r, dict) for r in ranges):
        raise InputError(f"{where}: value.ranges must be a non-empty list of {{start, end}} frame ranges")
    frames = []
    for i, r in enumerate(ranges):
        a, b = read_number(r, "start", where, prefix=f"value.ranges[{i}]."), read_number(r, "end", where, prefix=f"value.ranges[{i}].")
        frames.append((min(a, b), max(a, b) + 1.0))  # frames are inclusive: 1..10 covers 10 frames
    parts = merge_ranges(frames)
    shown = "frames " + ", ".join(f"{a:g}-{b - 1:g}" for a, b in parts)
    return Interval(parts[0][0], parts[-1][1], None, parts if len(parts) > 1 else None, shown)


def read_interval(t: str, value: dict, where: str) -> tuple[float, float] | Interval:
    """The 1-D interval of a span-like result type (text, audio, time series, paragraphs, hypertext, timeline)."""
    if t == "timeserieslabels":
        a, b = _time_point(value, "start", where), _time_point(value, "end", where)
        dates = isinstance(value["start"], str) or isinstance(value["end"], str)
        return Interval(min(a, b), max(a, b), None, None, f"[{value['start']}:{value['end']}]" if dates else None)
    if t == "paragraphlabels":
        return _paragraphs(value, where)
    if t in ("hypertextlabels", "htmllabels"):
        return _hypertext(value, where)
    if t == "timelinelabels":
        return _timeline(value, where)
    return _span(value, where)


def _strings(value: dict, key: str, where: str) -> tuple[str, ...]:
    v = value.get(key)
    if isinstance(v, str):
        return (v,)
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        got = "nothing" if v is None else type(v).__name__
        raise InputError(f"{where}: value.{key} must be a list of strings, got {got}")
    return tuple(v)


def _taxonomy(value: dict, where: str) -> tuple[tuple[str, ...], ...]:
    raw = value.get("taxonomy")
    if not isinstance(raw, list):
        raise InputError(f"{where}: value.taxonomy must be a list of paths (lists of strings)")
    paths = []
    for item in raw:
        path = (item,) if isinstance(item, str) else item
        if not isinstance(path, (list, tuple)) or not all(isinstance(x, (str, int, float)) for x in path):
            raise InputError(f"{where}: value.taxonomy must be a list of paths (lists of strings), got {item!r:.40}")
        if path:
            paths.append(tuple(str(x) for x in path))
    return tuple(paths)


def _datetime(value: dict, where: str) -> tuple[str, float | None]:
    v = value.get("datetime")
    if not isinstance(v, str):
        raise InputError(f"{where}: value.datetime must be a string, got {'nothing' if v is None else type(v).__name__}")
    return v, parse_time(v)


def _pairwise(value: dict, where: str) -> str:
    v = value.get("selected")
    if not isinstance(v, str):
        raise InputError(f"{where}: value.selected must be a string ('left' or 'right'), got {v!r:.40}")
    return v


def _ranker(value: dict, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    raw = value.get("ranker")
    lists = {"": raw} if isinstance(raw, list) else raw  # the older ranker wrote one flat list
    if not isinstance(lists, dict) or not all(isinstance(v, list) for v in lists.values()):
        raise InputError(f"{where}: value.ranker must be a list of item ids or an object of lists, got {type(raw).__name__}")
    return tuple((str(name), tuple(str(i) for i in ids)) for name, ids in lists.items())


ANSWER_READERS = {
    "textarea": lambda value, where: _strings(value, "text", where),
    "taxonomy": _taxonomy,
    "number": lambda value, where: read_number(value, "number", where),
    "rating": lambda value, where: read_number(value, "rating", where),
    "datetime": _datetime,
    "pairwise": _pairwise,
    "ranker": _ranker,
}
