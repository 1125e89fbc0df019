"""Read Label Studio exports and pick, per task, the ground truth and the prediction to test.

Accepted inputs: a JSON export (array of tasks), a single task object, JSON lines, or any of
these gzip-compressed; also the legacy ``completions`` key and the ML-backend webhook payload
``{"task": ..., "annotation": ...}``. The line on which each task starts is recorded so that
reports can point at it.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from .errors import InputError, locate

__all__ = ["Annotation", "Task", "load_tasks", "read_task_objects", "select_task"]

_WHITESPACE = " \t\n\r"


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotation or prediction: its result list and what identifies it."""

    id: Any
    result: tuple[dict, ...]
    score: float | None = None
    model_version: str | None = None
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A task as a unit test: where it is, its ground truth and its prediction."""

    id: Any
    index: int
    line: int
    source: str
    ground_truth: Annotation | None
    prediction: Annotation | None
    skip_reason: str | None = None
    no_prediction_reason: str | None = None
    data: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The id people read: the task id, or ``#index`` when the task has none."""
        return str(self.id) if self.id is not None else f"#{self.index}"


def _decode_text(raw: bytes, source: str) -> str:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise InputError(f"{source}: not a readable gzip file: {e}") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{source}: not UTF-8 text (byte {e.start}): export the tasks as JSON") from e


class _LineCounter:
    """Turns increasing character offsets into 1-based line numbers in one pass."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        if offset < self.pos:  # never happens in a forward scan; recount to stay correct
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WHITESPACE:
        i += 1
    return i


def _json_error(source: str, e: json.JSONDecodeError) -> InputError:
    return InputError(f"{source}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")


def _scan(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """Yield (offset, value) for each task-level value: array elements, or top-level objects."""
    decoder = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if i == len(text):
        raise InputError(f"{source}: the file is empty: expected a Label Studio JSON export")
    while i < len(text):
        if text[i] == "[":
            i = _skip_ws(text, i + 1)
            if i < len(text) and text[i] == "]":
                i += 1
            else:
                while True:
                    try:
                        value, end = decoder.raw_decode(text, i)
                    except json.JSONDecodeError as e:
                        raise _json_error(source, e) from e
                    yield i, value
                    i = _skip_ws(text, end)
                    if i < len(text) and text[i] == ",":
                        i = _skip_ws(text, i + 1)
                        continue
                    if i < len(text) and text[i] == "]":
                        i += 1
                        break
                    raise _json_error(source, json.JSONDecodeError("expected ',' or ']' after a task", text, i))
        else:
            try:
                value, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError as e:
                raise _json_error(source, e) from e
            yield i, value
            i = end
        i = _skip_ws(text, i)


def read_task_objects(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line, task_dict)`` for every task in a JSON, JSON-lines or gzip file."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{source}: cannot read the test data: {e.strerror or e}") from e
    text = _decode_text(raw, source)
    lines = _LineCounter(text)
    for index, (offset, value) in enumerate(_scan(text, source)):
        if not isinstance(value, dict):
            raise InputError(
                f"{locate(source, f'#{index}', lines.at(offset))}: expected a task object, got {type(value).__name__}"
            )
        yield lines.at(offset), value


def _as_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: expected a number, got {value!r:.40}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(f"{where}: must be a finite number, got {value}")
    return value


def _flatten_result(result: Any, where: str) -> tuple[dict, ...]:
    if result is None:
        return ()
    if not isinstance(result, list):
        raise InputError(f"{where}: expected a list of results, got {type(result).__name__}")
    items: list[dict] = []
    for item in result:
        # legacy exports nest the result list one level deeper: [[{...}]]
        for r in item if isinstance(item, list) else [item]:
            if not isinstance(r, dict):
                raise InputError(f"{where}: expected result objects, got {type(r).__name__}")
            items.append(r)
    return tuple(items)


def _annotation(obj: dict, where: str) -> Annotation:
    mv = obj.get("model_version")
    return Annotation(
        id=obj.get("id"),
        result=_flatten_result(obj.get("result"), f"{where}.result"),
        score=_as_float(obj.get("score"), f"{where}.score"),
        model_version=None if mv is None else str(mv),
        created_at=obj.get("created_at") if isinstance(obj.get("created_at"), str) else None,
    )


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _newest(items: Sequence[Annotation]) -> Annotation:
    """The newest by ``created_at`` when every item has one; else the last (ties: the later one)."""
    stamps = [_timestamp(a.created_at) for a in items]
    if all(s is not None for s in stamps):
        best = max(range(len(items)), key=lambda i: (stamps[i], i))
        return items[best]
    return items[-1]


def _unwrap(obj: dict) -> dict:
    """Turn the ML-backend webhook payload ``{task, annotation}`` into a plain task."""
    if isinstance(obj.get("task"), dict) and isinstance(obj.get("annotation"), dict) and "annotations" not in obj:
        task = dict(obj["task"])
        task["annotations"] = [obj["annotation"]]
        return task
    return obj


def select_task(obj: dict, index: int, line: int, source: str, model_version: str | None = None) -> Task:
    """Pick the ground truth and the prediction of one task object."""
    obj = _unwrap(obj)
    task_id = obj.get("id")
    where = locate(source, task_id if task_id is not None else f"#{index}", line)
    key = "annotations" if "annotations" in obj else "completions"
    raw_annotations = obj.get(key) or []
    if not isinstance(raw_annotations, list):
        raise InputError(f"{where}: {key} must be a list, got {type(raw_annotations).__name__}")
    annotations = []
    for i, a in enumerate(raw_annotations):
        if not isinstance(a, dict):
            raise InputError(f"{where}: {key}[{i}] must be an object, got {type(a).__name__}")
        if a.get("was_cancelled") or a.get("skipped"):
            continue
        annotations.append((bool(a.get("ground_truth")), _annotation(a, f"{where}: {key}[{i}]")))
    ground_truth = None
    skip_reason = None
    if annotations:
        marked = [a for gt, a in annotations if gt]
        ground_truth = _newest(marked or [a for _, a in annotations])
    else:
        skip_reason = "no usable annotation" if not raw_annotations else "every annotation was cancelled"

    raw_predictions = obj.get("predictions") or []
    if not isinstance(raw_predictions, list):
        raise InputError(f"{where}: predictions must be a list, got {type(raw_predictions).__name__}")
    predictions = [
        _annotation(p, f"{where}: predictions[{i}]") for i, p in enumerate(raw_predictions) if isinstance(p, dict)
    ]
    no_prediction = None
    if model_version is not None:
        predictions = [p for p in predictions if p.model_version == model_version]
    if not predictions:
        if raw_predictions and all(isinstance(p, (int, str)) for p in raw_predictions):
            no_prediction = "no prediction (the export holds prediction ids only)"
        elif model_version is not None and raw_predictions:
            no_prediction = f"no prediction of model version {model_version!r}"
        else:
            no_prediction = "no prediction"
    data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
    return Task(
        id=task_id,
        index=index,
        line=line,
        source=source,
        ground_truth=ground_truth,
        prediction=_newest(predictions) if predictions else None,
        skip_reason=skip_reason,
        no_prediction_reason=no_prediction,
        data=data,
        meta=obj.get("meta") if isinstance(obj.get("meta"), dict) else {},
    )


def load_tasks(
    source: str | os.PathLike | Iterable[dict], *, model_version: str | None = None
) -> list[Task]:
    """Read a test data file (or task dicts already in memory) into tasks with GT and prediction chosen."""
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        objects: Iterable[tuple[int, dict]] = read_task_objects(name)
    else:
        name = "<tasks>"
        items = [source] if isinstance(source, dict) else list(source)
        for i, t in enumerate(items):
            if not isinstance(t, dict):
                raise InputError(f"{name}: task #{i}: expected a task object, got {type(t).__name__}")
        objects = ((0, t) for t in items)
    return [select_task(obj, i, line, name, model_version) for i, (line, obj) in enumerate(objects)]
