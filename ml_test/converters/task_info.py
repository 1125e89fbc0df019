"""Where a converter's regions go: control names, labels and image size, from a task or a labeling config.

The ground truth already says which control (``from_name``) draws on which object (``to_name``)
and which labels it uses; a labeling config (``label_config=``, the project's XML) says it for
every label. Ambiguity is an error that lists the candidates, never a guess.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

from ..engine import parse_image_size
from ..errors import UsageError
from ._errors import ConverterError

__all__ = [
    "KIND_TYPES",
    "Target",
    "ConfigControl",
    "parse_label_config",
    "find_target",
    "ground_truth_size",
    "resolve_image_size",
    "task_text",
    "data_path",
]

# Region kind -> (labelled result type, shape-only type that takes its labels from a <Labels> partner).
KIND_TYPES: dict[str, tuple[str, ...]] = {
    "box": ("rectanglelabels", "rectangle"),
    "polygon": ("polygonlabels", "polygon"),
    "brush": ("brushlabels", "brush"),
    "keypoint": ("keypointlabels", "keypoint"),
    "choices": ("choices",),
    "span": ("labels",),
}
_GEOMETRY_KEYS = ("x", "y", "points", "rle", "start", "end", "radiusX")
_TEXT_OBJECTS = frozenset({"text"})


@dataclass(frozen=True)
class Target:
    """One control to write results for: names, result type, known labels and the data key of its object."""

    kind: str
    from_name: str
    to_name: str
    type: str
    labels: tuple[str, ...] = ()
    labels_complete: bool = False  # True when read from a labeling config: these are all valid labels
    labels_from_name: str | None = None  # split format: a <Labels> control carries the labels
    data_key: str | None = None  # key in task["data"] of the object (``value="$image"``)

    @property
    def label_key(self) -> str:
        """The ``value`` key holding the labels of the geometry result (``labels`` for split results)."""
        return self.type if self.type == KIND_TYPES[self.kind][0] else "labels"

    def describe(self) -> str:
        """``'label' -> 'image'`` for messages."""
        return f"{self.from_name!r} -> {self.to_name!r}"


@dataclass(frozen=True)
class ConfigControl:
    """A control tag of a labeling config."""

    tag: str
    name: str
    to_names: tuple[str, ...]
    labels: tuple[str, ...]
    dynamic: bool


def parse_label_config(xml: str) -> tuple[list[ConfigControl], dict[str, tuple[str, str | None]]]:
    """Controls and objects (name -> (tag, data key)) of a Label Studio labeling config."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise ConverterError(f"label_config is not valid XML: {e}") from None
    controls, objects = [], {}
    for el in root.iter():
        tag, name = el.tag.lower(), el.get("name")
        if not name:
            continue
        to_name = el.get("toName") or el.get("toname")
        if to_name:
            labels = tuple(
                c.get("value") or c.get("alias") or ""
                for c in el.iter()
                if c is not el and c.tag.lower() in ("label", "choice") and (c.get("value") or c.get("alias"))
            )
            dynamic = (el.get("value") or "").startswith("$")
            controls.append(ConfigControl(tag, name, tuple(t.strip() for t in to_name.split(",")), labels, dynamic))
        elif (el.get("value") or "").startswith("$"):
            objects[name] = (tag, el.get("value")[1:])
    return controls, objects


def _config_targets(xml: str, kind: str) -> list[Target]:
    controls, objects = parse_label_config(xml)
    labelled, *shape_only = KIND_TYPES[kind]
    out = []
    for c in controls:
        for to in c.to_names:
            obj_tag, data_key = objects.get(to, ("", None))
            if kind == "span" and obj_tag not in _TEXT_OBJECTS:
                continue  # <Labels> on an image is the split partner of a shape, on audio a time span
            if c.tag == labelled:
                out.append(Target(kind, c.name, to, labelled, c.labels, not c.dynamic, None, data_key))
            elif c.tag in shape_only:
                partner = next((p for p in controls if p.tag == "labels" and to in p.to_names), None)
                labels = partner.labels if partner else ()
                complete = bool(partner) and not partner.dynamic
                out.append(
                    Target(kind, c.name, to, c.tag, labels, complete, partner.name if partner else None, data_key)
                )
    return out


def _annotation_results(task: dict) -> Iterator[list[dict]]:
    for key in ("annotations", "completions"):
        for a in task.get(key) or ():
            if isinstance(a, dict) and not (a.get("was_cancelled") or a.get("skipped")):
                result = a.get("result") or []
                # legacy exports nest the result list one level deeper
                yield [
                    r for item in result for r in (item if isinstance(item, list) else [item]) if isinstance(r, dict)
                ]


def _annotation_targets(task: dict, kind: str) -> list[Target]:
    labelled, *shape_only = KIND_TYPES[kind]
    found: dict[tuple[str, str], tuple[str, dict[str, None], str | None]] = {}
    for results in _annotation_results(task):
        for r in results:
            t, value = r.get("type"), r.get("value")
            if (
                not isinstance(value, dict)
                or not isinstance(r.get("from_name"), str)
                or not isinstance(r.get("to_name"), str)
            ):
                continue
            if kind == "span" and not (t == "labels" and "start" in value and "end" in value and "x" not in value):
                continue
            if kind == "choices" and (t != "choices" or any(k in value for k in _GEOMETRY_KEYS)):
                continue
            if t != labelled and t not in shape_only:
                continue
            labels, partner = list(_str_list(value.get(labelled))), None
            if t in shape_only:
                for p in results:
                    if p.get("type") == "labels" and p.get("id") == r.get("id") and p.get("to_name") == r["to_name"]:
                        partner = p.get("from_name")
                        labels += _str_list((p.get("value") or {}).get("labels"))
            key = (r["from_name"], r["to_name"])
            _, seen, old_partner = found.setdefault(key, (t, {}, partner))
            seen.update(dict.fromkeys(labels))
            if partner and not old_partner:
                found[key] = (t, seen, partner)
    return [Target(kind, f, to, t, tuple(seen), False, partner) for (f, to), (t, seen, partner) in found.items()]


def _str_list(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return ["/".join(map(str, x)) if isinstance(x, list) else str(x) for x in v]
    return []


def find_target(
    task: dict,
    kind: str,
    *,
    from_name: str | None = None,
    to_name: str | None = None,
    label_config: str | None = None,
    where: str = "",
    required: bool = True,
) -> Target | None:
    """The one control of this kind that the task's annotations (or ``label_config``) use.

    Explicit ``from_name``/``to_name`` narrow the candidates; both given and unknown are taken as
    is. No candidate (when ``required``) or several candidates raise ``ConverterError`` listing them.
    """
    source = "labeling config" if label_config else "ground truth"
    candidates = _config_targets(label_config, kind) if label_config else _annotation_targets(task, kind)
    chosen = [
        c
        for c in candidates
        if (from_name is None or c.from_name == from_name) and (to_name is None or c.to_name == to_name)
    ]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        if from_name is not None and to_name is not None:
            return Target(kind, from_name, to_name, KIND_TYPES[kind][0])
        if not required:
            return None
        types = "/".join(KIND_TYPES[kind])
        others = ", ".join(c.describe() for c in candidates)
        hint = f" ({types} controls there: {others})" if others else ""
        raise ConverterError(
            f"{where}: no {types} control found in the {source}{hint}; "
            "pass from_name= and to_name=, or label_config= with the project's labeling config"
        )
    listing = ", ".join(c.describe() for c in chosen)
    raise ConverterError(
        f"{where}: the {source} has {len(chosen)} {kind} controls: {listing}; pass from_name= (and to_name=) to choose one"
    )


def ground_truth_size(task: dict, to_name: str) -> tuple[float, float] | None:
    """``(original_width, original_height)`` of the first annotation result on ``to_name`` that has them."""
    for results in _annotation_results(task):
        for r in results:
            w, h = r.get("original_width"), r.get("original_height")
            if (
                r.get("to_name") == to_name
                and isinstance(w, (int, float))
                and isinstance(h, (int, float))
                and w > 0
                and h > 0
            ):
                return float(w), float(h)
    return None


def data_path(task: dict, target: Target) -> Any:
    """The task data value the object reads (``data[<value var>]``, ``data[to_name]``, or the only string)."""
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    for key in (target.data_key, target.to_name):
        if key and key in data:
            return data[key]
    strings = [v for v in data.values() if isinstance(v, str)]
    return strings[0] if len(strings) == 1 else None


def _local_file(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme == "file":
        value = unquote(parsed.path)
    elif parsed.scheme and len(parsed.scheme) > 1:  # http, s3, gs...; one letter is a Windows drive
        return None
    return value if os.path.isfile(value) else None


def _file_size(path: str, where: str) -> tuple[float, float]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
            orientation = im.getexif().get(0x0112, 1)
    except (OSError, UnidentifiedImageError) as e:
        raise ConverterError(f"{where}: cannot read the image size of {path!r}: {e}") from None
    # browsers (hence Label Studio) and cv2.imread apply EXIF orientation; 5-8 swap the sides
    return (float(h), float(w)) if orientation in (5, 6, 7, 8) else (float(w), float(h))


def resolve_image_size(
    task: dict, target: Target, image_size: Any, where: str, *, required: bool = True
) -> tuple[float, float] | None:
    """Image size in pixels: ground truth, else ``image_size=``, else the local image file; else an error.

    An ``image_size=`` that disagrees with the ground truth is an error: the converter would write
    percentages of the wrong size.
    """
    try:
        given = parse_image_size(tuple(image_size) if isinstance(image_size, (list, tuple)) else image_size)
    except (UsageError, TypeError, ValueError, IndexError) as e:
        raise ConverterError(f"{where}: image_size must be (width, height) or 'WxH': {e}") from None
    truth = ground_truth_size(task, target.to_name)
    if truth and given and (abs(truth[0] - given[0]) > 0.5 or abs(truth[1] - given[1]) > 0.5):
        raise ConverterError(
            f"{where}: image_size={given[0]:g}x{given[1]:g} differs from the ground truth's "
            f"original_width x original_height = {truth[0]:g}x{truth[1]:g}; coordinates must be in the "
            "original image's pixels (scale them back if the model ran on a resized image)"
        )
    if truth or given:
        return truth or given
    value = data_path(task, target)
    path = _local_file(value)
    if path:
        return _file_size(path, where)
    if not required:
        return None
    shown = f"data value {value!r:.80}" if value is not None else "no image path in the task data"
    raise ConverterError(
        f"{where}: image size unknown: the ground truth has no original_width/original_height, no image_size= "
        f"was given, and the task has {shown} that is not a readable local file; pass image_size=(width, height)"
    )


def task_text(task: dict, target: Target) -> str | None:
    """The text a span control labels, when the task data holds it."""
    value = data_path(task, target)
    return value if isinstance(value, str) else None
