"""Axis-aligned boxes (xyxy, xywh, cxcywh; pixels or normalized) -> ``rectanglelabels``."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np

from ..errors import MLTestWarning
from ._base import (
    Context,
    Converter,
    LabelMap,
    check_finite,
    check_positive,
    looks_normalized,
    resolve_labels,
    resolve_scores,
)
from ._errors import ConverterError
from ._inputs import float_array

__all__ = ["BboxConverter", "BOX_FORMATS", "to_xywh"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


def to_xywh(boxes: np.ndarray, format: str) -> np.ndarray:
    """(n, 4) boxes in ``format`` -> top-left x, y, width, height in the same units."""
    b = np.asarray(boxes, dtype=np.float64)
    if format == "xyxy":
        return np.column_stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]])
    if format == "xywh":
        return b.copy()
    if format == "cxcywh":
        return np.column_stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 2], b[:, 3]])
    raise ConverterError(f"format must be one of {', '.join(map(repr, BOX_FORMATS))}; got {format!r}")


def box_array(bboxes: Any, name: str, columns: int, owner: str) -> np.ndarray:
    """(n, columns) float array; a single box may be given flat; no box gives (0, columns)."""
    b = float_array(bboxes, name)
    if b.size == 0:
        return b.reshape(0, columns)
    if b.ndim == 1 and b.size == columns:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != columns:
        raise ConverterError(f"{owner}: {name} must have shape (n, {columns}), got {b.shape}")
    return b


class BboxConverter(Converter):
    """Convert axis-aligned boxes to a Label Studio prediction of ``rectanglelabels`` regions.

    Parameters
    ----------
    bboxes : array-like of shape (n, 4)
        Boxes as numpy, lists, torch tensors (``.detach().cpu().numpy()`` is applied), anything
        with ``__array__``, or a detectron2 ``Boxes`` (its ``.tensor``).
    labels : sequence of str or int, optional
        One label name or class id per box. Class ids go through ``label_map``. Default: the
        control's only label in the ground truth (or labeling config); an error when it has several.
    scores : array-like of shape (n,), optional
        Confidence per box, written as the region ``score``. Default 1.0.
    format : {"xyxy", "xywh", "cxcywh"}, default="xyxy"
        Corner-corner, top-left + size, or centre + size.
    normalized : bool, default=False
        Coordinates are fractions (0-1) of the image width and height instead of pixels.
    label_map : list or dict, optional
        Class id -> label name (a list is indexed by id); a dict may also rename string labels.

    Notes
    -----
    Label Studio stores ``x, y`` as the top-left corner and ``width, height``, all in percent of
    the image (``x = x_px / original_width * 100``), with ``rotation = 0``. The image size comes
    from the ground truth's ``original_width/original_height``, else ``image_size=``, else the
    local image file in the task data; normalized boxes need no size (the size fields are then
    left out). ``from_name``/``to_name`` come from the ground truth or ``label_config=``.
    Validated before return: finite coordinates and positive sizes; pixel boxes that all lie in
    [0, 1] are refused as probably normalized; boxes reaching outside the image are warned about
    (:class:`ml_test.MLTestWarning`). Region ids are deterministic hashes, unique per region.

    Examples
    --------
    >>> task = {"id": 1, "data": {"image": "street.jpg"}, "annotations": [{"result": [
    ...     {"from_name": "label", "to_name": "image", "type": "rectanglelabels", "original_width": 640,
    ...      "original_height": 480, "value": {"x": 10, "y": 10, "width": 20, "height": 20,
    ...      "rectanglelabels": ["Car"]}}]}]}
    >>> task["predictions"] = BboxConverter([[64, 48, 192, 144]], scores=[0.9]).from_task(task)
    >>> region = task["predictions"][0]["result"][0]
    >>> region["value"]
    {'x': 10.0, 'y': 10.0, 'width': 20.0, 'height': 20.0, 'rotation': 0.0, 'rectanglelabels': ['Car']}
    >>> task["predictions"][0]["score"], region["original_width"], region["original_height"]
    (0.9, 640, 480)
    """

    kind = "box"

    def __init__(
        self,
        bboxes: Any,
        labels: Any = None,
        scores: Any = None,
        *,
        format: Literal["xyxy", "xywh", "cxcywh"] = "xyxy",
        normalized: bool = False,
        label_map: LabelMap | None = None,
    ) -> None:
        super().__init__(labels, scores, label_map)
        if format not in BOX_FORMATS:
            raise ConverterError(
                f"BboxConverter: format must be one of {', '.join(map(repr, BOX_FORMATS))}; got {format!r}"
            )
        self.bboxes = box_array(bboxes, "bboxes", 4, "BboxConverter")
        self.format, self.normalized = format, bool(normalized)

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        n = len(self.bboxes)
        labels = resolve_labels(self.labels, n, self.label_map, ctx.target, ctx.where)
        scores = resolve_scores(self.scores, n, ctx.where)
        check_finite(self.bboxes, ctx.where, "bboxes")
        size = ctx.image_size(required=not self.normalized)
        xywh = to_xywh(self.bboxes, self.format)
        if self.normalized:
            if xywh.size and np.abs(self.bboxes).max() > 1.5:
                raise ConverterError(
                    f"{ctx.where}: normalized=True but the boxes reach {np.abs(self.bboxes).max():g}: pixels?"
                )
            pct = xywh * 100.0
        else:
            if looks_normalized(self.bboxes, size):
                raise ConverterError(
                    f"{ctx.where}: every coordinate lies in [0, 1] on a {size[0]:g}x{size[1]:g} image: "
                    "pass normalized=True if the boxes are fractions of the image size"
                )
            w, h = size
            pct = xywh * 100.0 / np.array([w, h, w, h])  # x*100/W is exact for whole pixels
        check_finite(pct, ctx.where, "the box in percent")
        hint = f" (format={self.format!r}: are x2 < x1 or y2 < y1?)" if self.format == "xyxy" else ""
        check_positive(pct[:, 2], ctx.where, "width", hint)
        check_positive(pct[:, 3], ctx.where, "height", hint)
        _warn_outside(pct, ctx.where)
        values = [
            {"x": float(x), "y": float(y), "width": float(bw), "height": float(bh), "rotation": 0.0}
            for x, y, bw, bh in pct
        ]
        return values, labels, scores


def _warn_outside(pct: np.ndarray, where: str) -> None:
    # a detector's box may overshoot the border by a little; far outside means a wrong size or units
    out = (pct[:, 0] < -1) | (pct[:, 1] < -1) | (pct[:, 0] + pct[:, 2] > 101) | (pct[:, 1] + pct[:, 3] > 101)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        x, y, w, h = pct[i]
        warnings.warn(
            f"{where}: {int(out.sum())} box(es) reach outside the image, e.g. region {i} spans x {x:.1f}..{x + w:.1f}%, "
            f"y {y:.1f}..{y + h:.1f}%: are the coordinates in the original image's pixels?",
            MLTestWarning,
            stacklevel=5,  # _warn_outside, _regions, to_results, from_task: the caller of from_task
        )
