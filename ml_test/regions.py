"""Turn a Label Studio ``result`` list into typed regions, grouped per control.

Results that share a region ``id`` on the same object tag form one region: a geometry result
(``rectangle``) and its split ``labels`` result, plus per-region children (``choices`` or
``textarea`` with ``perRegion``). ``relation`` items are kept apart. Values are validated here,
once, with errors that name the region and the field; code behind the parser trusts them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import InputError
from .geometry.intervals import PARAGRAPH_STRIDE, Interval, merge_ranges, parse_time
from .geometry.masks import parse_mask
from .geometry.video import parse_track

__all__ = [
    "Region", "ParsedResult", "parse_result", "relation_regions", "KIND_OF_TYPE", "GEOMETRY_KINDS", "ANSWER_KINDS",
    "RELATIONS_CONTROL", "CHILD_KINDS", "child_kind", "child_regions",
]  # fmt: skip

# Result type -> region kind scored by this version. Other types are recognised but not scored.
KIND_OF_TYPE = {
    "rectanglelabels": "box",
    "rectangle": "box",
    "polygonlabels": "polygon",
    "polygon": "polygon",
    "ellipselabels": "ellipse",
    "ellipse": "ellipse",
    "keypointlabels": "keypoint",
    "keypoint": "keypoint",
    "brushlabels": "mask",
    "brush": "mask",
    "magicwand": "mask",
    "bitmasklabels": "mask",
    "bitmask": "mask",
    "videorectangle": "video",
    "timeserieslabels": "span",
    "paragraphlabels": "span",
    "hypertextlabels": "span",
    "htmllabels": "span",
    "timelinelabels": "span",
    "choices": "choices",
    "textarea": "textarea",
    "taxonomy": "taxonomy",
    "number": "number",
    "rating": "rating",
    "datetime": "datetime",
    "pairwise": "pairwise",
    "ranker": "ranker",
}
GEOMETRY_KINDS = frozenset({"box", "polygon", "ellipse", "keypoint", "mask"})
# Relations are scored as one pseudo-control of this name (kind "relation").
RELATIONS_CONTROL = "relations"
_DIRECTIONS = ("right", "left", "bi")
# One answer per task and control (no labels, no matching): scored by the answer family.
ANSWER_KINDS = frozenset({"textarea", "taxonomy", "number", "rating", "datetime", "pairwise", "ranker"})
# Per-region children (perRegion TextArea, Choices ...) on a shape form controls of their own kind,
# scored through the matching of their parent regions (``metrics.children``).
CHILD_KINDS = {kind: f"region_{kind}" for kind in ("textarea", "choices", "taxonomy", "number", "rating", "datetime")}
# Types that draw a shape and may carry a split ``labels`` partner; scored or not, they anchor a region.
_SHAPE_TYPES = frozenset(
    {
        "rectanglelabels", "rectangle", "polygonlabels", "polygon", "ellipselabels", "ellipse",
        "keypointlabels", "keypoint", "brushlabels", "brush", "magicwand", "bitmasklabels", "bitmask",
        "videorectangle", "vectorlabels", "vector", "ocrlabels",
    }
)  # fmt: skip
_GEOMETRY_KEYS = ("x", "y", "width", "height", "points", "rle", "radiusX", "imageDataURL")


class Region(NamedTuple):
    """One region of one control: kind, labels, score and geometry (percent units for images).

    ``geometry`` by kind: box ``(x, y, width, height, rotation)`` with x, y the top-left corner in
    percent and rotation in degrees about it; polygon ``(n, 2)`` array of percent points; ellipse
    ``(cx, cy, radius_x, radius_y, rotation)`` in percent, rotation about the centre; keypoint
    ``(x, y)`` in percent; mask a ``geometry.masks.MaskSource`` (decoded when scored); video a
    ``geometry.video.Track`` (keyframes interpolated to every frame); span ``(start, end)`` for text and audio, else an ``Interval``
    (``geometry.intervals``); choices ``()`` (the choices are the ``labels``); answers: textarea
    a tuple of strings, taxonomy a tuple of paths (tuples of strings), number and rating a float,
    datetime ``(text, seconds or None)``, pairwise a string, ranker a tuple of ``(list name, ids)``.
    A named tuple rather than a dataclass: exports hold hundreds of thousands of regions and this
    is 3x cheaper to build.
    """

    id: str
    control: str
    kind: str
    type: str
    labels: tuple[str, ...]
    score: float | None
    geometry: Any
    image_size: tuple[float, float] | None = None
    children: tuple[dict, ...] = ()
    # keypoints with ``parentID``: the parent rectangle once resolved (``oks_mAP`` groups points by it), else its id
    parent: "Region | str | None" = None

    @property
    def label(self) -> str:
        """The label this region is scored under (the first one; empty when unlabelled)."""
        return self.labels[0] if self.labels else ""


@dataclass(slots=True)
class ParsedResult:
    """The regions of one annotation or prediction, per control, plus what was set aside."""

    controls: dict[str, list[Region]] = field(default_factory=dict)
    relations: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, region: Region) -> None:
        """Append a region under its control."""
        self.controls.setdefault(region.control, []).append(region)


def _number(value: dict, key: str, where: str, default: float | None = None, prefix: str = "value.") -> float:
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


def _score(r: dict, value: dict, default: float | None, where: str) -> float | None:
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


def _labels(value: dict, key: str, where: str) -> tuple[str, ...]:
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


def _image_size(r: dict, where: str) -> tuple[float, float] | None:
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


def _box(value: dict, where: str, warnings: list[str]) -> tuple[float, float, float, float, float]:
    x, y = _number(value, "x", where), _number(value, "y", where)
    w, h = _number(value, "width", where), _number(value, "height", where)
    rotation = _number(value, "rotation", where, 0.0) % 360.0
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


def _polygon(value: dict, where: str, warnings: list[str]) -> np.ndarray:
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
    start, end = _number(value, "start", where), _number(value, "end", where)
    return (start, end) if start <= end else (end, start)


def _ellipse(value: dict, where: str) -> tuple[float, float, float, float, float]:
    x, y = _number(value, "x", where), _number(value, "y", where)
    # Konva draws a negative radius as its absolute value
    rx, ry = abs(_number(value, "radiusX", where)), abs(_number(value, "radiusY", where))
    return x, y, rx, ry, _number(value, "rotation", where, 0.0) % 360.0


def _time_point(value: dict, key: str, where: str) -> float:
    """A time-series coordinate: a number, or a date string as milliseconds since the epoch."""
    v = value.get(key)
    if isinstance(v, str):
        try:
            return _number(value, key, where)
        except InputError:
            seconds = parse_time(v)
            if seconds is None:
                raise InputError(f"{where}: value.{key} must be a number or an ISO 8601 date, got {v!r:.40}") from None
            return seconds * 1000.0
    return _number(value, key, where)


def _paragraph_index(value: dict, key: str, where: str) -> int:
    v = _number(value, key, where)  # numeric strings ("2") are common in real exports
    if v < 0 or v != int(v):
        raise InputError(f"{where}: value.{key} must be a paragraph index (an integer >= 0), got {value.get(key)!r:.40}")
    return int(v)


def _paragraphs(value: dict, where: str) -> Interval:
    p0, p1 = _paragraph_index(value, "start", where), _paragraph_index(value, "end", where)
    if "startOffset" in value or "endOffset" in value:
        o0, o1 = _number(value, "startOffset", where), _number(value, "endOffset", where)
        a, b, shown = p0 * PARAGRAPH_STRIDE + o0, p1 * PARAGRAPH_STRIDE + o1, f"paragraph {p0}:{o0:g} to {p1}:{o1:g}"
    else:  # whole paragraphs
        a, b, shown = p0 * PARAGRAPH_STRIDE, (max(p0, p1) + 1) * PARAGRAPH_STRIDE, f"paragraphs {p0} to {p1}"
    return Interval(min(a, b), max(a, b), None, None, shown)


def _hypertext(value: dict, where: str) -> tuple[float, float] | Interval:
    offsets = value.get("globalOffsets")
    if isinstance(offsets, dict):
        a = _number(offsets, "start", where, prefix="value.globalOffsets.")
        b = _number(offsets, "end", where, prefix="value.globalOffsets.")
        return (a, b) if a <= b else (b, a)
    start, end = value.get("start"), value.get("end")
    if not (isinstance(start, str) and isinstance(end, str)):
        if "startOffset" not in value:  # character offsets into plain text, as a text span
            return _span(value, where)
        raise InputError(f"{where}: value.start and value.end must be XPath strings (or give value.globalOffsets)")
    o0, o1 = _number(value, "startOffset", where), _number(value, "endOffset", where)
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
        a, b = _number(r, "start", where, prefix=f"value.ranges[{i}]."), _number(r, "end", where, prefix=f"value.ranges[{i}].")
        frames.append((min(a, b), max(a, b) + 1.0))  # frames are inclusive: 1..10 covers 10 frames
    parts = merge_ranges(frames)
    shown = "frames " + ", ".join(f"{a:g}-{b - 1:g}" for a, b in parts)
    return Interval(parts[0][0], parts[-1][1], None, parts if len(parts) > 1 else None, shown)


def _interval(t: str, value: dict, where: str) -> tuple[float, float] | Interval:
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


_ANSWER_PARSERS = {
    "textarea": lambda value, where: _strings(value, "text", where),
    "taxonomy": _taxonomy,
    "number": lambda value, where: _number(value, "number", where),
    "rating": lambda value, where: _number(value, "rating", where),
    "datetime": _datetime,
    "pairwise": _pairwise,
    "ranker": _ranker,
}


def _classify(r: dict) -> str:
    """Kind of a standalone result: one of KIND_OF_TYPE's kinds, a text or audio span, or 'other'."""
    t = r["type"]
    if t in KIND_OF_TYPE:
        return KIND_OF_TYPE[t]
    if t == "labels" and "start" in r["value"] and "end" in r["value"]:
        return "span"
    return "other"


def parse_result(
    results: tuple[dict, ...] | list[dict], *, where: str = "", default_score: float | None = None
) -> ParsedResult:
    """Group one result list into regions per control, validating every value used for scoring."""
    parsed = ParsedResult()
    groups: dict[tuple[str, str], list[dict]] = {}
    for i, r in enumerate(results):
        t = r.get("type")
        if t == "relation":
            parsed.relations.append(r)
            continue
        rid = r.get("id")
        if not (type(t) is str and type(r.get("from_name")) is str and type(r.get("to_name")) is str):
            here = f"{where}: result {rid!r}" if rid is not None else f"{where}: result #{i}"
            for key in ("type", "from_name", "to_name"):
                if not isinstance(r.get(key), str):
                    raise InputError(f"{here}: {key} must be a string, got {type(r.get(key)).__name__}")
        if type(r.get("value")) is not dict:
            here = f"{where}: result {rid!r}" if rid is not None else f"{where}: result #{i}"
            raise InputError(f"{here}: value must be an object, got {type(r.get('value')).__name__}")
        key = (r["to_name"], str(rid) if rid is not None else f"#{i}")
        group = groups.get(key)
        if group is None:
            groups[key] = [r]
        else:
            group.append(r)

    for (_, gid), members in groups.items():
        if len(members) == 1:
            parsed.add(_region(members[0], gid, where, default_score, parsed.warnings, (), ()))
            continue
        shapes = [r for r in members if r["type"] in _SHAPE_TYPES]
        if shapes:
            # one region per shape result; its split labels and per-region children attach to the first
            split = [r for r in members if r["type"] == "labels" and any(k in r["value"] for k in _GEOMETRY_KEYS)]
            extra = tuple(lab for s in split for lab in _labels(s["value"], "labels", where))
            children = tuple(r for r in members if r["type"] not in _SHAPE_TYPES and r["type"] != "labels")
            for n, r in enumerate(shapes):
                parsed.add(_region(r, gid, where, default_score, parsed.warnings, extra if n == 0 else (), children if n == 0 else ()))
            continue
        # no shape: each result stands alone (classifications, text spans, unknown types)
        for r in members:
            parsed.add(_region(r, gid, where, default_score, parsed.warnings, (), ()))
    _resolve_parents(parsed)
    return parsed


def _resolve_parents(parsed: ParsedResult) -> None:
    """Replace a keypoint's ``parentID`` by its parent rectangle (of any control); a dangling id is dropped."""
    # only keypoint controls can hold a parentID: other controls are skipped at their first region
    pending = [
        (c, i) for c, rs in parsed.controls.items() if rs[0].kind == "keypoint" for i, r in enumerate(rs) if type(r.parent) is str
    ]
    if not pending:
        return
    boxes = {r.id: r for rs in parsed.controls.values() for r in rs if r.kind == "box"}
    for c, i in pending:
        r = parsed.controls[c][i]
        parsed.controls[c][i] = r._replace(parent=boxes.get(r.parent))


def _region(
    r: dict,
    rid: str,
    where: str,
    default_score: float | None,
    warnings: list[str],
    extra_labels: tuple[str, ...],
    children: tuple[dict, ...],
) -> Region:
    t, value = r["type"], r["value"]
    here = f"{where}: result {rid!r}"
    kind = KIND_OF_TYPE.get(t) or _classify(r)
    # <Video> merges its Labels into the videorectangle result as value.labels
    own_label_key = t if t.endswith("labels") or t == "choices" else ("labels" if kind == "video" else None)
    labels = _labels(value, own_label_key, here) if own_label_key else ()
    if extra_labels:
        labels = tuple(dict.fromkeys(labels + extra_labels))
    if kind == "box":
        geometry: Any = _box(value, here, warnings)
    elif kind == "polygon":
        geometry = _polygon(value, here, warnings)
    elif kind == "span":
        geometry = _interval(t, value, here)
    elif kind == "ellipse":
        geometry = _ellipse(value, here)
    elif kind == "keypoint":
        geometry = (_number(value, "x", here), _number(value, "y", here))
    elif kind == "mask":
        geometry = parse_mask(value, t, here)
    elif kind == "video":
        geometry = parse_track(value, here)
    elif kind in ANSWER_KINDS:
        geometry = _ANSWER_PARSERS[kind](value, here)
    else:
        geometry = ()
    return Region(
        id=rid,
        control=r["from_name"],
        kind=kind,
        type=t,
        labels=labels,
        score=_score(r, value, default_score, here),
        geometry=geometry,
        image_size=_image_size(r, here),
        children=children,
        parent=str(r["parentID"]) if kind == "keypoint" and r.get("parentID") is not None else None,
    )


def relation_regions(parsed: ParsedResult, where: str) -> tuple[Region, ...]:
    """The relations of one result list as regions of kind ``relation``: geometry ``(from_id, to_id, direction)``."""
    out = []
    for k, r in enumerate(parsed.relations):
        here = f"{where}: relation #{k + 1}"
        ends = []
        for key in ("from_id", "to_id"):
            v = r.get(key)
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                raise InputError(f"{here}: {key} must be a region id, got {'nothing' if v is None else type(v).__name__}")
            ends.append(str(v))
        direction = r.get("direction", "right")
        if direction not in _DIRECTIONS:
            raise InputError(f"{here}: direction must be one of 'right', 'left', 'bi', got {direction!r:.40}")
        labels = r.get("labels") or []
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InputError(f"{here}: labels must be a list of strings, got {labels!r:.40}")
        out.append(Region(f"{ends[0]}->{ends[1]}", RELATIONS_CONTROL, "relation", "relation", tuple(labels), None, (*ends, direction)))
    return tuple(out)


def child_kind(child: dict) -> str | None:
    """The control kind of a per-region child result (``region_textarea`` ...), or None when it is not scored."""
    return CHILD_KINDS.get(KIND_OF_TYPE.get(child.get("type", "")))


def child_regions(parent: Region, control: str, where: str) -> tuple[Region, ...]:
    """The children of ``parent`` from control ``control`` as validated regions (kind: the answer kind), in file order."""
    return tuple(
        _region(c, parent.id, where, None, [], (), ()) for c in parent.children if c.get("from_name") == control
    )
