"""Choices metrics cross-checked against scikit-learn on generated multilabel tasks."""

from __future__ import annotations

import numpy as np
import pytest

sklearn_metrics = pytest.importorskip("sklearn.metrics")

from ml_test import evaluate  # noqa: E402

LABELS = ["cat", "dog", "bird", "fish", "none"]


def choice(values, score=None):
    r = {"id": "c", "from_name": "animal", "to_name": "image", "type": "choices", "value": {"choices": list(values)}}
    if score is not None:
        r["score"] = score
    return r


def generate(seed, n=60):
    rng = np.random.default_rng(seed)
    tasks = []
    for tid in range(n):
        gt = [k for k in LABELS if rng.random() < 0.3]
        pred = [k for k in LABELS if (k in gt) != (rng.random() < 0.15)]
        tasks.append({"id": tid, "annotations": [{"result": [choice(gt)] if gt or rng.random() < 0.5 else []}],
                      "predictions": [{"result": [choice(pred, 0.8)]}]})  # fmt: skip
    return tasks


def indicators(tasks, side):
    rows = []
    for t in tasks:
        result = t["annotations"][0]["result"] if side == "gt" else t["predictions"][0]["result"]
        chosen = {v for r in result for v in r["value"]["choices"]}
        rows.append([k in chosen for k in LABELS])
    return np.array(rows, dtype=int)


@pytest.mark.parametrize("seed", range(6))
def test_micro_macro_equal_sklearn_and_accuracy_equals_subset_accuracy(seed):
    tasks = generate(seed)
    y_true, y_pred = indicators(tasks, "gt"), indicators(tasks, "pred")
    seen = (y_true | y_pred).any(axis=0)  # our labels are those seen on either side
    y_true, y_pred = y_true[:, seen], y_pred[:, seen]
    agg = evaluate(tasks, "f1", 0.5).aggregate
    for average in ("micro", "macro"):
        p, r, f, _ = sklearn_metrics.precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
        assert agg[f"precision_{average}"] == pytest.approx(p, abs=1e-15)
        assert agg[f"recall_{average}"] == pytest.approx(r, abs=1e-15)
        assert agg[f"f1_{average}"] == pytest.approx(f, abs=1e-15)
    acc = evaluate(tasks, "exact_match", 1.0)
    assert acc.aggregate["accuracy"] == pytest.approx(sklearn_metrics.accuracy_score(y_true, y_pred), abs=1e-15)
    assert acc.failed == sum(not np.array_equal(a, b) for a, b in zip(y_true, y_pred))


def test_per_task_set_scores_and_reason():
    t = {"id": 1, "annotations": [{"result": [choice(["cat", "dog"])]}], "predictions": [{"result": [choice(["dog", "fish"])]}]}
    assert evaluate([t], "f1", 0.5).tasks[0].score == pytest.approx(0.5)
    assert evaluate([t], "precision", 0.5).tasks[0].score == pytest.approx(0.5)
    result = evaluate([t], "accuracy", 0.5).tasks[0]
    assert result.score == 0.0 and result.reasons == ("expected cat, dog, got dog, fish",)
    same_order_free = {"id": 2, "annotations": [{"result": [choice(["b", "a"])]}], "predictions": [{"result": [choice(["a", "b", "a"])]}]}
    assert evaluate([same_order_free], "exact_match", 1.0).passed == 1


def test_labels_filter_narrows_the_choices():
    t = {"id": 1, "annotations": [{"result": [choice(["cat", "dog"])]}], "predictions": [{"result": [choice(["cat", "fish"])]}]}
    assert evaluate([t], "exact_match", 1.0, labels=["cat"]).passed == 1
    assert evaluate([t], "exact_match", 1.0, labels=["cat", "dog"]).failed == 1
