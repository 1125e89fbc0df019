"""Per-frame box mAP of video tracks: hand-built cases, and the 12 statistics against pycocotools on expanded frames."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from conftest import task
from ml_test import engine, evaluate
from ml_test.geometry.shapes import box_xywh_px
from ml_test.geometry.video import parse_track
from ml_test.metrics.coco import STAT_NAMES

pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

SIZE = (320, 240)


def track(rid, keyframes, label="car", frames_count=10, score=None, size=SIZE):
    """A videorectangle result; keyframes are (frame, x, y, w, h[, enabled[, rotation]])."""
    seq = [{"frame": k[0], "x": k[1], "y": k[2], "width": k[3], "height": k[4], "enabled": k[5] if len(k) > 5 else True,
            "rotation": k[6] if len(k) > 6 else 0, "time": k[0] / 25} for k in keyframes]  # fmt: skip
    r = {"id": rid, "from_name": "box", "to_name": "video", "type": "videorectangle",
         "value": {"sequence": seq, "framesCount": frames_count, "labels": [label]}}  # fmt: skip
    if size:
        r["original_width"], r["original_height"] = size
    if score is not None:
        r["score"] = score
    return r


def test_hand_built_track_that_stops_halfway_scores_half_the_recall_points():
    gt = track("g", [(1, 10, 10, 20, 20)], frames_count=4)  # frames 1-4
    pred = track("p", [(1, 10, 10, 20, 20), (2, 10, 10, 20, 20, False)], frames_count=4, score=0.8)  # frames 1-2
    report = evaluate([task(1, [gt], [pred])], "mAP", 0.5)
    # 2 of 4 frame boxes found at precision 1: recall points 0.00..0.50 reach, i.e. 51 of 101, at every IoU
    assert report.tasks[0].score == pytest.approx(51 / 101, abs=1e-15)
    assert report.aggregate["AR100"] == pytest.approx(0.5)
    assert evaluate([task(1, [gt], [pred])], "mAP50", 0.5).tasks[0].score == pytest.approx(51 / 101, abs=1e-15)


def test_shifted_frames_count_at_their_own_iou():
    gt = track("g", [(1, 0, 0, 20, 20)], frames_count=2)
    pred = track("p", [(1, 5, 0, 20, 20)], frames_count=2, score=0.8)  # IoU 15*20 / (25*20) = 0.6 on both frames
    assert evaluate([task(1, [gt], [pred])], "mAP50", 0.5).tasks[0].score == 1.0
    assert evaluate([task(1, [gt], [pred])], "mAP75", 0.5).tasks[0].score == 0.0
    # thresholds .50, .55, .60 of ten (0.6 == .60 up to rounding: pycocotools' arithmetic decides)
    assert evaluate([task(1, [gt], [pred])], "mAP", 0.5).tasks[0].score in (pytest.approx(0.2), pytest.approx(0.3))


def test_ground_truth_against_itself_is_one_with_rotation_and_disabled_keyframes():
    tracks = [
        track("a", [(1, 10, 10, 20, 20), (5, 30, 20, 25, 15, False), (8, 40, 40, 10, 10)], frames_count=12),
        track("b", [(2, 50, 50, 20, 10, True, 30), (6, 55, 45, 20, 10, True, 45)], label="person", frames_count=12),
    ]
    t = task(1, tracks, [dict(r, score=0.7) for r in tracks])
    for metric in ("mAP", "mAP50", "mAP75"):
        report = evaluate([t], metric, 1.0)
        assert report.tasks[0].score == 1.0 and report.passed == 1


def test_empty_sides():
    gt = track("g", [(1, 10, 10, 20, 20)], frames_count=3)
    assert evaluate([task(1, [gt], [])], "mAP", 0.5).tasks[0].score == 0.0
    extra = track("p", [(1, 10, 10, 20, 20)], frames_count=3, score=0.5)
    other = track("q", [(1, 60, 60, 20, 20)], label="person", frames_count=3)
    # the predicted label absent from the ground truth scores 0, the other label 1: mean 0.5
    assert evaluate([task(1, [other], [extra, dict(other, score=0.9)])], "mAP", 0.5).tasks[0].score == 0.5


def generate(seed, n_tasks=12):
    """Tasks of random tracks; predictions jitter, drop, cut short or add tracks, each track with its own score."""
    rng = np.random.default_rng(seed)
    tasks = []
    for tid in range(1, n_tasks + 1):
        n_frames = int(rng.integers(5, 30))
        size = (int(rng.integers(100, 2000)), int(rng.integers(100, 1500)))
        gt, pred = [], []
        for k in range(int(rng.integers(0, 4))):
            frames = sorted(rng.choice(np.arange(1, n_frames + 1), size=int(rng.integers(1, 4)), replace=False).tolist())
            label = ["car", "person"][int(rng.integers(2))]
            kfs = []
            for f in frames:
                w, h = rng.uniform(2, 40, 2)
                kfs.append((f, float(rng.uniform(0, 100 - w)), float(rng.uniform(0, 100 - h)), float(w), float(h), bool(rng.random() < 0.8)))
            gt.append(track(f"g{tid}-{k}", kfs, label, n_frames, size=size))
            if rng.random() < 0.85:
                jitter = [(f, x + rng.normal(0, 1), y + rng.normal(0, 1), w, h, on) for f, x, y, w, h, on in kfs]
                if rng.random() < 0.3:
                    jitter = jitter[:-1] + [(*jitter[-1][:5], False)]  # the prediction ends early
                pred.append(track(f"p{tid}-{k}", jitter, label, n_frames, score=float(rng.uniform(0.05, 1)), size=size))
        for k in range(int(rng.integers(0, 2))):
            f = int(rng.integers(1, n_frames + 1))
            pred.append(track(f"x{tid}-{k}", [(f, 30, 30, 20, 20)], "car", n_frames, score=float(rng.uniform(0, 0.5)), size=size))
        tasks.append(task(tid, gt, pred))
    return tasks


def pycocotools_stats(tasks):
    """pycocotools on the expanded per-frame boxes, one image per (task, frame) in task then frame order."""
    cat = {"car": 1, "person": 2}
    frames_of: dict[tuple[int, int], int] = {}
    per_task = []
    for t in tasks:
        rows = []
        for side, results in (("gt", t["annotations"][0]["result"]), ("dt", t["predictions"][0]["result"])):
            for r in results:
                tr = parse_track(r["value"], "")
                px = box_xywh_px(tr.boxes, r["original_width"], r["original_height"])
                rows += [(side, int(f), r, b) for f, b in zip(tr.frames, px)]
        per_task.append(rows)
    images, anns, dets = [], [], []
    for i, rows in enumerate(per_task):
        for f in sorted({f for _, f, _, _ in rows}):
            frames_of[(i, f)] = len(frames_of) + 1
            images.append({"id": frames_of[(i, f)]})
        for side, f, r, b in rows:
            a = {"image_id": frames_of[(i, f)], "category_id": cat[r["value"]["labels"][0]], "bbox": list(map(float, b))}
            if side == "gt":
                anns.append({**a, "id": len(anns) + 1, "area": float(b[2] * b[3]), "iscrowd": 0})
            else:
                dets.append({**a, "score": r["score"]})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c} for c in cat.values()]}
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {name: (None if v == -1 else float(v)) for name, v in zip(STAT_NAMES, ev.stats)}


@pytest.mark.parametrize("seed", range(4))
def test_dataset_stats_equal_pycocotools_on_expanded_frames(seed):
    tasks = generate(seed)
    report = evaluate(tasks, "mAP", 0.5)
    assert report.aggregate == pycocotools_stats(tasks)


def test_task_score_is_its_frames_as_a_small_dataset():
    tasks = generate(7, n_tasks=30)
    report = evaluate(tasks, "mAP", 0.5)
    checked = 0
    for t, result in zip(tasks, report.tasks):
        labels = {r["value"]["labels"][0] for a in (t["annotations"][0], t["predictions"][0]) for r in a["result"]}
        gt_labels = {r["value"]["labels"][0] for r in t["annotations"][0]["result"]}
        if len(labels) != 1 or gt_labels != labels or not t["predictions"][0]["result"]:
            continue  # one label with ground truth: pycocotools' mAP of the task's frames is the task's AP
        # up to pycocotools' eps in tp / (tp + fp + eps)
        assert result.score == pytest.approx(pycocotools_stats([t])["mAP"], abs=1e-12)
        checked += 1
    assert checked >= 3


def test_chunked_run_equals_serial_run(monkeypatch):
    tasks = generate(3, n_tasks=20)
    serial = evaluate(tasks, "mAP", 0.5)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 7)
    chunked = evaluate(tasks, "mAP", 0.5)
    assert chunked.aggregate == serial.aggregate and chunked.tasks == serial.tasks
