"""evaluate() as a whole: several controls per task, options, metric-registry properties."""

from __future__ import annotations

import json
import random

import pytest

from conftest import rect, task
from ml_test import UsageError, engine, evaluate
from ml_test.metrics import REGISTRY


def choice(values, name="sentiment"):
    return {"id": f"c-{name}", "from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}


def span(start, end, label, score=0.9):
    return {"id": f"s{start}", "from_name": "ner", "to_name": "text", "type": "labels", "score": score,
            "value": {"start": start, "end": end, "labels": [label]}}  # fmt: skip


def answer(type_, value, name=None):
    """A per-task answer result (textarea, number, ...)."""
    return {"id": f"a-{name or type_}", "from_name": name or type_, "to_name": "text", "type": type_, "value": value}


def shape(type_, rid, value, label, size=(640, 480)):
    """An image region of a labels type other than rectangles (ellipse, keypoint)."""
    return {"id": rid, "from_name": type_, "to_name": "image", "type": type_, "original_width": size[0],
            "original_height": size[1], "value": {**value, type_: [label]}}  # fmt: skip


def relation(from_id, to_id, direction="right", labels=()):
    """A relation result (no id, no from_name: as Label Studio writes them)."""
    return {"type": "relation", "from_id": from_id, "to_id": to_id, "direction": direction, "labels": list(labels)}


def _answers(rng, wrong):
    """One result per answer control; ``wrong`` perturbs some of them; a control may be left out."""
    text = rng.choice(["the cat sat", "a dog", ""])
    values = {
        "textarea": {"text": [text + (" on the mat" if wrong() else "")]},
        "taxonomy": {"taxonomy": [["Animal", rng.choice(["Cat", "Dog"])]] + ([["Plant"]] if wrong() else [])},
        "number": {"number": rng.choice([1, 2.5, 10]) + (1 if wrong() else 0)},
        "rating": {"rating": rng.randint(1, 5)},
        "datetime": {"datetime": "2024-05-0%dT10:00" % rng.randint(1, 2 if wrong() else 1)},
        "pairwise": {"selected": rng.choice(["left", "right"])},
        "ranker": {"ranker": {"rank": rng.sample(["a", "b", "c", "d"], 4)}},
    }
    return [answer(t, v) for t, v in values.items() if rng.random() < 0.9 and not wrong()]


def video_track(rid, rng):
    """A videorectangle track of a few keyframes, the middle one sometimes disabled."""
    frames = sorted(rng.sample(range(1, 40), 3))
    sequence = [{"frame": f, "time": f / 25, "x": rng.uniform(0, 60), "y": rng.uniform(0, 60), "width": 20, "height": 20,
                 "rotation": 0, "enabled": k != 1 or rng.random() < 0.7} for k, f in enumerate(frames)]  # fmt: skip
    return {"id": rid, "from_name": "video_box", "to_name": "video", "type": "videorectangle",
            "value": {"sequence": sequence, "framesCount": 40, "labels": [rng.choice("AB")]}}


def shifted(track, wrong):
    """A predicted copy of a track, moved 10% to the right when ``wrong`` (IoU 1/3 on every frame)."""
    sequence = [dict(k, x=k["x"] + 10) for k in track["value"]["sequence"]] if wrong else track["value"]["sequence"]
    # a score of its own per track (seeded by the id, so no generator stream moves): per-frame mAP ranks
    # every frame of a track at its track's score, and tied tracks would make it depend on the task order
    return dict(track, score=random.Random(track["id"]).uniform(0.5, 1.0), value=dict(track["value"], sequence=sequence))


def mixed_tasks(seed=0, n=30):
    """Tasks with a control of every scored kind (boxes, ellipses, keypoints, spans, choices, answers), some wrong."""
    rng = random.Random(seed)
    out = []
    for tid in range(1, n + 1):
        gt_boxes = [rect(rng.uniform(0, 60), rng.uniform(0, 60), 20, 20, rng.choice("AB"), rid=f"b{tid}{k}") for k in range(rng.randint(0, 3))]
        pred_boxes = [dict(b, score=round(rng.random(), 1)) for b in gt_boxes if rng.random() < 0.8]
        gt_ellipses = [shape("ellipselabels", f"e{tid}{k}", {"x": rng.uniform(20, 80), "y": rng.uniform(20, 80), "radiusX": 10,
                                                         "radiusY": 5, "rotation": rng.choice([0, 30])}, rng.choice("AB"))
                       for k in range(rng.randint(0, 2))]  # fmt: skip
        gt_points = [shape("keypointlabels", f"k{tid}{k}", {"x": rng.uniform(0, 100), "y": rng.uniform(0, 100)}, rng.choice(["nose", "eye"]))
                     for k in range(rng.randint(0, 3))]  # fmt: skip
        prng = random.Random(seed * 104729 + tid)  # parents for keypoints (oks_mAP) from their own stream too
        gt_points = [dict(p, parentID=prng.choice(gt_boxes)["id"]) if gt_boxes and prng.random() < 0.7 else p for p in gt_points]
        pred_shapes = [dict(r, score=0.9) for r in gt_ellipses + gt_points if rng.random() < 0.8]
        gt_spans = [span(0, 5, "PER"), span(10, 14, "ORG")][: rng.randint(0, 2)]
        pred_spans = [s for s in gt_spans if rng.random() < 0.8]
        label = rng.choice(["pos", "neg"])
        guess = label if rng.random() < 0.8 else ("neg" if label == "pos" else "pos")
        state = rng.getstate()
        gt_answers = _answers(rng, lambda: False)
        rng.setstate(state)
        flip = random.Random(seed * 1000 + tid)  # its own stream, so the prediction draws the same values
        pred_answers = _answers(rng, lambda: flip.random() < 0.15)
        shapes = [r["id"] for r in gt_boxes + gt_ellipses + gt_points]
        gt_relations = [relation(a, b, rng.choice(["right", "bi"]), rng.choice([[], ["near"]])) for a, b in zip(shapes, shapes[1:])]
        pred_relations = [dict(r, direction="left") if flip.random() < 0.2 else r for r in gt_relations]
        vrng = random.Random(seed * 7919 + tid)  # video tracks draw from their own stream: the other controls stay as they were
        gt_tracks = [video_track(f"v{tid}{k}", vrng) for k in range(vrng.randint(0, 2))]
        pred_tracks = [shifted(t, vrng.random() < 0.3) for t in gt_tracks if vrng.random() < 0.8]
        out.append(task(tid, gt_boxes + gt_ellipses + gt_points + gt_spans + [choice([label])] + gt_answers + gt_relations + gt_tracks,
                        pred_boxes + pred_shapes + pred_spans + [choice([guess])] + pred_answers + pred_relations + pred_tracks))  # fmt: skip
    return out


def test_a_task_scores_its_lowest_control_and_keeps_each():
    t = task(1, [rect(10, 10, 20, 20, "A"), choice(["pos"]), span(0, 5, "PER")],
             [rect(10, 10, 20, 20, "A", 0.9), choice(["neg"]), span(0, 5, "PER")])  # fmt: skip
    report = evaluate([t], "f1", 0.5)
    result = report.tasks[0]
    assert {c.control: c.score for c in result.controls} == {"label": 1.0, "sentiment": 0.0, "ner": 1.0}
    assert result.score == 0.0 and result.reasons == ("sentiment: expected pos, got neg",)
    assert set(report.controls) == {"label", "sentiment", "ner"}
    assert report.aggregate["f1_micro"] == pytest.approx((1.0 + 0.0 + 1.0) / 3)
    narrowed = evaluate([t], "f1", 0.5, controls=["label", "ner"])
    assert narrowed.passed == 1 and narrowed.controls.keys() == {"label", "ner"}


@pytest.mark.parametrize("metric", sorted(REGISTRY))
def test_task_order_does_not_change_scores_and_ground_truth_is_perfect(metric):
    tasks = mixed_tasks(3)
    report = evaluate(tasks, metric, 0.5)
    shuffled = tasks[:]
    random.Random(1).shuffle(shuffled)
    again = evaluate(shuffled, metric, 0.5)
    assert {t.id: t.score for t in report.tasks} == {t.id: t.score for t in again.tasks}
    for k, v in report.aggregate.items():
        assert again.aggregate[k] == (None if v is None else pytest.approx(v, abs=1e-12)), k
    assert report.failed > 0  # the generated errors show on every metric
    perfect = [dict(t, predictions=[{"result": [dict(r, score=0.5) for r in t["annotations"][0]["result"]]}]) for t in tasks]
    best = REGISTRY[metric].best
    assert all(t.score == best for t in evaluate(perfect, metric, best).tasks)


@pytest.mark.parametrize("metric", sorted(REGISTRY))
def test_chunked_runs_equal_a_serial_run(metric, monkeypatch):
    tasks = mixed_tasks(5)
    serial = evaluate(tasks, metric, 0.5)
    monkeypatch.setattr(engine, "CHUNK_SIZE", 7)
    chunked = evaluate(tasks, metric, 0.5)
    assert chunked.tasks == serial.tasks
    assert chunked.aggregate == serial.aggregate and chunked.per_label == serial.per_label


def test_labels_and_model_version_options():
    t = task(1, [rect(10, 10, 20, 20, "A"), rect(50, 50, 20, 20, "B")], [rect(10, 10, 20, 20, "A", 0.9)])
    assert evaluate([t], "recall", 1.0).failed == 1
    assert evaluate([t], "recall", 1.0, labels=["A"]).passed == 1
    t["predictions"].append({"model_version": "v2", "result": [rect(10, 10, 20, 20, "A", 0.9), rect(50, 50, 20, 20, "B", 0.9)]})
    assert evaluate([t], "recall", 1.0, model_version="v2").passed == 1
    missing = evaluate([t], "recall", 1.0, model_version="v9").tasks[0]
    assert missing.status == "failed" and missing.reasons[0] == "no prediction of model version 'v9'"


def test_skipped_tasks_are_counted_not_failed_and_report_round_trips():
    tasks = mixed_tasks(1, n=5) + [{"id": 99, "data": {}, "annotations": [{"result": [], "was_cancelled": True}]}]
    report = evaluate(tasks, "exact_match", 1.0)
    assert report.skipped == 1 and report.total == 6 and report.tasks[-1].status == "skipped"
    assert report.pass_rate == report.passed / 5
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["counts"] == {"total": 6, "passed": report.passed, "failed": report.failed, "skipped": 1, "pass_rate": report.pass_rate}
    assert type(report).from_dict(data) == report


def test_metric_names_are_case_insensitive_and_threshold_is_checked():
    t = task(1, [rect(10, 10, 20, 20, "A")], [rect(10, 10, 20, 20, "A", 0.9)])
    assert evaluate([t], "map50", 0.5).metric == "mAP50"
    with pytest.raises(UsageError, match="threshold must be in"):
        evaluate([t], "mAP", -0.1)
    with pytest.raises(UsageError, match="metrics for this data: mAP, mAP50, mAP75, precision, recall, f1, iou, dice"):
        evaluate([t], "jaccard", 0.5)


def test_every_metric_declares_its_properties():
    for spec in REGISTRY.values():
        assert spec.kinds and spec.headline and spec.summary and spec.empty_cases
        worse = 0.0 if spec.higher_is_better else 1.0
        assert spec.passes(spec.best, spec.best) and spec.passes(spec.best, 0.5) and not spec.passes(worse, 0.5)
        # rates and similarities take thresholds in [0, 1]; error tolerances any value >= 0
        assert spec.threshold_max == (1.0 if spec.higher_is_better else None), spec.name
