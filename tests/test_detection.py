"""The detection family through the whole engine, cross-checked against pycocotools on generated tasks."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

from conftest import rect, task  # noqa: E402
from ml_test import engine, evaluate  # noqa: E402
from ml_test.geometry.shapes import box_xywh_px  # noqa: E402
from ml_test.metrics.coco import STAT_NAMES  # noqa: E402

SIZES = [(640, 480), (1280, 720), (500, 375), (1920, 1080)]


def generate(seed: int, n_tasks: int = 30, n_labels: int = 5, decimals: int = 1):
    """Random LS tasks: jittered hits, wrong labels, duplicates, false positives, empty sides."""
    rng = np.random.default_rng(seed)
    labels = [f"class{i}" for i in range(n_labels)]
    tasks = []
    for tid in range(1, n_tasks + 1):
        size = SIZES[rng.integers(len(SIZES))]
        n_gt = int(rng.poisson(3)) if rng.random() > 0.1 else 0
        gt, pred = [], []
        for _ in range(n_gt):
            w, h = np.exp(rng.uniform(np.log(1), np.log(60), 2))
            x, y = rng.uniform(0, 100 - w), rng.uniform(0, 100 - h)
            label = labels[min(int(rng.zipf(1.5)) - 1, n_labels - 1)]
            gt.append(rect(x, y, w, h, label, size=size))
            if rng.random() < 0.85:
                jx, jy, jw, jh = rng.normal(0, 0.08, 4) * [w, h, w, h]
                plabel = label if rng.random() > 0.1 else labels[rng.integers(n_labels)]
                s = round(float(rng.beta(5, 2)), decimals)
                px_, py_ = min(max(x + jx, 0), 99), min(max(y + jy, 0), 99)
                pw, ph = min(max(w + jw, 0.1), 100 - px_), min(max(h + jh, 0.1), 100 - py_)
                pred.append(rect(px_, py_, pw, ph, plabel, s, size))
                if rng.random() < 0.3:
                    pred.append(rect(x, y, min(w * 1.2, 100 - x), h * 0.9, plabel, round(s * 0.7, decimals), size))
        for _ in range(int(rng.integers(0, 4))):
            w, h = rng.uniform(1, 40, 2)
            pred.append(rect(rng.uniform(0, 100 - w), rng.uniform(0, 100 - h), w, h, labels[rng.integers(n_labels)],
                             round(float(rng.uniform(0, 0.5)), decimals), size))  # fmt: skip
        if rng.random() < 0.05:
            pred = []
        tasks.append(task(tid, gt, pred))
    return tasks


def pycocotools_stats(tasks):
    """Feed pycocotools the same boxes, in pixels by the engine's documented conversion."""
    labels = sorted({r["value"]["rectanglelabels"][0] for t in tasks for a in (t["annotations"][0], *t["predictions"]) for r in a["result"]})
    cat = {k: i + 1 for i, k in enumerate(labels)}
    images, anns, dets = [], [], []

    def px(r):
        v = r["value"]
        return box_xywh_px(np.array([[v["x"], v["y"], v["width"], v["height"]]]), r["original_width"], r["original_height"])[0]

    for i, t in enumerate(tasks):
        images.append({"id": i + 1, "width": 1, "height": 1})
        for r in t["annotations"][0]["result"]:
            b = px(r)
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": cat[r["value"]["rectanglelabels"][0]],
                         "bbox": list(b), "area": b[2] * b[3], "iscrowd": 0})  # fmt: skip
        for p in t["predictions"]:
            for r in p["result"]:
                dets.append({"image_id": i + 1, "category_id": cat[r["value"]["rectanglelabels"][0]], "bbox": list(px(r)), "score": r["score"]})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c} for c in cat.values()]}
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(dets) if dets else COCO(), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {name: (None if v == -1 else float(v)) for name, v in zip(STAT_NAMES, ev.stats)}


@pytest.mark.parametrize("seed", range(8))
def test_map_aggregate_equals_pycocotools_bit_for_bit(seed):
    tasks = generate(seed, decimals=1 + seed % 2)
    if not any(t["predictions"] and t["predictions"][0]["result"] for t in tasks):
        pytest.skip("no predictions drawn")
    report = evaluate(tasks, "mAP", 0.5)
    assert report.aggregate == pycocotools_stats(tasks)


def test_chunked_run_equals_serial_run(monkeypatch):
    tasks = generate(11, n_tasks=60)
    serial = evaluate(tasks, "mAP", 0.5)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 7)
    chunked = evaluate(tasks, "mAP", 0.5)
    assert chunked.aggregate == serial.aggregate
    assert [t.score for t in chunked.tasks] == [t.score for t in serial.tasks]
    for metric in ("f1", "iou"):
        monkeypatch.setattr(engine, "CHUNK_SIZE", 1000)
        a = evaluate(tasks, metric, 0.5)
        monkeypatch.setattr(engine, "CHUNK_SIZE", 5)
        assert evaluate(tasks, metric, 0.5).aggregate == a.aggregate


def test_per_task_map_equals_pycocotools_on_that_task_alone():
    tasks = [t for t in generate(3, n_tasks=25) if t["annotations"][0]["result"]]
    report = evaluate(tasks, "mAP", 0.5)
    for t, result in zip(tasks, report.tasks):
        gt_labels = {r["value"]["rectanglelabels"][0] for r in t["annotations"][0]["result"]}
        pred_labels = {r["value"]["rectanglelabels"][0] for p in t["predictions"] for r in p["result"]}
        # pycocotools on the one task averages over labels with GT; ours also counts predicted-only labels as 0
        expected = pycocotools_stats([t])["mAP"] * len(gt_labels) / len(gt_labels | pred_labels)
        assert result.score == pytest.approx(expected, abs=1e-12)


def test_ground_truth_against_itself_is_perfect_for_every_metric():
    tasks = generate(5, n_tasks=20)
    for t in tasks:
        t["predictions"] = [{"result": [dict(r, score=0.9) for r in t["annotations"][0]["result"]]}]
    for metric in ("mAP", "mAP50", "mAP75", "precision", "recall", "f1", "iou"):
        report = evaluate(tasks, metric, 1.0)
        assert report.failed == 0, (metric, report.failing()[:1])
        assert all(t.score == 1.0 for t in report.tasks), metric


def test_precision_recall_f1_and_iou_per_task():
    gt = [rect(10, 10, 20, 20, "Car"), rect(50, 50, 10, 10, "Car"), rect(70, 10, 10, 10, "Person")]
    pred = [rect(10, 10, 20, 20, "Car", 0.9), rect(52, 50, 10, 10, "Car", 0.8), rect(0, 80, 5, 5, "Car", 0.7)]
    tasks = [task(1, gt, pred)]
    iou_second = (8 * 10) / (100 + 100 - 80)  # 2% shift on a 10% box, same scale both axes
    f1 = evaluate(tasks, "f1", 0.5)
    assert f1.tasks[0].score == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert f1.tasks[0].controls[0].per_label == {"Car": pytest.approx(2 * 2 / (4 + 1)), "Person": 0.0}
    strict = evaluate(tasks, "f1", 0.5, iou=0.7)  # the shifted box (IoU 0.667) no longer matches
    assert strict.tasks[0].score == pytest.approx(2 * 1 / (2 + 2 + 2))
    assert any("best IoU 0.67 < 0.70" in r for r in strict.tasks[0].reasons)
    iou = evaluate(tasks, "iou", 0.5).tasks[0]
    assert iou.score == pytest.approx((1 + iou_second) / (2 + 1 + 1))
    outcomes = sorted(o.outcome for o in iou.controls[0].regions)
    assert outcomes == ["FN", "FP", "TP", "TP"]


def test_micro_macro_prf_over_dataset_match_counting_by_hand():
    t1 = task(1, [rect(10, 10, 20, 20, "A"), rect(50, 50, 20, 20, "B")], [rect(10, 10, 20, 20, "A", 0.9)])
    t2 = task(2, [rect(10, 10, 20, 20, "A")], [rect(10, 10, 20, 20, "A", 0.9), rect(60, 60, 20, 20, "B", 0.5)])
    agg = evaluate([t1, t2], "f1", 0.5).aggregate
    # A: tp 2; B: fp 1, fn 1
    assert agg["precision_micro"] == pytest.approx(2 / 3) and agg["recall_micro"] == pytest.approx(2 / 3)
    assert agg["f1_macro"] == pytest.approx((1.0 + 0.0) / 2)


def test_reasons_name_missed_extra_and_wrong_label():
    gt = [rect(10, 40, 30, 20, "Car"), rect(60, 10, 10, 10, "Person")]
    pred = [rect(10, 40, 30, 20, "Truck", 0.91), rect(80, 80, 10, 10, "Dog", 0.5)]
    reasons = evaluate([task(1, gt, pred)], "f1", 0.5).tasks[0].reasons
    assert "Car at x=10% y=40% 30×20% predicted as Truck (IoU 1.00)" in reasons
    assert "missed Person at x=60% y=10% 10×10%" in reasons
    assert "extra Dog at x=80% y=80% 10×10% score 0.50" in reasons


def test_no_prediction_fails_and_empty_task_passes():
    tasks = [task(1, [rect(1, 1, 5, 5, "A")]), task(2, [], []), task(3, [], [rect(1, 1, 5, 5, "A", 0.3)])]
    report = evaluate(tasks, "mAP", 0.5)
    assert [t.status for t in report.tasks] == ["failed", "passed", "failed"]
    assert report.tasks[0].reasons[0] == "no prediction"
    assert report.tasks[1].score == 1.0 and report.tasks[2].score == 0.0


def test_rotated_boxes_need_pixels_and_use_polygon_iou():
    size = (200, 100)
    # a 20x10 px box centred at (50, 50) rotated 90° about its centre is the 10x20 px box at the same centre
    cx, cy, w, h = 50, 50, 20, 10
    rotated = rect((cx + h / 2) / 2, (cy - w / 2), w / 2, h, "A", size=size, rotation=90)
    upright = rect((cx - h / 2) / 2, (cy - w / 2), h / 2, w, "A", 0.9, size=size)
    assert evaluate([task(1, [rotated], [upright])], "iou", 0.5).tasks[0].score == pytest.approx(1.0)
    no_size = rect(10, 10, 10, 10, "A", size=None, rotation=30)
    from ml_test.errors import InputError

    with pytest.raises(InputError, match="rotated box needs the image size"):
        evaluate([task(1, [no_size], [rect(10, 10, 10, 10, "A", 0.5, size=None)])], "iou", 0.5)
    assert evaluate([task(1, [no_size], [dict(no_size, score=0.5)])], "iou", 0.5, image_size="100x100").tasks[0].score == 1.0


def test_polygons_are_repaired_and_scored():
    def poly(points, label, score=None):
        r = {"id": f"p{len(points)}{label}", "from_name": "poly", "to_name": "image", "type": "polygonlabels",
             "original_width": 100, "original_height": 100, "value": {"points": points, "polygonlabels": [label]}}  # fmt: skip
        if score is not None:
            r["score"] = score
        return r

    square = [[10, 10], [30, 10], [30, 30], [10, 30]]
    bowtie = [[10, 10], [30, 30], [30, 10], [10, 30]]  # self-intersecting: two triangles of 100 each
    r = evaluate([task(1, [poly(square, "A")], [poly(bowtie, "A", 0.9)])], "iou", 0.5)
    assert r.tasks[0].score == pytest.approx(200 / 400)
    assert evaluate([task(1, [poly(square, "A")], [poly(square, "A", 0.9)])], "mAP", 1.0).tasks[0].score == 1.0


def test_iou_reasons_name_weakly_matched_regions_worst_first():
    gt = [rect(10, 10, 20, 20, "A"), rect(60, 60, 20, 20, "A")]
    pred = [rect(15, 10, 20, 20, "A", 0.9), rect(70, 60, 20, 20, "A", 0.8)]  # IoU 0.6 and 1/3
    reasons = evaluate([task(1, gt, pred)], "iou", 0.9).tasks[0].reasons
    assert reasons == ("A at x=60% y=60% 20×20% matched with iou 0.33", "A at x=10% y=10% 20×20% matched with iou 0.60")
    assert evaluate([task(1, gt, pred)], "dice", 0.9).tasks[0].reasons[0] == "A at x=60% y=60% 20×20% matched with dice 0.50"
