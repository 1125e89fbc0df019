"""Reading exports: formats, line numbers, ground truth and prediction choice, clear errors."""

from __future__ import annotations

import gzip
import json

import pytest

from ml_test.errors import InputError
from ml_test.tasks import load_tasks


def _ann(result=(), **kw):
    return {"result": list(result), **kw}


def _task(tid, annotations=(), predictions=()):
    return {"id": tid, "data": {}, "annotations": list(annotations), "predictions": list(predictions)}


def test_json_array_records_the_line_each_task_starts_on(tmp_path):
    tasks = [_task(1, [_ann()]), _task(2, [_ann()]), _task(3, [_ann()])]
    path = tmp_path / "tasks.json"
    text = json.dumps(tasks, indent=2)
    path.write_text(text)
    loaded = load_tasks(path)
    assert [t.id for t in loaded] == [1, 2, 3]
    lines = text.splitlines()
    for t in loaded:
        # the line holds the task's opening brace and the next line its first key
        assert lines[t.line - 1].strip() == "{"
        assert f'"id": {t.id}' in lines[t.line]


def test_single_object_jsonl_and_gzip_are_read_alike(tmp_path):
    tasks = [_task(i, [_ann()]) for i in range(1, 4)]
    (tmp_path / "one.json").write_text(json.dumps(tasks[0]))
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(t) for t in tasks) + "\n")
    (tmp_path / "t.json.gz").write_bytes(gzip.compress(json.dumps(tasks).encode()))
    (tmp_path / "t.jsonl.gz").write_bytes(gzip.compress("\n".join(json.dumps(t) for t in tasks).encode()))
    assert [t.id for t in load_tasks(tmp_path / "one.json")] == [1]
    jsonl = load_tasks(tmp_path / "t.jsonl")
    assert [t.id for t in jsonl] == [1, 2, 3] and [t.line for t in jsonl] == [1, 2, 3]
    assert [t.id for t in load_tasks(tmp_path / "t.json.gz")] == [1, 2, 3]
    assert [t.line for t in load_tasks(tmp_path / "t.jsonl.gz")] == [1, 2, 3]


def test_ground_truth_prefers_marked_then_newest_and_drops_cancelled():
    older = _ann([{"id": "a"}], id=1, created_at="2026-01-01T00:00:00Z")
    newer = _ann([{"id": "b"}], id=2, created_at="2026-02-01T00:00:00Z")
    cancelled = _ann([{"id": "c"}], id=3, created_at="2026-03-01T00:00:00Z", was_cancelled=True)
    marked = _ann([{"id": "d"}], id=4, created_at="2025-01-01T00:00:00Z", ground_truth=True)
    pick = lambda *anns: load_tasks([_task(1, anns)])[0].ground_truth.id  # noqa: E731
    assert pick(older, newer, cancelled) == 2
    assert pick(newer, older) == 2
    assert pick(older, marked, newer) == 4
    no_dates = [_ann(id=5), _ann(id=6)]
    assert pick(*no_dates) == 6
    only_cancelled = load_tasks([_task(1, [cancelled])])[0]
    assert only_cancelled.ground_truth is None and "cancelled" in only_cancelled.skip_reason


def test_prediction_by_model_version_else_newest():
    p1 = {"id": 1, "model_version": "v1", "result": [], "created_at": "2026-05-01T00:00:00Z"}
    p2 = {"id": 2, "model_version": "v2", "result": [], "created_at": "2026-04-01T00:00:00Z"}
    t = _task(1, [_ann()], [p1, p2])
    assert load_tasks([t])[0].prediction.id == 1
    assert load_tasks([t], model_version="v2")[0].prediction.id == 2
    missing = load_tasks([t], model_version="v3")[0]
    assert missing.prediction is None and "v3" in missing.no_prediction_reason
    ids_only = load_tasks([_task(1, [_ann()], [155])])[0]
    assert ids_only.prediction is None and "ids only" in ids_only.no_prediction_reason


def test_legacy_completions_and_nested_result_lists():
    legacy = {"id": 9, "completions": [{"result": [[{"id": "x", "type": "choices", "value": {"choices": ["A"]}}]]}]}
    t = load_tasks([legacy])[0]
    assert t.ground_truth is not None and t.ground_truth.result[0]["id"] == "x"


def test_webhook_payload_is_unwrapped():
    payload = {"task": {"id": 5, "data": {}}, "annotation": _ann([{"id": "r"}]), "project": {}}
    t = load_tasks([payload])[0]
    assert t.id == 5 and t.ground_truth.result[0]["id"] == "r"


def test_invalid_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"id": 1, "annotations": []},\n  {"id": 2, "annotations": [}\n]')
    with pytest.raises(InputError, match=r"bad\.json: invalid JSON at line 3 column 29"):
        load_tasks(path)


def test_wrong_structure_names_task_and_field(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"id": 7, "annotations": {"result": []}}]))
    with pytest.raises(InputError, match=r"t\.json: task 7 \(line 1\): annotations must be a list"):
        load_tasks(path)
    path.write_text(json.dumps([[1, 2]]))
    with pytest.raises(InputError, match=r"task #0 \(line 1\): expected a task object, got list"):
        load_tasks(path)
    with pytest.raises(InputError, match="cannot read"):
        load_tasks(tmp_path / "missing.json")
    path.write_text("   ")
    with pytest.raises(InputError, match="empty"):
        load_tasks(path)


def test_non_finite_prediction_score_is_an_error():
    t = _task(3, [_ann()], [{"result": [], "score": float("nan")}])
    with pytest.raises(InputError, match=r"task 3.*predictions\[0\]\.score: must be a finite number"):
        load_tasks([t])
