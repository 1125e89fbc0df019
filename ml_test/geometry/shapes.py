"""Rotated boxes and polygons in pixels, their repair and their pairwise IoU (shapely 2, vectorised).

Label Studio stores a rotated rectangle as its top-left corner (x, y), its size and a clockwise
rotation in degrees about that corner, all in percent of the image. Rotation is only meaningful
in pixels, so corners are computed after scaling by the image size.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = [
    "box_xywh_px",
    "box_corners_px",
    "polygon_px",
    "make_polygon",
    "shape_area",
    "shape_iou_pairs",
    "interval_iou_pairs",
]


def box_xywh_px(boxes_pct: np.ndarray, width: np.ndarray | float, height: np.ndarray | float) -> np.ndarray:
    """Scale (n, 4+) percent boxes ``x, y, w, h`` to pixels: ``v / 100 * size``."""
    boxes_pct = np.asarray(boxes_pct, dtype=np.float64)
    scale = np.stack(np.broadcast_arrays(width, height, width, height), axis=-1) / 100.0
    return boxes_pct[..., :4] * scale


def box_corners_px(box_pct: tuple[float, float, float, float, float], width: float, height: float) -> np.ndarray:
    """The 4 corners (4, 2) in pixels of a box rotated clockwise (y down) about its top-left corner."""
    x, y, w, h, rotation = box_pct
    x0, y0 = x / 100.0 * width, y / 100.0 * height
    w_px, h_px = w / 100.0 * width, h / 100.0 * height
    theta = np.deg2rad(rotation)
    c, s = np.cos(theta), np.sin(theta)
    p0 = np.array([x0, y0])
    p1 = p0 + w_px * np.array([c, s])
    p3 = p0 + h_px * np.array([-s, c])
    return np.stack([p0, p1, p1 + p3 - p0, p3])


def polygon_px(points_pct: np.ndarray, width: float, height: float) -> np.ndarray:
    """Scale (n, 2) percent points to pixels."""
    return np.asarray(points_pct, dtype=np.float64) * (np.array([width, height]) / 100.0)


def make_polygon(coords: np.ndarray) -> shapely.Geometry:
    """A valid areal geometry from a ring of points; self-intersections repaired as ``make_valid`` does.

    ``make_valid`` may return lines or points beside the polygons (for a bow-tie's pinch or a
    degenerate ring); only the areal parts matter for IoU, so the rest is dropped.
    """
    if len(coords) < 3:
        return shapely.Polygon()
    geom = shapely.Polygon(coords)
    if geom.is_valid:
        return geom
    fixed = shapely.make_valid(geom)
    if isinstance(fixed, (shapely.Polygon, shapely.MultiPolygon)):
        return fixed
    parts = [g for g in shapely.get_parts(fixed) if isinstance(g, (shapely.Polygon, shapely.MultiPolygon))]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def shape_area(geoms: np.ndarray) -> np.ndarray:
    """Areas of an array of shapely geometries."""
    return shapely.area(geoms)


def shape_iou_pairs(a: np.ndarray, b: np.ndarray, area_a: np.ndarray | None = None, area_b: np.ndarray | None = None) -> np.ndarray:
    """Elementwise IoU of two equal-length arrays of shapely geometries (0 when the union is empty)."""
    if len(a) == 0:
        return np.zeros(0)
    area_a = shapely.area(a) if area_a is None else area_a
    area_b = shapely.area(b) if area_b is None else area_b
    # bounding-box pre-filter: most pairs in a scene do not overlap and GEOS is the slow part
    ba, bb = shapely.bounds(a), shapely.bounds(b)
    overlap = (
        (np.minimum(ba[:, 2], bb[:, 2]) > np.maximum(ba[:, 0], bb[:, 0]))
        & (np.minimum(ba[:, 3], bb[:, 3]) > np.maximum(ba[:, 1], bb[:, 1]))
    )
    inter = np.zeros(len(a))
    if overlap.any():
        inter[overlap] = shapely.area(shapely.intersection(a[overlap], b[overlap]))
        # GEOS can lose the overlap of two shapes equal up to rounding (it returns the two touching
        # points of a rectangle started at another corner); snapping to a 1e-6 grid recovers it
        lost = overlap & (inter == 0) & (area_a > 0) & (area_b > 0)
        if lost.any():
            inter[lost] = shapely.area(shapely.intersection(a[lost], b[lost], grid_size=1e-6))
    union = area_a + area_b - inter
    out = np.zeros(len(a))
    ok = union > 0
    out[ok] = inter[ok] / union[ok]
    # GEOS may return an intersection a few ulps off the area for identical shapes
    out[overlap] = np.where(shapely.equals_exact(a[overlap], b[overlap], 0.0), 1.0, out[overlap])
    # degenerate (empty or collapsed) shapes can give nan through GEOS: they overlap nothing
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


def interval_iou_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise IoU of (n, 2) ``[start, end)`` intervals; identical empty intervals give 1."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 2), np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.maximum(np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0]), 0.0)
    union = (a[:, 1] - a[:, 0]) + (b[:, 1] - b[:, 0]) - inter
    same = (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1])
    out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return np.where(same, 1.0, out)
