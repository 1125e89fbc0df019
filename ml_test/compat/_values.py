"""Reading a result's ``value`` the way label-studio-evalme does, and evalme's own geometry.

evalme reads raw result dicts and trusts them; where it would crash on a bad value (KeyError,
TypeError) we raise :class:`RegionError` naming the result and the field instead, and the
pipeline adds the file, task and line. The geometry reproduces evalme's formulas, not ours:
its box IoU ignores rotation, its polygons are repaired by ``make_valid``, its span IoU treats
``[start, end]`` as a closed numeric interval.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np
import shapely

__all__ = [
    "RegionError",
    "values",
    "label_list",
    "number",
    "bbox_iou",
    "bbox_iou_matrix",
    "polygon_iou",
    "polygon_iou_matrix",
    "span_iou",
    "region_iou",
    "text_list",
    "levenshtein_similarity",
]


class RegionError(ValueError):
    """A result value evalme cannot score; the message names the result and the field."""


def _rid(result: dict) -> str:
    return repr(str(result.get("id"))) if result.get("id") is not None else "(no id)"


def values(results: Sequence[dict]) -> list[dict]:
    """Each result's ``value`` dict (evalme's ``EvalItem.get_values``), checked to be an object."""
    out = []
    for r in results:
        v = r.get("value")
        if not isinstance(v, dict):
            raise RegionError(f"result {_rid(r)}: value must be an object, got {type(v).__name__}")
        out.append(v)
    return out


def label_list(value: dict, key: str, result: dict | None = None) -> list:
    """``value[key]`` as evalme uses it: a list compared with ``==`` (order matters)."""
    labels = value.get(key)
    if not isinstance(labels, list):
        where = f"result {_rid(result)}: " if result is not None else ""
        got = "missing" if key not in value else f"got {type(labels).__name__}"
        raise RegionError(f"{where}value.{key} must be a list, {got}")
    return labels


def number(value: dict, key: str, result: dict | None = None) -> float:
    """``value[key]`` as a finite float."""
    v = value.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        where = f"result {_rid(result)}: " if result is not None else ""
        got = "missing" if key not in value else f"got {v!r:.40}"
        raise RegionError(f"{where}value.{key} must be a finite number, {got}")
    return float(v)


def bbox_iou(a: dict, b: dict) -> float:
    """evalme's ``ObjectDetectionEvalItem._iou``: axis-aligned on ``x, y, width, height``; rotation ignored."""
    ax, ay, aw, ah = (number(a, k) for k in ("x", "y", "width", "height"))
    bx, by, bw, bh = (number(b, k) for k in ("x", "y", "width", "height"))
    inter = max(0.0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0.0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - inter
    # evalme divides by zero here (two empty boxes); a region of no area overlaps nothing
    return inter / union if union > 0 else 0.0


def bbox_iou_matrix(a: Sequence[dict], b: Sequence[dict]) -> np.ndarray:
    """``bbox_iou`` of every pair, vectorised with the same float operations: (len(a), len(b))."""
    xa = np.array([[number(v, k) for k in ("x", "y", "width", "height")] for v in a], dtype=np.float64).reshape(-1, 4)
    xb = np.array([[number(v, k) for k in ("x", "y", "width", "height")] for v in b], dtype=np.float64).reshape(-1, 4)
    ax, ay, aw, ah = (xa[:, i, None] for i in range(4))
    bx, by, bw, bh = (xb[None, :, i] for i in range(4))
    inter = np.maximum(0.0, np.minimum(ax + aw, bx + bw) - np.maximum(ax, bx)) * np.maximum(
        0.0, np.minimum(ay + ah, by + bh) - np.maximum(ay, by)
    )
    union = aw * ah + bw * bh - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def polygon_iou_matrix(a: Sequence[dict], b: Sequence[dict]) -> np.ndarray:
    """``polygon_iou`` of every pair, each polygon built once: (len(a), len(b))."""
    pa, pb = [_polygon(v) for v in a], [_polygon(v) for v in b]
    out = np.zeros((len(pa), len(pb)))
    for i, x in enumerate(pa):
        for j, y in enumerate(pb):
            inter = x.intersection(y).area
            union = x.area + y.area - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def _finite(c: object) -> bool:
    return isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c)


def _polygon(value: dict) -> shapely.Geometry:
    """evalme ``utils._try_build_poly`` on master: the ring as given when valid, else ``make_valid``."""
    points = value.get("points")
    ok = isinstance(points, list) and len(points) >= 3 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(_finite(c) for c in p) for p in points
    )
    if not ok:
        raise RegionError("value.points must be a list of at least 3 [x, y] number pairs")
    poly = shapely.Polygon(points)
    return poly if poly.is_valid else shapely.make_valid(poly)


def polygon_iou(a: dict, b: dict) -> float:
    """evalme's ``PolygonObjectDetectionEvalItem._iou``: shapely areas of the repaired polygons."""
    pa, pb = _polygon(a), _polygon(b)
    inter = pa.intersection(pb).area
    union = pa.area + pb.area - inter
    return inter / union if union > 0 else 0.0


def _position(v: Any, key: str) -> float:
    """A span end: a number, a numeric string, or an ISO date (evalme parses dates with dateutil)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            pass
        try:
            t = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp()
    raise RegionError(f"value.{key} must be a number or an ISO date, got {v!r:.40}")


def _interval_iou(s1: float, e1: float, s2: float, e2: float) -> float:
    # evalme ``spans_iou``: disjoint only when strictly apart, so touching spans give 0/union = 0
    if s2 > e1 or s1 > e2:
        return 0.0
    union = max(e1, e2) - min(s1, s2)
    return (min(e1, e2) - max(s1, s2)) / union if union != 0 else 0.0


def span_iou(a: dict, b: dict) -> float:
    """evalme ``spans_iou``; for ``startOffset/endOffset`` spans the containers ``start``/``end`` must be equal."""
    offsets = ("start", "end", "startOffset", "endOffset")
    if all(k in a for k in offsets) and all(k in b for k in offsets):
        # evalme ``spans_iou_by_start_end_offsets``: XPath / paragraph containers compared as given
        if a["start"] != b["start"] or a["end"] != b["end"]:
            return 0.0
        a_off, b_off = (number(a, "startOffset"), number(a, "endOffset")), (number(b, "startOffset"), number(b, "endOffset"))
        return _interval_iou(*a_off, *b_off)
    return _interval_iou(_position(a.get("start"), "start"), _position(a.get("end"), "end"),
                         _position(b.get("start"), "start"), _position(b.get("end"), "end"))  # fmt: skip


def region_iou(a: dict, b: dict) -> float | None:
    """evalme ``identify_region_comparing_function``: polygon, span or box IoU by the keys present; None if none."""
    if "points" in a and "points" in b:
        return polygon_iou(a, b)
    if all(k in a and k in b for k in ("start", "end")):
        return span_iou(a, b)
    if all(k in a and k in b for k in ("x", "y", "width", "height")):
        return bbox_iou(a, b)
    return None


def text_list(value: dict, result: dict | None = None) -> Sequence[str]:
    """``value.text``: a list of strings, or a string, which evalme iterates character by character."""
    text = value.get("text")
    if isinstance(text, str) or (isinstance(text, list) and all(isinstance(t, str) for t in text)):
        return text
    where = f"result {_rid(result)}: " if result is not None else ""
    got = "missing" if "text" not in value else f"got {type(text).__name__}"
    raise RegionError(f"{where}value.text must be a list of strings, {got}")


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def levenshtein_similarity(a: str, b: str) -> float:
    """``textdistance.Levenshtein(qval=1).normalized_similarity``: 1 - distance / longer length (1 for two empty strings)."""
    longest = max(len(a), len(b))
    return 1.0 - _levenshtein(a, b) / longest if longest else 1.0
