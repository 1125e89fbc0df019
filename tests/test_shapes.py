"""Geometry properties (hypothesis): rotated boxes, polygons and intervals."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_test.geometry.boxes import box_iou_pairs
from ml_test.geometry.shapes import box_corners_px, interval_iou_pairs, make_polygon, shape_iou_pairs

coord = st.floats(0, 90, allow_nan=False)
size = st.floats(0.5, 50, allow_nan=False)
angle = st.floats(0, 359.9, allow_nan=False)
image = st.sampled_from([(640, 480), (1920, 1080), (100, 300)])


def _poly(box, img):
    return np.array([shapely.Polygon(box_corners_px(box, *img))], dtype=object)


@settings(max_examples=150, deadline=None)
@given(coord, coord, size, size, angle, coord, coord, size, size, angle, image)
def test_rotated_iou_is_symmetric_bounded_and_one_on_itself(x, y, w, h, r, x2, y2, w2, h2, r2, img):
    a, b = _poly((x, y, w, h, r), img), _poly((x2, y2, w2, h2, r2), img)
    ab, ba = shape_iou_pairs(a, b)[0], shape_iou_pairs(b, a)[0]
    assert 0.0 <= ab <= 1.0 and abs(ab - ba) < 1e-12
    assert abs(shape_iou_pairs(a, a)[0] - 1.0) < 1e-9


@settings(max_examples=150, deadline=None)
@given(st.floats(20, 80), st.floats(20, 80), size, size, coord, coord, size, size, image)
def test_box_rotated_90_about_its_centre_equals_the_swapped_box(cx, cy, w, h, x2, y2, w2, h2, img):
    """Corners are taken in pixels; rotating (w, h) by 90° about the centre gives the upright (h, w) box."""
    W, H = img
    cxp, cyp, wp, hp = cx / 100 * W, cy / 100 * H, w / 100 * W, h / 100 * H
    # top-left corner after rotating about the centre: centre + R(90°)(-w/2, -h/2) = centre + (h/2, -w/2)
    rotated = (((cxp + hp / 2) / W) * 100, ((cyp - wp / 2) / H) * 100, w, h, 90.0)
    upright_px = np.array([[cxp - hp / 2, cyp - wp / 2, hp, wp]])
    other_px = np.array([[x2 / 100 * W, y2 / 100 * H, w2 / 100 * W, h2 / 100 * H]])
    other = np.array([shapely.box(*other_px[0, :2], *(other_px[0, :2] + other_px[0, 2:]))], dtype=object)
    expected = box_iou_pairs(upright_px, other_px)[0]
    assert abs(shape_iou_pairs(_poly(rotated, img), other)[0] - expected) < 1e-9


@settings(max_examples=100, deadline=None)
@given(coord, coord, size, size, coord, coord, size, size)
def test_axis_aligned_polygon_iou_equals_box_iou(x, y, w, h, x2, y2, w2, h2):
    a, b = _poly((x, y, w, h, 0.0), (100, 100)), _poly((x2, y2, w2, h2, 0.0), (100, 100))
    expected = box_iou_pairs(np.array([[x, y, w, h]]), np.array([[x2, y2, w2, h2]]))[0]
    assert abs(shape_iou_pairs(a, b)[0] - expected) < 1e-9


def test_self_intersecting_polygon_is_repaired_like_make_valid():
    bowtie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], dtype=float)
    fixed = make_polygon(bowtie)
    assert fixed.is_valid and abs(fixed.area - 50.0) < 1e-9
    assert fixed.area == shapely.make_valid(shapely.Polygon(bowtie)).area
    assert make_polygon(np.array([[0, 0], [1, 1]])).area == 0.0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 50), st.integers(0, 20), st.integers(0, 50), st.integers(0, 20))
def test_interval_iou_properties(s1, n1, s2, n2):
    a, b = np.array([[s1, s1 + n1]]), np.array([[s2, s2 + n2]])
    ab, ba = interval_iou_pairs(a, b)[0], interval_iou_pairs(b, a)[0]
    assert ab == ba and 0.0 <= ab <= 1.0
    assert interval_iou_pairs(a, a)[0] == 1.0
    assert (ab == 1.0) == (s1 == s2 and n1 == n2)
