"""Keypoints: PCK within a distance in pixels or a share of the image diagonal, one-to-one and per label."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_test import InputError, UsageError, evaluate


def point(x, y, label="nose", score=None, size=(200, 100), rid=None):
    r = {"id": rid or f"k{x}-{y}-{label}", "from_name": "kp", "to_name": "img", "type": "keypointlabels",
         "value": {"x": x, "y": y, "width": 0.5, "keypointlabels": [label]}}  # fmt: skip
    if size:
        r["original_width"], r["original_height"] = size
    if score is not None:
        r["score"] = score
    return r


def one(gt, pred, tid=1):
    return {"id": tid, "annotations": [{"result": list(gt)}], "predictions": [{"result": list(pred)}]}


def pck(gt, pred, **kw):
    return evaluate([one(gt, pred)], "pck", 1.0, **kw).tasks[0]


def test_distance_in_pixels_is_inclusive():
    gt, pred = [point(50, 50)], [point(55, 50, score=0.9)]  # 5% of 200 px: 10 px apart
    assert pck(gt, pred, distance=10).score == 1.0
    missed = pck(gt, pred, distance=9.9)
    assert missed.score == 0.0
    assert missed.reasons == (
        "missed nose point at x=50% y=50%: nearest nose prediction 10.0 px away, more than 9.9 px",
        "extra nose point at x=55% y=50% score 0.90",
    )


def test_distance_below_one_is_a_share_of_the_image_diagonal():
    gt, pred = [point(50, 50)], [point(55, 50, score=0.9)]
    diagonal = np.hypot(200, 100)  # 223.6 px
    assert 10 / diagonal == pytest.approx(0.0447, abs=1e-4)
    assert pck(gt, pred, distance=0.045).score == 1.0
    assert pck(gt, pred, distance=0.044).score == 0.0
    assert pck(gt, pred).score == 1.0  # default: 5% of the diagonal, 11.2 px


def test_matching_is_one_to_one_and_per_label():
    gt = [point(50, 50, rid="a"), point(51, 50, rid="b")]
    assert pck(gt, [point(50.5, 50, score=0.9)], distance=5).score == 0.5
    wrong_label = pck([point(50, 50)], [point(50, 50, "eye", score=0.9)], distance=5)
    assert wrong_label.score == 0.0 and wrong_label.reasons == ("nose point at x=50% y=50% predicted as eye (0.0 px away)",)
    both = evaluate([one(gt, [point(50, 50, score=0.9, rid="p1"), point(51, 50, score=0.8, rid="p2")])], "f1", 1.0, distance=5)
    assert both.tasks[0].score == 1.0


def test_pck_empty_cases_and_dataset_values():
    tasks = [
        one([point(10, 10), point(90, 90, "eye")], [point(10, 10, score=0.9)], tid=1),
        one([], [point(10, 10, score=0.9)], tid=2),  # predictions without ground truth: 0
        one([], [], tid=3),  # both empty: 1
        one([point(30, 30)], [], tid=4),
    ]
    report = evaluate(tasks, "pck", 0.5, distance=3)
    assert [t.score for t in report.tasks] == [0.5, 0.0, 1.0, 0.0]
    assert report.aggregate == {"pck": pytest.approx(1 / 3), "pck_macro": pytest.approx((0.5 + 0.0) / 2)}
    assert report.per_label == {"eye": {"pck": 0.0, "support": 1}, "nose": {"pck": 0.5, "support": 2}}
    assert report.params["distance"] == 3.0


def test_keypoints_need_the_image_size_and_a_positive_distance():
    t = one([point(10, 10, size=None, rid="k1")], [point(10, 10, score=0.9, size=None)])
    with pytest.raises(InputError, match=r"ground truth: result 'k1': a keypoint distance is measured in pixels and needs the image size"):
        evaluate([t], "pck", 1.0)
    assert evaluate([t], "pck", 1.0, image_size="640x480").passed == 1
    for bad in (0, -1, float("nan")):
        with pytest.raises(UsageError, match="distance must be a positive number"):
            evaluate([t], "pck", 1.0, distance=bad, image_size="640x480")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 2 * np.pi), st.floats(0, 1)), min_size=1, max_size=12), st.integers(0, 3))
def test_pck_equals_the_share_of_points_within_the_distance_when_points_are_far_apart(offsets, n_extra):
    # ground-truth points on a 4 x 3 grid 200 px apart; each prediction within 30 px of its own point,
    # so no prediction can reach another point and the matching is unambiguous
    size, radius = (1000, 800), 20.0
    grid = [(100 + 200 * i, 100 + 200 * j) for j in range(3) for i in range(4)]
    gt, pred, within = [], [], 0
    for k, (angle, share) in enumerate(offsets):
        gx, gy = grid[k]
        d = 30.0 * share
        if abs(d - radius) < 1e-6:
            continue
        within += d <= radius
        gt.append(point(gx / 10, gy / 8, size=size, rid=f"g{k}"))
        pred.append(point((gx + d * np.cos(angle)) / 10, (gy + d * np.sin(angle)) / 8, score=0.5, size=size, rid=f"p{k}"))
    pred += [point(95, 95, score=0.99, size=size, rid=f"x{k}") for k in range(n_extra)]  # far from everything
    if not gt:
        return
    result = pck(gt, pred, distance=radius)
    assert result.score == pytest.approx(within / len(gt), abs=1e-12)


def test_real_keypoint_exports(corpus):
    data = json.loads((corpus / "ls-sdk/test_export_yolo/data_keypoints.json").read_text())
    task = data[0]
    result = task["annotations"][0]["result"]
    moved = json.loads(json.dumps(result))
    nose = next(r for r in moved if r["value"].get("keypointlabels") == ["nose"])
    nose["value"]["x"] += 5  # 5% of 216 px: 10.8 px
    t = dict(task, predictions=[{"result": moved}])
    assert evaluate([t], "pck", 1.0, distance=10).tasks[0].score == pytest.approx(2 / 3)
    assert evaluate([t], "pck", 1.0, distance=11).tasks[0].score == 1.0
    split = json.loads((corpus / "ls-frontend/image_tools/1.json").read_text())
    split["predictions"] = [{"result": split["annotations"][0]["result"]}]
    report = evaluate([split], "pck", 1.0)
    assert report.passed == 1 and report.controls == {}
