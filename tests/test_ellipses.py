"""Ellipses: polygonised outline against the analytic area and a fine shapely ellipse; IoU in pixels; detection metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_test import InputError, evaluate
from ml_test.geometry.ellipses import ELLIPSE_VERTICES, ellipse_area_px, ellipse_outline_px, polygon_area_ratio


def ellipse(x, y, rx, ry, label="Planet", rotation=0.0, score=None, size=(640, 480), rid=None):
    r = {"id": rid or f"e{x}-{y}-{rx}-{ry}-{rotation}", "from_name": "tag", "to_name": "img", "type": "ellipselabels",
         "value": {"x": x, "y": y, "radiusX": rx, "radiusY": ry, "rotation": rotation, "ellipselabels": [label]}}  # fmt: skip
    if size:
        r["original_width"], r["original_height"] = size
    if score is not None:
        r["score"] = score
    return r


def fine_ellipse(e, width, height):
    """The same ellipse from shapely's own construction: a 4096-segment circle, scaled, rotated, moved."""
    cx, cy, rx, ry, rot = e
    circle = shapely.Point(0, 0).buffer(1.0, quad_segs=1024)
    shape = shapely.affinity.scale(circle, rx / 100 * width, ry / 100 * height, origin=(0, 0))
    shape = shapely.affinity.rotate(shape, rot, origin=(0, 0))  # (1, 0) -> (cos, sin): clockwise with y down
    return shapely.affinity.translate(shape, cx / 100 * width, cy / 100 * height)


sizes = st.tuples(st.integers(50, 4000), st.integers(50, 4000))
ellipses = st.tuples(
    st.floats(10, 90), st.floats(10, 90), st.floats(0.5, 40), st.floats(0.5, 40), st.floats(0, 360, exclude_max=True)
)


@settings(max_examples=200, deadline=None)
@given(ellipses, sizes)
def test_outline_area_is_within_1e_4_of_the_analytic_area(e, size):
    outline = shapely.Polygon(ellipse_outline_px(e, *size))
    exact = ellipse_area_px(e, *size)
    assert abs(outline.area / exact - 1) < 1e-4
    assert outline.area / exact == pytest.approx(polygon_area_ratio(), rel=1e-9)
    assert len(ellipse_outline_px(e, *size)) == ELLIPSE_VERTICES and outline.is_valid


@settings(max_examples=60, deadline=None)
@given(ellipses, st.tuples(st.floats(-8, 8), st.floats(-8, 8), st.floats(0.6, 1.6), st.floats(0.6, 1.6), st.floats(-60, 60)), sizes)
def test_engine_iou_equals_the_fine_shapely_ellipses(e, change, size):
    dx, dy, sx, sy, drot = change
    f = (e[0] + dx, e[1] + dy, e[2] * sx, e[3] * sy, (e[4] + drot) % 360)
    a, b = fine_ellipse(e, *size), fine_ellipse(f, *size)
    expected = a.intersection(b).area / a.union(b).area
    t = {"id": 1, "annotations": [{"result": [ellipse(*e[:4], rotation=e[4], size=size)]}],
         "predictions": [{"result": [ellipse(*f[:4], rotation=f[4], size=size, score=0.9)]}]}  # fmt: skip
    assert evaluate([t], "iou", 0.0).tasks[0].score == pytest.approx(expected, abs=5e-4)


def test_rotation_is_applied_in_pixels():
    # 20% of a 200 px width and 10% of a 100 px height: 40 x 10 px; turned 90 degrees it is 10 x 40 px,
    # which is radiusX 5% and radiusY 40% unrotated. In percent space the two would barely overlap.
    gt = ellipse(50, 50, 20, 10, rotation=90, size=(200, 100))
    pred = ellipse(50, 50, 5, 40, size=(200, 100), score=0.9)
    t = {"id": 1, "annotations": [{"result": [gt]}], "predictions": [{"result": [pred]}]}
    assert evaluate([t], "iou", 0.5).tasks[0].score > 0.999


def test_a_rotated_ellipse_needs_the_image_size_and_an_upright_one_does_not():
    upright = {"id": 1, "annotations": [{"result": [ellipse(50, 50, 10, 5, size=None)]}],
               "predictions": [{"result": [ellipse(51, 50, 10, 5, size=None, score=0.9)]}]}  # fmt: skip
    with_size = json.loads(json.dumps(upright))
    for a in (with_size["annotations"][0], with_size["predictions"][0]):
        a["result"][0].update(original_width=300, original_height=900)
    # IoU is unchanged by a per-axis scale, so percent space is exact for upright ellipses
    assert evaluate([upright], "iou", 0.5).tasks[0].score == pytest.approx(evaluate([with_size], "iou", 0.5).tasks[0].score, abs=1e-12)
    rotated = json.loads(json.dumps(upright))
    rotated["annotations"][0]["result"][0]["value"]["rotation"] = 30
    with pytest.raises(InputError, match=r"task 1: ground truth: result 'e50-50-10-5-0.0': a rotated ellipse needs the image size"):
        evaluate([rotated], "iou", 0.5)
    assert evaluate([rotated], "iou", 0.0, image_size="300x900").tasks[0].score > 0


def test_ellipses_join_the_detection_family():
    gt = [ellipse(30, 30, 10, 10, "A", rid="g1"), ellipse(70, 70, 8, 5, "B", rotation=45, rid="g2")]
    pred = [ellipse(30.5, 30, 10, 10, "A", score=0.9, rid="p1"), ellipse(20, 80, 5, 5, "B", score=0.3, rid="p2")]
    t = {"id": 1, "annotations": [{"result": gt}], "predictions": [{"result": pred}]}
    f1 = evaluate([t], "f1", 0.9).tasks[0]
    assert f1.score == 0.5
    assert "missed B ellipse at x=70% y=70% radii 8×5% rotated 45°" in f1.reasons
    assert any(r.startswith("extra B ellipse at x=20% y=80%") for r in f1.reasons)
    assert 0 < evaluate([t], "mAP", 0.0).tasks[0].score < 1
    perfect = dict(t, predictions=[{"result": [dict(r, score=0.9) for r in gt]}])
    for metric in ("mAP", "mAP50", "precision", "recall", "f1", "iou"):
        assert evaluate([perfect], metric, 1.0).tasks[0].score == 1.0, metric


def test_split_ellipse_and_labels_from_a_real_export(corpus):
    task = json.loads((corpus / "ls-frontend/image_tools/1.json").read_text())
    result = task["annotations"][0]["result"]
    moved = json.loads(json.dumps(result))
    for r in moved:
        if r["type"] in ("ellipse", "labels") and "radiusX" in r["value"]:
            r["value"]["x"] += 1.0  # pixels: 1% of 2242 px = 22.4 px along a 657 px wide ellipse
    t = dict(task, predictions=[{"result": moved}])
    report = evaluate([t], "iou", 0.5, controls=["ellipse"])
    (region,) = report.tasks[0].controls[0].regions
    assert region.outcome == "TP" and region.label != ""
    a, b = (fine_ellipse(
        (r["value"]["x"], r["value"]["y"], r["value"]["radiusX"], r["value"]["radiusY"], 0), 2242, 2802
    ) for r in (next(r for r in rs if r["type"] == "ellipse") for rs in (result, moved)))  # fmt: skip
    assert region.iou == pytest.approx(a.intersection(b).area / a.union(b).area, abs=2e-4)


@settings(max_examples=60, deadline=None)
@given(ellipses, ellipses)
def test_ellipse_iou_is_symmetric_bounded_and_one_on_itself(e, f):
    from ml_test.geometry.shapes import shape_iou_pairs

    a = np.array([shapely.Polygon(ellipse_outline_px(e, 640, 480)), shapely.Polygon(ellipse_outline_px(e, 640, 480))])
    b = np.array([shapely.Polygon(ellipse_outline_px(f, 640, 480)), a[0]])
    forward, backward = shape_iou_pairs(a, b), shape_iou_pairs(b, a)
    assert forward == pytest.approx(backward, abs=1e-12)
    assert 0.0 <= forward[0] <= 1.0 and forward[1] == 1.0


@pytest.mark.parametrize(
    "change, message",
    [({"radiusX": None}, r"result 'e1': value.radiusX is missing"), ({"y": "top"}, r"result 'e1': value.y must be a number, got 'top'"),
     ({"rotation": float("inf")}, r"result 'e1': value.rotation must be finite")],
)  # fmt: skip
def test_bad_ellipse_values_name_the_region_and_field(change, message):
    from ml_test.regions import parse_result

    r = ellipse(50, 50, 10, 5, rid="e1")
    r["value"].update(change)
    r["value"] = {k: v for k, v in r["value"].items() if v is not None}
    with pytest.raises(InputError, match=message):
        parse_result([r], where="t.json: task 3 (line 9)")
