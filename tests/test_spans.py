"""NER spans: strict span F1 cross-checked against seqeval's strict IOB2 mode; overlap matching."""

from __future__ import annotations

import numpy as np
import pytest

seqeval_metrics = pytest.importorskip("seqeval.metrics")
from seqeval.scheme import IOB2  # noqa: E402

from ml_test import evaluate  # noqa: E402

TYPES = ["PER", "ORG", "LOC"]


def span(start, end, label, score=None, rid=None):
    r = {"id": rid or f"s{start}-{end}-{label}", "from_name": "ner", "to_name": "text", "type": "labels",
         "value": {"start": start, "end": end, "labels": [label]}}  # fmt: skip
    if score is not None:
        r["score"] = score
    return r


def generate(seed, n_docs=40):
    """Whitespace-tokenised documents with non-overlapping token-aligned entities on both sides."""
    rng = np.random.default_rng(seed)
    tasks, tags_true, tags_pred = [], [], []
    for tid in range(n_docs):
        words = [f"w{i}x" * int(rng.integers(1, 3)) for i in range(int(rng.integers(5, 25)))]
        offsets, pos = [], 0
        for w in words:
            offsets.append((pos, pos + len(w)))
            pos += len(w) + 1

        def draw(base=None):
            ents, i = [], 0
            while i < len(words):
                if rng.random() < 0.25:
                    n = int(rng.integers(1, 4))
                    ents.append((i, min(i + n, len(words)), TYPES[rng.integers(3)]))
                    i += n + 1
                else:
                    i += 1
            return ents

        gold = draw()
        pred = []
        for a, b, t in gold:
            roll = rng.random()
            if roll < 0.65:
                pred.append((a, b, t))
            elif roll < 0.75:
                pred.append((a, b, TYPES[(TYPES.index(t) + 1) % 3]))
            elif roll < 0.85 and b - a > 1:
                pred.append((a, b - 1, t))
        if rng.random() < 0.3:
            pred.append((len(words) - 1, len(words), "ORG")) if not any(b == len(words) for _, b, _ in pred) else None

        def tags(ents):
            out = ["O"] * len(words)
            for a, b, t in ents:
                out[a] = f"B-{t}"
                for k in range(a + 1, b):
                    out[k] = f"I-{t}"
            return out

        tags_true.append(tags(gold))
        tags_pred.append(tags(pred))
        as_spans = lambda ents, score=None: [span(offsets[a][0], offsets[b - 1][1], t, score) for a, b, t in ents]  # noqa: E731
        tasks.append({"id": tid, "data": {"text": " ".join(words)}, "annotations": [{"result": as_spans(gold)}],
                      "predictions": [{"result": as_spans(pred, 0.9)}]})  # fmt: skip
    return tasks, tags_true, tags_pred


@pytest.mark.parametrize("seed", range(6))
def test_strict_span_micro_prf_equals_seqeval_strict(seed):
    tasks, y_true, y_pred = generate(seed)
    agg = evaluate(tasks, "f1", 0.5).aggregate
    kw = dict(mode="strict", scheme=IOB2, zero_division=0)
    assert agg["precision_micro"] == pytest.approx(seqeval_metrics.precision_score(y_true, y_pred, **kw), abs=1e-12)
    assert agg["recall_micro"] == pytest.approx(seqeval_metrics.recall_score(y_true, y_pred, **kw), abs=1e-12)
    assert agg["f1_micro"] == pytest.approx(seqeval_metrics.f1_score(y_true, y_pred, **kw), abs=1e-12)
    per_type = seqeval_metrics.classification_report(y_true, y_pred, output_dict=True, **kw)
    report = evaluate(tasks, "f1", 0.5)
    for t in TYPES:
        if t in per_type:
            assert report.per_label[t]["f1"] == pytest.approx(per_type[t]["f1-score"], abs=1e-12)


def test_overlap_matching_with_iou_and_reasons():
    gt = [span(0, 10, "PER"), span(20, 30, "ORG")]
    pred = [span(0, 8, "PER", 0.9), span(20, 30, "LOC", 0.8)]
    t = {"id": 1, "annotations": [{"result": gt}], "predictions": [{"result": pred}]}
    strict = evaluate([t], "f1", 0.5)
    assert strict.tasks[0].score == 0.0
    assert "missed PER [0:10]: closest prediction PER [0:8]" in strict.tasks[0].reasons
    assert "ORG [20:30] predicted as LOC (IoU 1.00)" in strict.tasks[0].reasons
    loose = evaluate([t], "f1", 0.5, iou=0.75)
    assert loose.tasks[0].score == pytest.approx(0.5)
    assert evaluate([t], "iou", 0.5).tasks[0].score == pytest.approx(0.8 / 3)


def test_duplicate_prediction_is_a_false_positive():
    t = {"id": 1, "annotations": [{"result": [span(0, 4, "PER")]}],
         "predictions": [{"result": [span(0, 4, "PER", 0.9, "a"), span(0, 4, "PER", 0.8, "b")]}]}  # fmt: skip
    assert evaluate([t], "precision", 0.5).tasks[0].score == 0.5
