"""Turn a Label Studio ``result`` list into typed regions, grouped per control.

Results that share a region ``id`` on the same object tag form one region: a geometry result
(``rectangle``) and its split ``labels`` result, plus per-region children (``choices`` or
``textarea`` with ``perRegion``). ``relation`` items are kept apart. Values are validated here,
once, with errors that name the region and the field; code behind the parser trusts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .errors import InputError
from .geometry.masks import parse_mask
from .geometry.video import parse_track
from .values import (
    read_number,
    read_score,
    read_labels,
    read_image_size,
    read_box,
    read_polygon,
    read_ellipse,
    read_interval,
    ANSWER_READERS,
)

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
            extra = tuple(lab for s in split for lab in read_labels(s["value"], "labels", where))
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
    labels = read_labels(value, own_label_key, here) if own_label_key else ()
    if extra_labels:
        labels = tuple(dict.fromkeys(labels + extra_labels))
    if kind == "box":
        geometry: Any = read_box(value, here, warnings)
    elif kind == "polygon":
        geometry = read_polygon(value, here, warnings)
    elif kind == "span":
        geometry = read_interval(t, value, here)
    elif kind == "ellipse":
        geometry = read_ellipse(value, here)
    elif kind == "keypoint":
        geometry = (read_number(value, "x", here), read_number(value, "y", here))
    elif kind == "mask":
        geometry = parse_mask(value, t, here)
    elif kind == "video":
        geometry = parse_track(value, here)
    elif kind in ANSWER_KINDS:
        geometry = ANSWER_READERS[kind](value, here)
    else:
        geometry = ()
    return Region(
        id=rid,
        control=r["from_name"],
        kind=kind,
        type=t,
        labels=labels,
        score=read_score(r, value, default_score, here),
        geometry=geometry,
        image_size=read_image_size(r, here),
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
