"""What every converter shares: labels, scores, region ids, the result envelope and the prediction."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from ._errors import ConverterError
from ._inputs import to_numpy
from .task_info import Target, find_target, resolve_image_size

__all__ = ["Converter", "Context", "resolve_labels", "resolve_scores", "make_prediction", "LabelMap"]

LabelMap = Sequence[str] | Mapping[Any, str]
IMAGE_KINDS = frozenset({"box", "polygon", "brush", "keypoint"})


@dataclass
class Context:
    """One ``from_task`` call: the task, where results go, and how to name it in messages."""

    task: dict
    target: Target
    where: str
    image_size_arg: Any = None
    size: tuple[float, float] | None = field(default=None, init=False)  # resolved (or set) image size

    def image_size(self, *, required: bool = True) -> tuple[float, float] | None:
        """(width, height) in pixels, resolved once (ground truth, ``image_size=``, image file)."""
        if self.size is None:
            self.size = resolve_image_size(self.task, self.target, self.image_size_arg, self.where, required=required)
        return self.size


def _label_from_map(key: Any, label_map: LabelMap | None, where: str, i: int) -> str:
    if label_map is None:
        raise ConverterError(
            f"{where}: labels[{i}] is the class id {key!r}; pass label_map= (a list or dict of label names)"
        )
    if isinstance(label_map, Mapping):
        for k in (key, str(key)) if not isinstance(key, str) else (key,):
            if k in label_map:
                return str(label_map[k])
        shown = ", ".join(map(repr, list(label_map)[:10]))
        raise ConverterError(f"{where}: labels[{i}]: class id {key!r} is not in label_map (keys: {shown})")
    if isinstance(key, (int, np.integer)) and 0 <= key < len(label_map):
        return str(label_map[int(key)])
    raise ConverterError(f"{where}: labels[{i}]: class id {key!r} is outside label_map (0..{len(label_map) - 1})")


def resolve_labels(raw: Any, n: int, label_map: LabelMap | None, target: Target, where: str) -> list[str]:
    """One label name per region: names as given (or renamed by a dict label_map), class ids through label_map.

    With no labels, the control's only label (from the ground truth or the config) is used.
    """
    if raw is None:
        if n == 0:
            return []
        if len(target.labels) == 1:
            return [target.labels[0]] * n
        known = ", ".join(target.labels) or "none"
        raise ConverterError(
            f"{where}: no labels given and control {target.from_name!r} has {len(target.labels)} labels ({known}); "
            "pass labels= (names, or class ids with label_map=)"
        )
    items = (
        [raw]
        if isinstance(raw, str)
        else list(raw)
        if isinstance(raw, (list, tuple))
        else to_numpy(raw, "labels").tolist()
    )
    if not isinstance(items, list):
        items = [items]
    if len(items) != n:
        raise ConverterError(f"{where}: got {len(items)} labels for {n} regions")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, float) and item.is_integer():
            item = int(item)  # class ids arrive as floats from ultralytics (Boxes.cls)
        if isinstance(item, str):
            name = str(label_map[item]) if isinstance(label_map, Mapping) and item in label_map else item
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            name = _label_from_map(int(item), label_map, where, i)
        else:
            raise ConverterError(f"{where}: labels[{i}] must be a label name or a class id, got {item!r:.40}")
        if target.labels_complete and name not in target.labels:
            raise ConverterError(
                f"{where}: labels[{i}] {name!r} is not a label of control {target.from_name!r} "
                f"(labels: {', '.join(target.labels)})"
            )
        out.append(name)
    return out


def resolve_scores(raw: Any, n: int, where: str) -> np.ndarray:
    """One finite score per region; 1.0 each when the model gave none."""
    if raw is None:
        return np.ones(n)
    scores = to_numpy(raw, "scores").astype(np.float64).reshape(-1)
    if scores.size != n:
        raise ConverterError(f"{where}: got {scores.size} scores for {n} regions")
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        raise ConverterError(f"{where}: scores[{bad[0]}] must be finite, got {scores[bad[0]]}")
    return scores


def _region_id(task_id: Any, target: Target, index: int, value: dict) -> str:
    """Deterministic 10-character id: the same output gives the same file; distinct regions differ."""
    key = json.dumps(
        [task_id, target.from_name, target.to_name, target.type, index, value], sort_keys=True, default=str
    )
    return base64.urlsafe_b64encode(hashlib.blake2b(key.encode(), digest_size=9).digest()).decode()[:10]


def _dim(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def make_prediction(results: list[dict], model_version: str | None) -> dict:
    """A prediction: its results, ``model_version`` and ``score`` = mean region score (0.0 with no region)."""
    per_region: dict[str, float] = {}
    for r in results:
        if "score" in r:
            per_region.setdefault(r["id"], float(r["score"]))
    score = float(np.mean(list(per_region.values()))) if per_region else 0.0
    return {"model_version": model_version, "score": score, "result": results}


class Converter:
    """Base of the converters: ``from_task`` builds the prediction, subclasses supply the regions."""

    kind: ClassVar[str]

    def __init__(self, labels: Any = None, scores: Any = None, label_map: LabelMap | None = None) -> None:
        if label_map is not None and not isinstance(label_map, (Mapping, list, tuple)):
            raise ConverterError(
                f"{type(self).__name__}: label_map must be a list or a dict, got {type(label_map).__name__}"
            )
        self.labels, self.scores, self.label_map = labels, scores, label_map

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        """(geometry values, labels, scores), one of each per region."""
        raise NotImplementedError

    def to_results(
        self,
        task: dict,
        *,
        from_name: str | None = None,
        to_name: str | None = None,
        image_size: Any = None,
        label_config: str | None = None,
    ) -> list[dict]:
        """The result items alone (to combine several converters in one prediction)."""
        if not isinstance(task, dict):
            raise ConverterError(
                f"{type(self).__name__}.from_task expects a Label Studio task dict, got {type(task).__name__}"
            )
        tid = task.get("id")
        where = f"task {tid if tid is not None else '(no id)'}: {type(self).__name__}"
        target = find_target(
            task, self.kind, from_name=from_name, to_name=to_name, label_config=label_config, where=where
        )
        assert target is not None  # required=True raises instead
        ctx = Context(task, target, where, image_size)
        values, labels, scores = self._regions(ctx)
        size = ctx.size if self.kind in IMAGE_KINDS else None
        results = []
        for i, (value, label, score) in enumerate(zip(values, labels, scores)):
            names = label if isinstance(label, list) else [label]
            rid = _region_id(tid, target, i, value)
            head: dict[str, Any] = {
                "id": rid,
                "from_name": target.from_name,
                "to_name": target.to_name,
                "type": target.type,
            }
            tail: dict[str, Any] = {}
            if size is not None:
                tail = {"original_width": _dim(size[0]), "original_height": _dim(size[1]), "image_rotation": 0}
            s = float(score)
            if target.labels_from_name:
                # split format: geometry under the shape control, labels in a <Labels> result with the same id
                results.append({**head, **tail, "value": dict(value), "score": s})
                results.append({**head, "from_name": target.labels_from_name, "type": "labels", **tail,
                                "value": {**value, "labels": names}, "score": s})  # fmt: skip
            else:
                results.append({**head, **tail, "value": {**value, target.label_key: names}, "score": s})
        return results

    def from_task(
        self,
        task: dict,
        *,
        from_name: str | None = None,
        to_name: str | None = None,
        model_version: str | None = None,
        image_size: Any = None,
        label_config: str | None = None,
    ) -> list[dict]:
        """A list holding one Label Studio prediction for ``task`` (so ``task["predictions"] = ...`` works)."""
        results = self.to_results(
            task, from_name=from_name, to_name=to_name, image_size=image_size, label_config=label_config
        )
        return [make_prediction(results, model_version)]


def check_finite(arr: np.ndarray, where: str, what: str) -> None:
    """Raise naming the first region whose ``what`` is nan or infinite."""
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise ConverterError(f"{where}: region {i}: {what} must be finite, got {arr[i].tolist()}")


def check_positive(arr: np.ndarray, where: str, what: str, hint: str = "") -> None:
    """Raise naming the first region whose ``what`` is not > 0."""
    bad = np.flatnonzero(~(arr > 0))
    if bad.size:
        i = int(bad[0])
        raise ConverterError(f"{where}: region {i}: {what} must be > 0, got {arr[i]:g}{hint}")


def looks_normalized(coords: np.ndarray, size: tuple[float, float] | None) -> bool:
    """Pixel coordinates that all lie in [0, 1] on an image of >= 32 px are almost surely normalized."""
    return bool(coords.size) and size is not None and min(size) >= 32 and float(np.abs(coords).max()) <= 1.0
