"""Real Label Studio exports (../shared/corpus): read them all, and score each ground truth against itself."""

from __future__ import annotations

import copy
import json

from ml_test import MLTestError, evaluate, load_tasks
from ml_test.metrics import REGISTRY


def corpus_files(corpus):
    return sorted(p for p in corpus.rglob("*.json") if "LICENSES" not in p.parts)


def test_every_corpus_file_is_read_or_refused_cleanly(corpus):
    files = corpus_files(corpus)
    assert len(files) >= 30
    read = 0
    for path in files:
        tasks = load_tasks(path)
        read += bool(tasks)
        for t in tasks:
            assert t.line >= 1
    assert read == len(files)


def _self_tested(path):
    """The file's tasks with each ground truth also given as the prediction (scores added)."""
    data = json.loads(path.read_text())
    items = data if isinstance(data, list) else [data]
    out = []
    for t in items:
        for key in ("annotations", "completions"):
            if isinstance(t, dict) and t.get(key):
                live = [a for a in t[key] if not a.get("was_cancelled")]
                if live:
                    t = dict(t, predictions=[{"result": copy.deepcopy(live[-1]["result"]), "score": 0.9}])
                    t[key] = [live[-1]]
        if isinstance(t, dict) and isinstance(t.get("annotation"), dict) and isinstance(t.get("task"), dict):
            # the ML-backend webhook payload {annotation, task, project}: a task without predictions
            ann = t["annotation"]
            t = dict(t["task"], annotations=[ann], predictions=[{"result": copy.deepcopy(ann["result"]), "score": 0.9}])
        out.append(t)
    return out


def test_ground_truth_scored_against_itself_passes_every_applicable_metric(corpus):
    scored = 0
    for path in corpus_files(corpus):
        tasks = _self_tested(path)
        for spec in REGISTRY.values():
            try:
                report = evaluate(tasks, spec.name, 1.0, image_size="1000x1000")
            except MLTestError as e:
                assert "applies to no control" in str(e) or "no control" in str(e), (path, spec.name, e)
                continue
            scored += 1
            for t in report.failing():
                # COCO AP counts 100 detections per label and task: a task with more objects cannot be perfect
                assert spec.name.startswith("mAP"), (path.relative_to(corpus), spec.name, t.reasons[:2])
                assert all("beyond COCO's 100 detections" in r or r.startswith("...") for r in t.reasons), t.reasons[:3]
    assert scored >= 40
