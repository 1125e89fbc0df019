"""Columnar arrays of a batch of tasks' regions, and the pairwise IoU for their kind.

Rows are in task order, then region order (the "file order" that breaks score ties, as in
pycocotools). Axis-aligned boxes use pycocotools' exact box IoU, in pixels when the image size is
known (percent otherwise: IoU is unchanged by a per-axis scale); rotated boxes, polygons and
ellipses use GEOS polygon IoU in pixels (an ellipse as a 360-vertex polygon); masks use pixel IoU
of their decoded crops (``geometry.masks``, area in pixels); spans use interval IoU inside their
space (``geometry.intervals``).

Keypoints have no area: their "IoU" is the similarity ``r / (r + d)`` of a prediction at ``d``
pixels from a ground-truth point, ``r`` being the matching distance in pixels (``--distance``,
or that share of the image diagonal when below 1). It is 1 at the same spot, decreases with the
distance and is 0.5 exactly at ``d = r``, so matching at 0.5 pairs points within the distance,
nearest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import shapely

from ..errors import InputError
from ..geometry.boxes import box_iou_pairs, box_iou_pairs_exact
from ..geometry.ellipses import ellipse_outline_px
from ..geometry.intervals import interval_iou_spaces, union_iou
from ..geometry.masks import Mask, decode_mask, mask_iou_pairs
from ..geometry.shapes import (
    box_corners_px,
    box_xywh_px,
    make_polygon,
    polygon_px,
    shape_iou_pairs,
)
from ..regions import Region
from .base import DEFAULT_DISTANCE, ControlItem

__all__ = ["Columns", "build_columns", "NO_SCORE"]

# A prediction region without any score ranks as fully confident; ties then keep file order.
NO_SCORE = 1.0
# Relative slack on the keypoint distance, so that percent-to-pixel rounding cannot decide a boundary.
_ROUNDING = 1e-9

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
    gt_radius: np.ndarray | None = None  # (G,) keypoints: matching distance in pixels

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


def build_columns(kind: str, items: Sequence[ControlItem], *, coco_arithmetic: bool = False, distance: float | None = None) -> Columns:
    """Arrays and pairwise IoU for a batch of items of one control of kind box, polygon, ellipse, mask, span or keypoint.

    ``coco_arithmetic`` computes axis-aligned box IoU operation for operation as pycocotools
    (for mAP); otherwise identical boxes get an IoU of exactly 1. ``distance`` is the keypoint
    matching distance (default ``DEFAULT_DISTANCE``).
    """
    gt_regions, gt_img, gt_labels_raw = _rows(items, "gt")
    dt_regions, dt_img, dt_labels_raw = _rows(items, "pred")
    labels = sorted(set(gt_labels_raw) | set(dt_labels_raw))
    index = {k: i for i, k in enumerate(labels)}
    gt_label = np.array([index[k] for k in gt_labels_raw], dtype=np.int64)
    dt_label = np.array([index[k] for k in dt_labels_raw], dtype=np.int64)
    dt_score = np.array([NO_SCORE if r.score is None else r.score for r in dt_regions], dtype=np.float64)
    sizes = {item.image: item.image_size for item in items}
    gt_radius = None
    if kind == "keypoint":
        gt_area, dt_area, pair_iou, sizes_known, gt_radius = _keypoint_geometry(
            items, gt_regions, gt_img, dt_regions, dt_img, sizes, DEFAULT_DISTANCE if distance is None else distance
        )
    else:
        by_kind = {"box": _box_geometry, "polygon": _polygon_geometry, "ellipse": _ellipse_geometry, "span": _span_geometry,
                   "mask": _mask_geometry}  # fmt: skip
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
        gt_radius=gt_radius,
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


def _size_needed(items: Sequence[ControlItem], img: int, side: str, region: Region, what: str) -> InputError:
    where = next(it.where for it in items if it.image == img)
    return InputError(
        f"{where}: {side}: result {region.id!r}: {what} needs the image size: "
        "add original_width/original_height or pass --image-size WxH"
    )


def _ellipse_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic):
    def shapes(regions, images, side):
        out = np.empty(len(regions), dtype=object)
        for i, (r, img) in enumerate(zip(regions, images)):
            size = sizes[img]
            if size is None:
                # an axis-aligned ellipse scales into an axis-aligned ellipse: IoU in percent is exact
                if r.geometry[4] != 0:
                    raise _size_needed(items, img, side, r, "a rotated ellipse")
                size = (100.0, 100.0)
            out[i] = shapely.Polygon(ellipse_outline_px(r.geometry, *size))
        return out

    gt_geo, dt_geo = shapes(gt_regions, gt_img, "ground truth"), shapes(dt_regions, dt_img, "prediction")
    gt_area, dt_area = shapely.area(gt_geo).astype(np.float64), shapely.area(dt_geo).astype(np.float64)
    known = all(sizes[i] is not None for i in set(gt_img) | set(dt_img))

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        return shape_iou_pairs(dt_geo[d], gt_geo[g], dt_area[d], gt_area[g])

    return gt_area, dt_area, pair_iou, known


def _mask_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic):
    def decoded(regions, images, side) -> list[Mask]:
        done: dict[int, Mask] = {}  # a region with several labels is several rows: decode it once
        out = []
        for r, img in zip(regions, images):
            m = done.get(id(r))
            if m is None:
                where = f"{next(it.where for it in items if it.image == img)}: {side}: result {r.id!r}"
                m = done[id(r)] = decode_mask(r.geometry, r.image_size or sizes[img], where)
            out.append(m)
        return out

    gt_masks, dt_masks = decoded(gt_regions, gt_img, "ground truth"), decoded(dt_regions, dt_img, "prediction")
    gt_area = np.array([m.area for m in gt_masks], dtype=np.float64)
    dt_area = np.array([m.area for m in dt_masks], dtype=np.float64)

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        return mask_iou_pairs(dt_masks, gt_masks, d, g)

    return gt_area, dt_area, pair_iou, True


def _keypoint_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, distance):
    def percent_and_size(regions, images, side):
        xy = np.array([r.geometry for r in regions], dtype=np.float64).reshape(-1, 2)
        wh = np.empty_like(xy)
        for i, (r, img) in enumerate(zip(regions, images)):
            if sizes[img] is None:
                raise _size_needed(items, img, side, r, "a keypoint distance is measured in pixels and")
            wh[i] = sizes[img]
        return xy, wh

    gt_pct, gt_wh = percent_and_size(gt_regions, gt_img, "ground truth")
    dt_pct, _ = percent_and_size(dt_regions, dt_img, "prediction")
    # below 1 the distance is a share of the image diagonal; from 1 on, pixels
    gt_radius = np.hypot(gt_wh[:, 0], gt_wh[:, 1]) * distance if distance < 1 else np.full(len(gt_pct), float(distance))

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        # the offset in percent times the size, then / 100: exact for round numbers (5% of 200 px is 10 px)
        gap = np.hypot(*((dt_pct[d] - gt_pct[g]) * gt_wh[g] / 100.0).T)  # (n,) pixels
        # a point at the distance, up to rounding, is within it
        gap = np.maximum(gap - gt_radius[g] * _ROUNDING, 0.0)
        return gt_radius[g] / (gt_radius[g] + gap)

    return np.zeros(len(gt_pct)), np.zeros(len(dt_pct)), pair_iou, True, gt_radius


def _span_geometry(items, gt_regions, gt_img, dt_regions, dt_img, sizes, coco_arithmetic):
    # a plain span is (start, end); other 1-D types are Intervals with a space and maybe parts
    spaces: dict = {}

    def arrays(regions):
        if all(len(r.geometry) == 2 for r in regions):  # text and audio spans: one space, one range
            iv = np.array([r.geometry for r in regions], dtype=np.float64).reshape(-1, 2)
            return iv, np.full(len(iv), spaces.setdefault(None, len(spaces)), np.int64), [None] * len(iv), np.zeros(len(iv), bool)
        iv = np.array([(g[0], g[1]) for g in (r.geometry for r in regions)], dtype=np.float64).reshape(-1, 2)
        space = np.array([spaces.setdefault(r.geometry[2] if len(r.geometry) > 2 else None, len(spaces)) for r in regions], dtype=np.int64)
        parts = [r.geometry[3] if len(r.geometry) > 3 else None for r in regions]
        multi = np.array([p is not None for p in parts], dtype=bool)
        return iv, space, parts, multi

    gt_iv, gt_space, gt_parts, gt_multi = arrays(gt_regions)
    dt_iv, dt_space, dt_parts, dt_multi = arrays(dt_regions)

    def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
        iou = interval_iou_spaces(dt_iv[d], gt_iv[g], dt_space[d], gt_space[g])
        several = np.flatnonzero((dt_multi[d] | gt_multi[g]) & (dt_space[d] == gt_space[g]))
        for k in several:  # timeline regions with several ranges: IoU of the two unions
            a, b = dt_parts[d[k]] or (tuple(dt_iv[d[k]]),), gt_parts[g[k]] or (tuple(gt_iv[g[k]]),)
            iou[k] = union_iou(a, b)
        return iou

    return gt_iv[:, 1] - gt_iv[:, 0], dt_iv[:, 1] - dt_iv[:, 0], pair_iou, False
