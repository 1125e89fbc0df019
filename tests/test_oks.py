"""oks_mAP: keypoints grouped by their parent box, COCO AP at OKS thresholds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import rect, task
from ml_test import evaluate
from ml_test.metrics.oks import DEFAULT_OKS_K, OksKeypointFamily, build_objects, oks
from ml_test.metrics import ControlItem, Params, get_metric
from ml_test.regions import parse_result

SIZE = (200, 100)


def point(rid, x, y, label, parent=None, score=None):
    """A keypointlabels result in percent, optionally with a parentID."""
    r = {"id": rid, "from_name": "kp", "to_name": "image", "type": "keypointlabels", "original_width": SIZE[0],
         "original_height": SIZE[1], "value": {"x": x, "y": y, "width": 0.5, "keypointlabels": [label]}}  # fmt: skip
    if parent is not None:
        r["parentID"] = parent
    if score is not None:
        r["score"] = score
    return r


def person(prefix, nose_x, score=None):
    """A person box 100x40 px (area 4000) with a nose and an eye; the nose moves with ``nose_x`` (percent)."""
    box = rect(10, 10, 50, 40, "person", score, size=SIZE, rid=f"{prefix}box")
    return [box, point(f"{prefix}n", nose_x, 50, "nose", box["id"]), point(f"{prefix}e", 60, 50, "eye", box["id"])]


def test_hand_computed_oks_and_its_ap():
    gt, pred = parse_result(person("g", 50)), parse_result(person("p", 55, 0.9))
    item = ControlItem(0, "task 1", tuple(gt.controls["kp"]), tuple(pred.controls["kp"]), SIZE)
    codes: dict[str, int] = {}
    (g,), _ = build_objects([item], "gt", codes)
    (p,), _ = build_objects([item], "pred", codes)
    assert g.area == 4000.0 and g.label == "person" and p.score == 0.9
    # nose 5% of 200 px = 10 px away: exp(-100 / (2 * 4000 * 0.1²)) = exp(-1.25); the eye is exact: exp(0) = 1
    expected = (math.exp(-100 / (2 * 4000 * DEFAULT_OKS_K**2)) + 1.0) / 2  # 0.6433
    assert oks(g, p) == pytest.approx(expected, rel=1e-12)
    # matched at OKS .50, .55, .60 of the ten thresholds: AP 0.3
    report = evaluate([task(1, person("g", 50), person("p", 55, 0.9))], "oks_mAP", 0.5)
    assert report.tasks[0].score == pytest.approx(0.3) and report.failed == 1
    assert report.aggregate["mAP50"] == pytest.approx(1.0) and report.aggregate["mAP75"] == 0.0
    # k is an API-level option of the family: a wider falloff scores higher
    family = OksKeypointFamily(k=0.5)
    scores, _ = family.score(get_metric("oks_mAP"), [item], Params(0.5))
    assert scores[0].score == 1.0


def test_ground_truth_against_itself_is_one(corpus):
    tasks = json.loads((corpus / "ls-sdk/test_export_yolo/data_keypoints.json").read_text())
    perfect = [dict(t, predictions=[{"result": t["annotations"][0]["result"]}]) for t in tasks]
    report = evaluate(perfect, "oks_mAP", 1.0)
    assert report.passed == len(perfect) and all(t.score == 1.0 for t in report.tasks)
    assert report.aggregate["mAP"] == pytest.approx(1.0)


def test_generated_ground_truth_against_itself_is_one():
    results = person("a", 50) + person("b", 30)
    report = evaluate([task(1, results, [dict(r, score=0.5) for r in results])], "oks_mAP", 1.0)
    assert report.tasks[0].score == 1.0


def test_labels_must_match_and_points_without_parent_are_ignored():
    gt = person("g", 50)
    wrong = [dict(r, value=dict(r["value"], keypointlabels=["ear"])) if r["id"] == "pn" else r for r in person("p", 50, 0.9)]
    pred = parse_result(wrong)
    item = ControlItem(0, "t", tuple(parse_result(gt).controls["kp"]), tuple(pred.controls["kp"]), SIZE)
    codes: dict[str, int] = {}
    (g,), _ = build_objects([item], "gt", codes)
    (p,), _ = build_objects([item], "pred", codes)
    assert oks(g, p) == pytest.approx(0.5)  # the nose has no same-label prediction: it counts 0
    # a stray point without a parent box changes nothing, and a failing task says it was ignored
    stray = point("s", 90, 90, "nose")
    assert evaluate([task(1, gt + [stray], person("p", 50, 0.9))], "oks_mAP", 0.5).tasks[0].score == 1.0
    failing = evaluate([task(1, gt + [stray], [stray])], "oks_mAP", 0.5).tasks[0]
    assert failing.score == 0.0
    assert any("without a parent box are ignored" in r for r in failing.reasons)


def test_empty_and_category_mismatch():
    only_stray = [point("s", 90, 90, "nose")]
    assert evaluate([task(1, only_stray, only_stray)], "oks_mAP", 0.5).tasks[0].score == 1.0
    cat = [dict(r, value=dict(r["value"], rectanglelabels=["dog"])) if r["type"] == "rectanglelabels" else r for r in person("p", 50, 0.9)]
    # a dog object does not match a person: person AP 0, dog AP 0
    assert evaluate([task(1, person("g", 50), cat)], "oks_mAP", 0.5).tasks[0].score == 0.0


def test_chunked_and_shuffled_runs_agree():
    rng = np.random.default_rng(0)
    tasks = []
    for tid in range(1, 25):
        gt, pred = [], []
        for k in range(int(rng.integers(0, 3))):
            x = float(rng.uniform(20, 60))
            gt += person(f"g{tid}-{k}-", x)
            if rng.random() < 0.8:
                pred += person(f"p{tid}-{k}-", x + float(rng.normal(0, 3)), float(rng.uniform(0.1, 1)))
        tasks.append(task(tid, gt, pred))
    from ml_test import engine

    serial = evaluate(tasks, "oks_mAP", 0.5)
    old = engine.CHUNK_SIZE
    engine.CHUNK_SIZE = 5
    try:
        chunked = evaluate(tasks, "oks_mAP", 0.5)
    finally:
        engine.CHUNK_SIZE = old
    assert chunked.aggregate == serial.aggregate and chunked.tasks == serial.tasks
