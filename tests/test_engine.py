"""evaluate() as a whole: several controls per task, options, metric-registry properties."""

from __future__ import annotations

import json
import random

import pytest

from conftest import rect, task
from ml_test import UsageError, evaluate
from ml_test.metrics import REGISTRY


def choice(values, name="sentiment"):
    return {"id": f"c-{name}", "from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}


def span(start, end, label, score=0.9):
    return {"id": f"s{start}", "from_name": "ner", "to_name": "text", "type": "labels", "score": score,
            "value": {"start": start, "end": end, "labels": [label]}}  # fmt: skip


def mixed_tasks(seed=0, n=30):
    """Tasks with a box control, a choices control and a span control, some wrong on each."""
    rng = random.Random(seed)
    out = []
    for tid in range(1, n + 1):
        gt_boxes = [rect(rng.uniform(0, 60), rng.uniform(0, 60), 20, 20, rng.choice("AB"), rid=f"b{tid}{k}") for k in range(rng.randint(0, 3))]
        pred_boxes = [dict(b, score=round(rng.random(), 1)) for b in gt_boxes if rng.random() < 0.8]
        gt_spans = [span(0, 5, "PER"), span(10, 14, "ORG")][: rng.randint(0, 2)]
        pred_spans = [s for s in gt_spans if rng.random() < 0.8]
        label = rng.choice(["pos", "neg"])
        guess = label if rng.random() < 0.8 else ("neg" if label == "pos" else "pos")
        out.append(task(tid, gt_boxes + gt_spans + [choice([label])], pred_boxes + pred_spans + [choice([guess])]))
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
        assert again.aggregate[k] == pytest.approx(v, abs=1e-12), k
    perfect = [dict(t, predictions=[{"result": [dict(r, score=0.5) for r in t["annotations"][0]["result"]]}]) for t in tasks]
    assert all(t.score == 1.0 for t in evaluate(perfect, metric, 1.0).tasks)


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
    with pytest.raises(UsageError, match="metrics for this data: mAP, mAP50, mAP75, precision, recall, f1, iou"):
        evaluate([t], "dice", 0.5)


def test_every_metric_declares_its_properties():
    for spec in REGISTRY.values():
        assert spec.kinds and spec.headline and spec.summary and spec.empty_cases
        assert spec.passes(1.0, 1.0) and not spec.passes(0.0, 0.5)
