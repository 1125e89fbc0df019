"""Columnar arrays of a batch of tasks' regions, and the pairwise IoU for their kind.

Rows are in task order, then region order (the "file order" that breaks score ties, as in
pycocotools). Axis-aligned boxes use pycocotools' exact box IoU, in pixels when the image size is
known (percent otherwise: IoU is unchanged by a per-axis scale); rotated boxes and polygons use
GEOS polygon IoU in pixels; spans use interval IoU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import shapely

from ..errors import InputError
from ..geometry.boxes import box_iou_pairs, box_iou_pairs_exact
from ..geometry.shapes import (
    box_corners_px,
    box_xywh_px,
    interval_iou_pairs,
    make_polygon,
    polygon_px,
    shape_iou_pairs,
)
from ..regions import Region
from .base import ControlItem

__all__ = ["Columns", "build_columns", "NO_SCORE"]

# A prediction region without any score ranks as fully confident; ties then keep file order.
NO_SCORE = 1.0

PairIou = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class Columns:
    """Ground-truth and predicted regions of a batch as arrays; ``labels`` indexes the label columns."""

    labels: list[str]
    gt_regions: list[Region]
    dt_regions: list[Region]
    gt_image: np.ndarray  # (G,) int64
    gt_label: np.ndarray  # (G,) int64
    gt_area: np.ndarray  # (G,) float64, pixels when sizes_known
    dt_image: np.ndarray  # (D,) int64
    dt_label: np.ndarray  # (D,) int64
    dt_score: np.ndarray  # (D,) float64
    dt_area: np.ndarray  # (D,) float64
    pair_iou: PairIou  # (dt_rows, gt_rows) -> IoU, elementwise
    sizes_known: bool

    def iou_matrix(self, gt_rows: np.ndarray, dt_rows: np.ndarray) -> np.ndarray:
        """IoU of every listed GT row with every listed prediction row, whatever their labels: (g, d)."""
        if len(gt_rows) == 0 or len(dt_rows) == 0:
            return np.zeros((len(gt_rows), len(dt_rows)))
        g = np.repeat(gt_rows, len(dt_rows))
        d = np.tile(dt_rows, len(gt_rows))
        return self.pair_iou(d, g).reshape(len(gt_rows), len(dt_rows))


def _rows(items: Sequence[ControlItem], side: str) -> tuple[list[Region], list[int], list[str]]:
    """Regions of one side with their task position and label; a region with n labels is n objects."""
    regions, images, labels = [], [], []
    for item in items:
        for r in getattr(item, side):
            for label in r.labels or ("",):
                regions.append(r)
                images.append(item.image)
                labels.append(label)
    return regions, images, labels


def build_columns(kind: str, items: Sequence[ControlItem], *, coco_arithmetic: bool = False) -> Columns:
    """Arrays and pairwise IoU for a batch of items of one control of kind box, polygon or span.

    ``coco_arithmetic`` computes axis-aligned box IoU operation for operation as pycocotools
    (for mAP); otherwise identical boxes get an IoU of exactly 1.
    """
    gt_regions, gt_img, gt_labels_raw = _rows(items, "gt")
    dt_regions, dt_img, dt_labels_raw = _rows(items, "pred")
    labels = sorted(set(gt_labels_raw) | set(dt_labels_raw))
    index = {k: i for i, k in enumerate(labels)}
    gt_label = np.array([index[k] for k in gt_labels_raw], dtype=np.int64)
    dt_label = np.array([index[k] for k in dt_labels_raw], dtype=np.int64)
    dt_score = np.array([NO_SCORE if r.score is None else r.score for r in dt_regions], dtype=np.float64)
    sizes = {item.image: item.image_size for item in items}
    by_kind = {"box": _box_geometry, "polygon": _polygon_geometry, "span": _span_geometry}
    gt_area, dt_area, pair_iou, sizes_known = by_kind[kind](items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic)
    return Columns(
        labels=labels,
        gt_regions=gt_regions,
        dt_regions=dt_regions,
        gt_image=np.array(gt_img, dtype=np.int64),
        gt_label=gt_label,
        gt_area=gt_area,
        dt_image=np.array(dt_img, dtype=np.int64),
        dt_label=dt_label,
        dt_score=dt_score,
        dt_area=dt_area,
        pair_iou=pair_iou,
        sizes_known=sizes_known,
    )


def _scales(sizes: dict, images: list[int]) -> tuple[np.ndarray, np.ndarray, bool]:
    known = all(sizes[i] is not None for i in set(images))
    w = np.array([sizes[i][0] if sizes[i] else 100.0 for i in images], dtype=np.float64)
    h = np.array([sizes[i][1] if sizes[i] else 100.0 for i in images], dtype=np.float64)
    return w, h, known


def _box_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic):
    gw, gh, gt_known = _scales(sizes, gt_img)
    dw, dh, dt_known = _scales(sizes, dt_img)
    gt_pct = np.array([r.geometry for r in gt_regions], dtype=np.float64).reshape(-1, 5)
    dt_pct = np.array([r.geometry for r in dt_regions], dtype=np.float64).reshape(-1, 5)
    gt_xywh, dt_xywh = box_xywh_px(gt_pct, gw, gh), box_xywh_px(dt_pct, dw, dh)
    gt_area = np.abs(gt_xywh[:, 2] * gt_xywh[:, 3])
    dt_area = np.abs(dt_xywh[:, 2] * dt_xywh[:, 3])
    gt_rot, dt_rot = gt_pct[:, 4] != 0, dt_pct[:, 4] != 0
    box_iou = box_iou_pairs if coco_arithmetic else box_iou_pairs_exact
    if not (gt_rot.any() or dt_rot.any()):
        return gt_area, dt_area, lambda d, g: box_iou(dt_xywh[d], gt_xywh[g]), gt_known and dt_known

    def polygons(regions, images, rotated):
        out = np.empty(len(regions), dtype=object)
        for i, (r, img) in enumerate(zip(regions, images)):
            size = sizes[img]
            if size is None:
                if rotated[i]:
                    raise InputError(
                        f"{next(it.where for it in items if it.image == img)}: result {r.id!r}: a rotated box "
                        "needs the image size: add original_width/original_height or pass --image-size WxH"
                    )
                size = (100.0, 100.0)
            out[i] = shapely.Polygon(box_corners_px(r.geometry, *size))
        return out

    gt_poly, dt_poly = polygons(gt_regions, gt_img, gt_rot), polygons(dt_regions, dt_img, dt_rot)

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        iou = box_iou(dt_xywh[d], gt_xywh[g])
        rotated = dt_rot[d] | gt_rot[g]
        if rotated.any():
            iou[rotated] = shape_iou_pairs(dt_poly[d[rotated]], gt_poly[g[rotated]], dt_area[d[rotated]], gt_area[g[rotated]])
        return iou

    return gt_area, dt_area, pair_iou, gt_known and dt_known


def _polygon_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic):
    def shapes(regions, images):
        out = np.empty(len(regions), dtype=object)
        for i, (r, img) in enumerate(zip(regions, images)):
            w, h = sizes[img] or (100.0, 100.0)
            out[i] = make_polygon(polygon_px(r.geometry, w, h))
        return out

    gt_geo, dt_geo = shapes(gt_regions, gt_img), shapes(dt_regions, dt_img)
    gt_area, dt_area = shapely.area(gt_geo).astype(np.float64), shapely.area(dt_geo).astype(np.float64)
    known = all(sizes[i] is not None for i in set(gt_img) | set(dt_img))

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        return shape_iou_pairs(dt_geo[d], gt_geo[g], dt_area[d], gt_area[g])

    return gt_area, dt_area, pair_iou, known


def _span_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic):
    gt_iv = np.array([r.geometry for r in gt_regions], dtype=np.float64).reshape(-1, 2)
    dt_iv = np.array([r.geometry for r in dt_regions], dtype=np.float64).reshape(-1, 2)

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        return interval_iou_pairs(dt_iv[d], gt_iv[g])

    return gt_iv[:, 1] - gt_iv[:, 0], dt_iv[:, 1] - dt_iv[:, 0], pair_iou, False
