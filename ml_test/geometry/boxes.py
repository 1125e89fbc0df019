"""Axis-aligned box IoU in pycocotools' arithmetic.

Boxes are ``(x, y, w, h)`` float rows in continuous coordinates (no "+1 pixel"). The formula is
the one of ``bbIou`` in pycocotools 2.0.11 ``common/maskApi.c``, operation for operation, so the
results are bit-identical to ``pycocotools.mask.iou(dt, gt, iscrowd=[0] * len(gt))``::

    w = fmin(dx + dw, gx + gw) - fmax(dx, gx)     # <= 0 -> IoU 0
    h = fmin(dy + dh, gy + gh) - fmax(dy, gy)     # <= 0 -> IoU 0
    IoU = (w * h) / ((dw * dh + gw * gh) - w * h)

Degenerate boxes: a box with zero or negative width or height never yields a positive
intersection, so its IoU is 0, as in pycocotools. The one case pycocotools leaves undefined, a
union that rounds to 0 while the intersection is positive (only possible when ``w * h``
underflows, e.g. sides around 1e-160), returns 0 here instead of nan. NaN coordinates give nan,
as in pycocotools.
"""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou_matrix", "box_iou_pairs", "box_iou_pairs_exact"]


def _iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """IoU of broadcast-compatible (..., 4) xywh arrays, bbIou's arithmetic."""
    dx, dy, dw, dh = np.moveaxis(d, -1, 0)
    gx, gy, gw, gh = np.moveaxis(g, -1, 0)
    w = np.fmin(dw + dx, gw + gx) - np.fmax(dx, gx)
    h = np.fmin(dh + dy, gh + gy) - np.fmax(dy, gy)
    inter = w * h
    union = (dw * dh + gw * gh) - inter
    # bbIou skips the division when w <= 0 or h <= 0 (written so that nan still divides)
    overlap = ~((w <= 0) | (h <= 0)) & (union != 0)
    iou = np.zeros(np.broadcast_shapes(inter.shape, union.shape))
    np.divide(inter, union, out=iou, where=overlap)
    return iou


def _as_boxes(boxes: np.ndarray, name: str) -> np.ndarray:
    """Validate an (n, 4) float64 box array."""
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (n, 4) (x, y, w, h); got {boxes.shape}")
    return boxes


def box_iou_pairs(dt_xywh: np.ndarray, gt_xywh: np.ndarray) -> np.ndarray:
    """Elementwise IoU of row i of ``dt_xywh`` with row i of ``gt_xywh``: (n,) float64."""
    dt_xywh = _as_boxes(dt_xywh, "dt_xywh")
    gt_xywh = _as_boxes(gt_xywh, "gt_xywh")
    if len(dt_xywh) != len(gt_xywh):
        raise ValueError(f"box_iou_pairs needs equal lengths; got {len(dt_xywh)} and {len(gt_xywh)}")
    return _iou(dt_xywh, gt_xywh)


def box_iou_matrix(a_xywh: np.ndarray, b_xywh: np.ndarray) -> np.ndarray:
    """IoU of every row of ``a_xywh`` (detections) with every row of ``b_xywh`` (GT): (len(a), len(b))."""
    a_xywh = _as_boxes(a_xywh, "a_xywh")
    b_xywh = _as_boxes(b_xywh, "b_xywh")
    return _iou(a_xywh[:, None, :], b_xywh[None, :, :])


def box_iou_pairs_exact(dt_xywh: np.ndarray, gt_xywh: np.ndarray) -> np.ndarray:
    """Elementwise IoU with areas taken from the same corners as the intersection: identical boxes give exactly 1.

    pycocotools' arithmetic takes the box area from ``w * h`` but the intersection from
    ``(x + w) - x``, which rounds differently, so a box scored against itself can come out as
    0.9999999999999987 or 1.0000000000000004. Metrics that report an IoU to a user (``iou``,
    precision/recall/F1) use this form; COCO mAP keeps pycocotools' for bit-identical results.
    """
    d, g = _as_boxes(dt_xywh, "dt_xywh"), _as_boxes(gt_xywh, "gt_xywh")
    d0, g0 = d[:, :2], g[:, :2]
    d1, g1 = d0 + d[:, 2:], g0 + g[:, 2:]
    side = np.minimum(d1, g1) - np.maximum(d0, g0)  # (n, 2)
    inter = np.where((side > 0).all(axis=1), side[:, 0] * side[:, 1], 0.0)
    area_d = np.abs((d1 - d0).prod(axis=1))
    area_g = np.abs((g1 - g0).prod(axis=1))
    union = area_d + area_g - inter
    iou = np.zeros(len(d))
    np.divide(inter, union, out=iou, where=union > 0)
    return iou
