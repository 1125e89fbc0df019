"""Detector outputs of common frameworks -> one Label Studio prediction, without importing them.

Recognised by their shape (duck typing): detectron2 ``Instances`` (or ``DefaultPredictor``'s
``{"instances": ...}``), torchvision detection dicts (``boxes``, ``labels``, ``scores``,
``masks``, ``keypoints``), ultralytics ``Results`` (``boxes``, ``obb``, ``masks``,
``keypoints``, ``probs``, ``names``, ``orig_shape``) and supervision ``Detections``. Each
output becomes a neutral :class:`Detections`; every kind it holds that the task has a control
for (boxes, oriented boxes, masks, polygons, keypoints, class scores) is converted, and all
results go into one prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ._base import LabelMap, make_prediction
from ._errors import ConverterError
from ._inputs import to_numpy
from .boxes import BboxConverter
from .choices import ChoicesConverter
from .keypoints import KeypointConverter
from .masks import MaskConverter
from .polygons import PolygonConverter
from .rotated import RotatedBboxConverter
from .task_info import KIND_TYPES, find_target

__all__ = ["Detections", "to_detections", "predictions_from"]


@dataclass(frozen=True)
class Detections:
    """One image's detections in pixels, framework-neutral. Every array is indexed by detection."""

    source: str
    boxes: np.ndarray | None = None  # (n, 4) xyxy
    labels: list[Any] | None = None  # class ids or names
    scores: np.ndarray | None = None  # (n,)
    masks: np.ndarray | None = None  # (n, H, W) bool or float, at mask_size
    polygons: list[np.ndarray] | None = None  # n rings of (k, 2) points
    obb: np.ndarray | None = None  # (n, 4, 2) corners
    keypoints: np.ndarray | None = None  # (n, k, 2|3)
    probs: np.ndarray | None = None  # (c,) class probabilities (classifiers)
    names: LabelMap | None = None  # the model's class id -> name
    image_size: tuple[float, float] | None = None  # (width, height) of the original image

    def __len__(self) -> int:
        for a in (self.boxes, self.obb, self.masks, self.keypoints):
            if a is not None:
                return len(a)
        return len(self.polygons) if self.polygons is not None else 0

    def take(self, keep: np.ndarray) -> Detections:
        """The detections where ``keep`` is True."""
        idx = np.flatnonzero(keep)
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return replace(
            self,
            boxes=pick(self.boxes), scores=pick(self.scores), masks=pick(self.masks), obb=pick(self.obb),
            keypoints=pick(self.keypoints),
            labels=None if self.labels is None else [self.labels[i] for i in idx],
            polygons=None if self.polygons is None else [self.polygons[i] for i in idx],
        )  # fmt: skip


def _opt(x: Any, name: str) -> np.ndarray | None:
    return None if x is None else to_numpy(x, name)


def _ids(x: Any, name: str) -> list[Any] | None:
    if x is None:
        return None
    return to_numpy(x, name).reshape(-1).tolist()


def _hw(shape: Any) -> tuple[float, float] | None:
    """(width, height) from an (height, width) pair."""
    if shape is None:
        return None
    h, w = (int(v) for v in tuple(shape)[:2])
    return float(w), float(h)


def _from_ultralytics(r: Any) -> Detections:
    boxes, obb, masks, kps, probs = (getattr(r, k, None) for k in ("boxes", "obb", "masks", "keypoints", "probs"))
    main = obb if obb is not None else boxes
    size = _hw(getattr(r, "orig_shape", None))
    polygons = masks_px = None
    if masks is not None:
        polygons = [to_numpy(p, "masks.xy").reshape(-1, 2) for p in masks.xy]
        data = _opt(masks.data, "masks.data")
        # masks.data is at the letterboxed inference size unless retina_masks=True: use it only at full size
        if data is not None and size and data.shape[1:] == (int(size[1]), int(size[0])):
            masks_px = data
    points = None
    if kps is not None:
        data = getattr(kps, "data", None)
        points = _opt(data, "keypoints.data") if data is not None else _opt(kps.xy, "keypoints.xy")
    return Detections(
        source="ultralytics Results",
        boxes=_opt(boxes.xyxy, "boxes.xyxy") if boxes is not None else None,
        obb=_opt(obb.xyxyxyxy, "obb.xyxyxyxy").reshape(-1, 4, 2) if obb is not None else None,
        labels=_ids(main.cls, "cls") if main is not None else None,
        scores=_opt(main.conf, "conf").reshape(-1) if main is not None else None,
        masks=masks_px,
        polygons=polygons,
        keypoints=points,
        probs=_opt(probs.data, "probs.data").reshape(-1) if probs is not None else None,
        names=dict(r.names) if getattr(r, "names", None) is not None else None,
        image_size=size,
    )


def _from_detectron2(inst: Any) -> Detections:
    fields = ("pred_boxes", "scores", "pred_classes", "pred_masks", "pred_keypoints")
    get = (
        inst.get_fields()
        if callable(getattr(inst, "get_fields", None))
        else {k: getattr(inst, k) for k in fields if hasattr(inst, k)}
    )
    boxes = obb = None
    if "pred_boxes" in get:
        b = to_numpy(get["pred_boxes"], "pred_boxes")
        if b.ndim == 2 and b.shape[1] == 5:
            # RotatedBoxes: (cx, cy, w, h, angle) with the angle in degrees counter-clockwise on screen
            c = b.astype(np.float64).copy()
            c[:, 4] = -c[:, 4]
            obb = _centre_deg_to_corners(c)
        else:
            boxes = b
    return Detections(
        source="detectron2 Instances",
        boxes=boxes,
        obb=obb,
        labels=_ids(get.get("pred_classes"), "pred_classes"),
        scores=_opt(get.get("scores"), "scores"),
        masks=_opt(get.get("pred_masks"), "pred_masks"),
        keypoints=_opt(get.get("pred_keypoints"), "pred_keypoints"),
        image_size=_hw(getattr(inst, "image_size", None)),
    )


def _centre_deg_to_corners(c: np.ndarray) -> np.ndarray:
    """(n, 5) cx, cy, w, h, clockwise degrees -> (n, 4, 2) corners in Label Studio's order."""
    t = np.deg2rad(c[:, 4])
    u = np.column_stack([np.cos(t), np.sin(t)]) * (c[:, 2:3] / 2)
    v = np.column_stack([-np.sin(t), np.cos(t)]) * (c[:, 3:4] / 2)
    ctr = c[:, :2]
    return np.stack([ctr - u - v, ctr + u - v, ctr + u + v, ctr - u + v], axis=1)


def _from_torchvision(d: Mapping[str, Any]) -> Detections:
    # keypoints are (x, y, visibility); keypoints_scores are raw heatmap logits (any sign), so the
    # visibility column, not the logit, decides which points are kept
    kps = _opt(d.get("keypoints"), "keypoints")
    return Detections(
        source="torchvision detection dict",
        boxes=_opt(d.get("boxes"), "boxes"),
        labels=_ids(d.get("labels"), "labels"),
        scores=_opt(d.get("scores"), "scores"),
        masks=_opt(d.get("masks"), "masks"),
        keypoints=kps,
    )


def _from_supervision(det: Any) -> Detections:
    data = getattr(det, "data", None) or {}
    names = data.get("class_name")
    class_ids = _ids(getattr(det, "class_id", None), "class_id")
    obb = data.get("xyxyxyxy")
    return Detections(
        source="supervision Detections",
        boxes=_opt(det.xyxy, "xyxy") if obb is None else None,
        obb=_opt(obb, "xyxyxyxy").reshape(-1, 4, 2) if obb is not None else None,
        labels=class_ids if class_ids is not None else (list(names) if names is not None else None),
        scores=_opt(getattr(det, "confidence", None), "confidence"),
        masks=_opt(getattr(det, "mask", None), "mask"),
        names={i: str(n) for i, n in zip(class_ids, names)} if names is not None and class_ids is not None else None,
    )


def to_detections(output: Any) -> Detections:
    """Recognise a framework's output by its attributes and return neutral :class:`Detections`."""
    if isinstance(output, Detections):
        return output
    if isinstance(output, (list, tuple)) and not isinstance(output, str):
        if len(output) != 1:
            raise ConverterError(
                f"expected the output for one image, got a list of {len(output)}; convert each image's output with its task"
            )
        return to_detections(output[0])
    if isinstance(output, Mapping):
        if "instances" in output:
            return _from_detectron2(output["instances"])
        if "boxes" in output:
            return _from_torchvision(output)
    if hasattr(output, "xyxy") and hasattr(output, "class_id"):
        return _from_supervision(output)
    if hasattr(output, "orig_shape") and hasattr(output, "names"):
        return _from_ultralytics(output)
    if hasattr(output, "pred_boxes") or callable(getattr(output, "get_fields", None)):
        return _from_detectron2(output)
    raise ConverterError(
        f"cannot read a {type(output).__name__}: expected a detectron2 Instances (or {{'instances': ...}}), a torchvision "
        "detection dict, an ultralytics Results or a supervision Detections"
    )


def _rasterize(polygons: list[np.ndarray], size: tuple[float, float]) -> np.ndarray:
    """(n, H, W) bool masks filled from pixel polygons (ultralytics masks.xy) at the original size."""
    from PIL import Image, ImageDraw

    w, h = int(size[0]), int(size[1])
    out = np.zeros((len(polygons), h, w), dtype=bool)
    for i, p in enumerate(polygons):
        if len(p) >= 3:
            im = Image.new("1", (w, h), 0)
            ImageDraw.Draw(im).polygon([tuple(map(float, q)) for q in p], fill=1)
            out[i] = np.asarray(im, dtype=bool)
    return out


def predictions_from(
    output: Any,
    task: dict,
    *,
    label_map: LabelMap | None = None,
    keypoint_labels: Sequence[str] | None = None,
    from_name: str | Mapping[str, str] | None = None,
    model_version: str | None = None,
    image_size: Any = None,
    label_config: str | None = None,
    min_score: float | None = None,
) -> list[dict]:
    """One call from a detector's output to ``task["predictions"]``: a list holding one prediction.

    Parameters
    ----------
    output : detectron2 Instances, torchvision dict, ultralytics Results, supervision Detections
        The output for this task's image (a list of one is unwrapped), recognised by duck typing.
    task : dict
        The Label Studio task; its ground truth (or ``label_config``) says which controls exist.
    label_map : list or dict, optional
        Class id -> label name. Default: the model's own names (ultralytics ``names``, supervision
        ``class_name``); torchvision and detectron2 carry none, so pass it for them.
    keypoint_labels : sequence of str, optional
        Keypoint index -> ``keypointlabels`` name, for pose outputs.
    from_name : str or dict, optional
        The control to write to, or one per kind (``{"box": "label", "brush": "mask"}``).
    model_version, image_size, label_config
        As for :meth:`BboxConverter.from_task`. The output's own image size (ultralytics
        ``orig_shape``, detectron2 ``image_size``) is checked against the ground truth.
    min_score : float, optional
        Drop detections scoring below this.

    Returns
    -------
    list of dict
        One prediction holding the results of every kind that the output has and the task has a
        control for: boxes (or oriented boxes) -> rectangles; masks -> brush; ultralytics mask
        polygons -> polygons; keypoints -> keypoints; class probabilities -> choices.

    Raises
    ------
    ConverterError
        Unrecognised output, no control in the task for anything the output holds, ambiguous controls.

    Examples
    --------
    >>> task = {"id": 8, "annotations": [{"result": [{"from_name": "label", "to_name": "image",
    ...     "type": "rectanglelabels", "original_width": 100, "original_height": 100,
    ...     "value": {"x": 0, "y": 0, "width": 10, "height": 10, "rectanglelabels": ["Car"]}}]}]}
    >>> torchvision_output = {"boxes": [[10.0, 10.0, 30.0, 40.0]], "labels": [3], "scores": [0.8]}
    >>> [pred] = predictions_from(torchvision_output, task, label_map={3: "Car"})
    >>> pred["result"][0]["value"]["rectanglelabels"], pred["result"][0]["value"]["width"]
    (['Car'], 20.0)
    """
    tid = task.get("id") if isinstance(task, dict) else None
    where = f"task {tid if tid is not None else '(no id)'}: predictions_from"
    try:
        det = to_detections(output)
    except ConverterError as e:
        raise ConverterError(f"{where}: {e}") from None
    if min_score is not None and det.scores is not None:
        det = det.take(np.asarray(det.scores, dtype=np.float64).reshape(-1) >= min_score)
    names = label_map if label_map is not None else det.names
    size = image_size if image_size is not None else det.image_size

    def target(kind: str) -> bool:
        name = from_name.get(kind) if isinstance(from_name, Mapping) else from_name
        if isinstance(from_name, Mapping) and kind not in from_name and from_name:
            return False
        return (
            find_target(task, kind, from_name=name, label_config=label_config, where=where, required=False) is not None
        )

    def kw(kind: str) -> dict:
        name = from_name.get(kind) if isinstance(from_name, Mapping) else from_name
        return {"from_name": name, "image_size": size, "label_config": label_config}

    common = {"labels": det.labels, "scores": det.scores, "label_map": names}
    results: list[dict] = []
    used: list[str] = []
    if det.obb is not None and target("box"):
        results += RotatedBboxConverter(det.obb, format="xyxyxyxy", **common).to_results(task, **kw("box"))
        used.append("box")
    elif det.boxes is not None and target("box"):
        results += BboxConverter(det.boxes, **common).to_results(task, **kw("box"))
        used.append("box")
    if (det.masks is not None or det.polygons is not None) and target("brush"):
        masks = det.masks
        if masks is None:
            if size is None:
                raise ConverterError(f"{where}: the mask polygons need the image size to be drawn; pass image_size=")
            masks = _rasterize(det.polygons or [], size)
        results += MaskConverter(masks, **common).to_results(task, **kw("brush"))
        used.append("brush")
    if det.polygons is not None and target("polygon"):
        results += PolygonConverter(det.polygons, **common).to_results(task, **kw("polygon"))
        used.append("polygon")
    if det.keypoints is not None and target("keypoint"):
        kp = KeypointConverter(det.keypoints, list(keypoint_labels) if keypoint_labels is not None else None,
                               det.scores if det.keypoints.shape[-1] == 2 else None)  # fmt: skip
        results += kp.to_results(task, **kw("keypoint"))
        used.append("keypoint")
    if det.probs is not None and target("choices"):
        results += ChoicesConverter(det.probs, label_map=_as_list(names, len(det.probs), where)).to_results(
            task, **kw("choices")
        )
        used.append("choices")
    if not used:
        parts = {"boxes": det.boxes, "oriented boxes": det.obb, "masks": det.masks, "mask polygons": det.polygons,
                 "keypoints": det.keypoints, "class scores": det.probs}  # fmt: skip
        held = [name for name, v in parts.items() if v is not None]
        wanted = "/".join(
            t for kind in ("box", "brush", "polygon", "keypoint", "choices") for t in KIND_TYPES[kind][:1]
        )
        raise ConverterError(
            f"{where}: the {det.source} holds {', '.join(held) or 'nothing'} but the "
            f"{'labeling config' if label_config else 'ground truth'} has no matching control ({wanted}); "
            "pass from_name= and label_config= to say where the regions go"
        )
    return [make_prediction(results, model_version)]


def _as_list(names: LabelMap | None, n: int, where: str) -> list[str]:
    """A class-index list for ChoicesConverter from a list or an id -> name dict."""
    if names is None:
        raise ConverterError(f"{where}: class scores need label_map= (the choice name of each class)")
    if isinstance(names, Mapping):
        try:
            return [str(names[i]) for i in range(n)]
        except KeyError as e:
            raise ConverterError(f"{where}: label_map has no name for class {e}") from None
    return list(names)
