"""Video tracks (``videorectangle``): keyframe interpolation, lifespans and ``video_iou``."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from ml_test import InputError, evaluate
from ml_test.geometry.video import parse_track, track_iou
from ml_test.regions import parse_result

sys.path.insert(0, str(Path(__file__).parent))
from test_corpus import _self_tested  # noqa: E402


def kf(frame, x=0.0, y=0.0, w=10.0, h=10.0, rotation=0.0, enabled=True):
    return {"frame": frame, "time": (frame - 1) / 25, "x": x, "y": y, "width": w, "height": h, "rotation": rotation, "enabled": enabled}


def track(keyframes, label="Car", rid=None, frames_count=100):
    value = {"sequence": list(keyframes), "labels": [label]}
    if frames_count is not None:
        value["framesCount"], value["duration"] = frames_count, frames_count / 25
    r = {"from_name": "box", "to_name": "video", "type": "videorectangle", "value": value}
    if rid is not None:
        r["id"] = rid
    return r


def one(gt, pred, tid=1):
    return {"id": tid, "annotations": [{"result": list(gt)}], "predictions": [{"result": list(pred), "score": 0.5}]}


def video_iou(gt, pred, **kw):
    return evaluate([one(gt, pred)], "video_iou", 0.0, **kw).tasks[0].score


def frames_of(t):
    return parse_track(t["value"], "t").frames.tolist()


def test_mid_frames_are_interpolated_linearly():
    t = parse_track(track([kf(1, x=0, y=10, w=10, h=20, rotation=0), kf(11, x=10, y=30, w=20, h=40, rotation=50, enabled=False)])["value"], "t")
    assert t.frames.tolist() == list(range(1, 12))
    assert t.boxes[5].tolist() == [5.0, 20.0, 15.0, 30.0, 25.0]  # frame 6, halfway
    assert t.boxes[0].tolist() == [0.0, 10.0, 10.0, 20.0, 0.0] and t.boxes[10].tolist() == [10.0, 30.0, 20.0, 40.0, 50.0]
    # -5° to 5° passes through 0°, not 180°
    r = parse_track(track([kf(1, rotation=-4), kf(3, rotation=4, enabled=False)])["value"], "t")
    assert r.boxes[:, 4].tolist() == [356.0, 0.0, 4.0]


def test_disabled_keyframe_ends_the_track_and_the_last_one_lasts_to_frames_count():
    t = track([kf(1), kf(5, enabled=False), kf(10), kf(12)], frames_count=15)
    assert frames_of(t) == [1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]
    assert frames_of(track([kf(1), kf(5)], frames_count=None)) == [1, 2, 3, 4, 5]  # no framesCount: to the keyframe
    assert frames_of(track([kf(3, enabled=False)], frames_count=35)) == [3]  # a lone disabled keyframe: its own frame
    assert frames_of(track([kf(2, enabled=False), kf(4)], frames_count=5)) == [2, 4, 5]
    assert frames_of(track([kf(5), kf(1)], frames_count=6)) == [1, 2, 3, 4, 5, 6]  # keyframes in any order


def test_negative_sizes_are_normalised():
    t = parse_track(track([kf(1, x=30, y=50, w=-10, h=-20)], frames_count=2)["value"], "t")
    assert t.boxes.tolist() == [[20.0, 30.0, 10.0, 20.0, 0.0]] * 2
    flipped = track([kf(1, x=20, y=30, w=10, h=20)], frames_count=2)
    assert video_iou([track([kf(1, x=30, y=50, w=-10, h=-20)], frames_count=2)], [flipped]) == 1.0


def test_invalid_values_name_the_region_and_field():
    cases = [
        ({"sequence": [kf(1, x=float("nan"))]}, "value.sequence[0].x must be finite"),
        ({"sequence": [dict(kf(1), width="wide")]}, "value.sequence[0].width must be a number"),
        ({"sequence": [kf(0)]}, "value.sequence[0].frame must be a frame number"),
        ({"sequence": [dict(kf(1), enabled="yes")]}, "value.sequence[0].enabled must be true or false"),
        ({"sequence": [{"frame": 1, "x": 1, "y": 1, "width": 1}]}, "value.sequence[0].height is missing"),
        ({}, "value.sequence must be a list"),
        ({"sequence": [kf(1)], "framesCount": -3}, "value.framesCount must be a whole number"),
    ]
    for value, message in cases:
        r = {"id": "trk", "from_name": "box", "to_name": "video", "type": "videorectangle", "value": value}
        with pytest.raises(InputError, match="result 'trk'.*" + message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
            parse_result([r], where="f.json: task 1")


def test_partial_overlap_in_time_is_hand_computed():
    gt = track([kf(1, w=10, h=10), kf(4, w=10, h=10, enabled=False)])  # frames 1-4
    pred = track([kf(3, w=10, h=5), kf(6, w=10, h=5, enabled=False)])  # frames 3-6, IoU 0.5 on each frame
    # frames 3 and 4 in both (0.5 + 0.5), frames 1-6 in either: 1/6
    assert video_iou([gt], [pred]) == pytest.approx(1 / 6)
    assert track_iou(parse_track(gt["value"], ""), parse_track(pred["value"], ""), None) == pytest.approx(1 / 6)
    # an extra track of another label is unmatched: (1/6) / (1 matched + 1 extra)
    other = track([kf(1)], label="Bus")
    report = evaluate([one([gt], [pred, other])], "video_iou", 0.5)
    assert report.tasks[0].score == pytest.approx(1 / 12)
    assert report.per_label["Car"]["video_iou"] == pytest.approx(1 / 6) and report.per_label["Bus"]["video_iou"] == 0.0
    assert any("extra Bus track" in r for r in report.tasks[0].reasons)


def test_tracks_are_matched_one_to_one():
    a = track([kf(1, x=0, y=0)], frames_count=10)
    b = track([kf(1, x=50, y=50)], frames_count=10)
    exact = track([kf(1, x=0, y=0)], frames_count=10)
    near = track([kf(1, x=1, y=0)], frames_count=10)  # overlaps a too, but a is taken by the exact copy
    # exact <-> a scores 1; near is left unmatched, b is missed: 1 / (1 + 1 + 1)
    assert video_iou([a, b], [near, exact]) == pytest.approx(1 / 3)
    report = evaluate([one([a, b], [near, exact])], "video_iou", 0.0)
    assert sorted(o.outcome for o in report.tasks[0].controls[0].regions) == ["FN", "FP", "TP"]


def test_score_does_not_depend_on_the_order_of_tracks():
    rng = random.Random(3)
    def rand_track(label):
        start = rng.randint(1, 20)
        kfs = [kf(start + 3 * i, x=rng.uniform(0, 50), y=rng.uniform(0, 50), w=rng.uniform(5, 30), h=rng.uniform(5, 30),
                  enabled=rng.random() > 0.2) for i in range(rng.randint(1, 5))]  # fmt: skip
        return track(kfs, label=label, frames_count=40)
    gt = [rand_track(rng.choice("AB")) for _ in range(6)]
    pred = [rand_track(rng.choice("AB")) for _ in range(7)]
    base = video_iou(gt, pred)
    assert 0.0 < base < 1.0
    for _ in range(5):
        rng.shuffle(gt)
        rng.shuffle(pred)
        assert video_iou(gt, pred) == pytest.approx(base, abs=1e-12)


def test_empty_sides():
    t = track([kf(1)], frames_count=5)
    tasks = [one([t], [t], 1), one([], [], 2), one([t], [], 3), one([], [t], 4)]
    report = evaluate(tasks, "video_iou", 0.5)
    assert [r.score for r in report.tasks] == [1.0, 1.0, 0.0, 0.0]
    assert report.aggregate["video_iou"] == pytest.approx(1 / 3)  # 1 matched + 1 missed + 1 extra


def test_rotated_tracks_are_compared_as_polygons_in_pixels():
    square = track([kf(1, x=40, y=40, w=10, h=10, rotation=45)], frames_count=3)
    upright = track([kf(1, x=40, y=40, w=10, h=10)], frames_count=3)
    with pytest.raises(InputError, match="rotated video box needs the frame size"):
        video_iou([square], [upright])
    assert video_iou([square], [square], image_size="640x640") == 1.0
    # a square turned 45° about a shared corner overlaps the upright one by (√2 - 1) of its area
    inter = 100 * (np.sqrt(2) - 1)
    assert video_iou([square], [upright], image_size="640x640") == pytest.approx(inter / (200 - inter))


def test_corpus_ground_truth_scores_one_against_itself(corpus):
    tasks = _self_tested(corpus / "ls-frontend" / "video_bboxes" / "1.json")
    report = evaluate(tasks, "video_iou", 1.0, image_size="1000x1000")
    assert [t.score for t in report.tasks] == [1.0]
    assert set(report.per_label) == {"Car", "Airplane", "Possum"}
    parsed = parse_result(json.loads((corpus / "ls-frontend" / "video_bboxes" / "1.json").read_text())["annotations"][0]["result"])
    shown = {r.label: r.geometry.shown for r in parsed.controls["box"]}
    assert shown["Car"] == "frames 1-5" and shown["Airplane"] == "frames 33-57, 76-1009"
    # the ML backend's bare prediction list: tracks without ids, one made of a single disabled keyframe
    preds = json.loads((corpus / "ls-ml-backend" / "opossum_snow_short_1.json").read_text())[0]["result"]
    tracks = parse_result(preds).controls["box"]
    assert len(tracks) == 16 and min(len(r.geometry) for r in tracks) == 1
    assert video_iou(preds, list(reversed(preds))) == 1.0
