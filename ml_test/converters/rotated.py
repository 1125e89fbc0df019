"""Oriented boxes (centre, size, angle; or 4 corners) -> ``rectanglelabels`` with Label Studio's rotation.

Label Studio rotates a rectangle clockwise (y down) about its top-left corner, in pixels:
p1 = p0 + w·(cos t, sin t), p3 = p0 + h·(−sin t, cos t). A box given by its centre is moved to
that corner in pixel space *before* dividing by the image size; rotating in percent space (as
the SDK's converter does) distorts every box of a non-square image.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

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
from .boxes import box_array

__all__ = ["RotatedBboxConverter", "ROTATED_FORMATS", "centre_to_ls", "corners_to_centre"]

ROTATED_FORMATS = ("cxcywhr", "cxcywhd", "xywhr", "xyxyxyxy")


def centre_to_ls(boxes_px: np.ndarray, width: float, height: float) -> np.ndarray:
    """(n, 5) ``cx, cy, w, h, angle_rad`` in pixels (clockwise, y down) -> Label Studio ``x, y, w, h, rotation`` (%, deg)."""
    cx, cy, w, h, t = np.asarray(boxes_px, dtype=np.float64).T
    c, s = np.cos(t), np.sin(t)
    # top-left corner = centre - (w/2)·(cos t, sin t) - (h/2)·(-sin t, cos t)
    x0 = cx - w / 2 * c + h / 2 * s
    y0 = cy - w / 2 * s - h / 2 * c
    rotation = np.mod(np.rad2deg(t), 360.0)
    rotation = np.where(rotation >= 360.0, 0.0, rotation)  # mod of a tiny negative angle rounds to 360
    return np.column_stack([x0 * 100.0 / width, y0 * 100.0 / height, w * 100.0 / width, h * 100.0 / height, rotation])


def corners_to_centre(corners: np.ndarray) -> np.ndarray:
    """(n, 4, 2) corners in order around the box -> (n, 5) ``cx, cy, w, h, angle_rad``, the most upright way round.

    Either winding is accepted. A quadrilateral that is not an exact rectangle gets the mean of
    its opposite sides. Of the four equivalent (w, h, angle) triples the one with the angle in
    [-45°, 45°) is returned, so an axis-aligned box comes out with rotation 0.
    """
    p = np.asarray(corners, dtype=np.float64)
    # the fit goes through the centre, so it does not matter on which side of p0->p1 the box lies (winding)
    e1 = ((p[:, 1] - p[:, 0]) + (p[:, 2] - p[:, 3])) / 2  # the width edges
    e2 = ((p[:, 3] - p[:, 0]) + (p[:, 2] - p[:, 1])) / 2  # the height edges
    w, h = np.hypot(*e1.T), np.hypot(*e2.T)
    t = np.arctan2(e1[:, 1], e1[:, 0])
    quarter = np.floor((t + np.pi / 4) / (np.pi / 2))  # turns of 90° to bring t into [-45°, 45°)
    t = t - quarter * (np.pi / 2)
    swap = quarter % 2 == 1
    w, h = np.where(swap, h, w), np.where(swap, w, h)
    centre = p.mean(axis=1)
    return np.column_stack([centre[:, 0], centre[:, 1], w, h, t])


class RotatedBboxConverter(Converter):
    """Convert oriented boxes to a Label Studio prediction of rotated ``rectanglelabels`` regions.

    Parameters
    ----------
    boxes : array-like of shape (n, 5), (n, 8) or (n, 4, 2)
        ``cx, cy, w, h, angle`` in pixels, or the 4 corners ``x1, y1, ..., x4, y4`` in order
        around the box (pixels, or fractions of the image with ``normalized=True``). numpy,
        lists, torch tensors, ``__array__`` objects and detectron2 ``RotatedBoxes`` are accepted.
    labels, scores, label_map
        As for :class:`BboxConverter`.
    format : {"cxcywhr", "cxcywhd", "xywhr", "xyxyxyxy"}, default="cxcywhr"
        Centre form with the angle in radians (``xywhr`` is ultralytics' name for it) or degrees,
        or corners. Angles turn clockwise on screen (y down), as in ultralytics and OpenCV.
    normalized : bool, default=False
        Corners are fractions (0-1) of the image size; only with ``format="xyxyxyxy"`` (a
        normalized width of a rotated box has no single meaning on a non-square image).

    Notes
    -----
    The image size is always needed: the box is turned about its top-left corner in pixels.
    Corner input is fitted (centre = mean of the corners, sides = means of opposite sides) and
    written the most upright of its four equivalent ways (rotation within 45° of 0).
    ``rotation`` is normalised to [0, 360), as the editor does.

    Examples
    --------
    >>> import math
    >>> task = {"id": 2, "annotations": [{"result": [{"from_name": "obb", "to_name": "image",
    ...     "type": "rectanglelabels", "original_width": 200, "original_height": 100,
    ...     "value": {"x": 0, "y": 0, "width": 10, "height": 10, "rotation": 0, "rectanglelabels": ["Ship"]}}]}]}
    >>> [pred] = RotatedBboxConverter([[100, 50, 40, 20, math.pi / 2]]).from_task(task)
    >>> {k: round(v, 6) for k, v in pred["result"][0]["value"].items() if k != "rectanglelabels"}
    {'x': 55.0, 'y': 30.0, 'width': 20.0, 'height': 20.0, 'rotation': 90.0}
    """

    kind = "box"

    def __init__(
        self,
        boxes: Any,
        labels: Any = None,
        scores: Any = None,
        *,
        format: Literal["cxcywhr", "cxcywhd", "xywhr", "xyxyxyxy"] = "cxcywhr",
        normalized: bool = False,
        label_map: LabelMap | None = None,
    ) -> None:
        super().__init__(labels, scores, label_map)
        if format not in ROTATED_FORMATS:
            raise ConverterError(
                f"RotatedBboxConverter: format must be one of {', '.join(map(repr, ROTATED_FORMATS))}; got {format!r}"
            )
        if normalized and format != "xyxyxyxy":
            raise ConverterError(
                "RotatedBboxConverter: normalized=True needs format='xyxyxyxy' (corners); a normalized width of "
                "a rotated box depends on its angle"
            )
        if format == "xyxyxyxy":
            arr = float_array(boxes, "boxes")
            if arr.ndim == 3 and arr.shape[1:] == (4, 2):
                arr = arr.reshape(-1, 8)
            self.boxes = box_array(arr, "boxes", 8, "RotatedBboxConverter")
        else:
            self.boxes = box_array(boxes, "boxes", 5, "RotatedBboxConverter")
        self.format, self.normalized = format, bool(normalized)

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        n = len(self.boxes)
        labels = resolve_labels(self.labels, n, self.label_map, ctx.target, ctx.where)
        scores = resolve_scores(self.scores, n, ctx.where)
        check_finite(self.boxes, ctx.where, "boxes")
        size = ctx.image_size()
        assert size is not None
        w, h = size
        if self.format == "xyxyxyxy":
            corners = self.boxes.reshape(-1, 4, 2)
            if self.normalized:
                corners = corners * np.array([w, h])
            elif looks_normalized(corners, size):
                raise ConverterError(
                    f"{ctx.where}: every corner lies in [0, 1] on a {w:g}x{h:g} image: pass normalized=True"
                )
            centre = corners_to_centre(corners)
        else:
            centre = self.boxes.copy()
            if self.format == "cxcywhd":
                centre[:, 4] = np.deg2rad(centre[:, 4])
        check_positive(centre[:, 2], ctx.where, "width (pixels)")
        check_positive(centre[:, 3], ctx.where, "height (pixels)")
        ls = centre_to_ls(centre, w, h)
        check_finite(ls, ctx.where, "the box in percent")
        values = [
            {"x": float(x), "y": float(y), "width": float(bw), "height": float(bh), "rotation": float(r)}
            for x, y, bw, bh, r in ls
        ]
        return values, labels, scores
