"""``assert_prediction``: one task as a plain assertion, for tests that call the model themselves."""

from __future__ import annotations

from typing import Any

from .engine import evaluate
from .errors import InputError
from .explain import explain
from .results import TaskResult

__all__ = ["assert_prediction"]


def _as_prediction(prediction: Any) -> dict:
    """Accept a prediction dict, a converter's one-element list, or a bare list of result items."""
    if isinstance(prediction, dict):
        return prediction
    if isinstance(prediction, list) and len(prediction) == 1 and isinstance(prediction[0], dict) and "result" in prediction[0]:
        return prediction[0]
    if isinstance(prediction, list) and all(isinstance(r, dict) for r in prediction):
        return {"result": prediction}
    raise InputError(f"prediction must be a prediction object, a list holding one, or a list of results; got {type(prediction).__name__}")


def assert_prediction(task: dict, prediction: Any, *, metric: str = "mAP", threshold: float = 0.5, **options: Any) -> TaskResult:
    """Score ``prediction`` against the task's ground truth; raise ``AssertionError`` explaining a failure.

    Parameters
    ----------
    task : dict
        A Label Studio task with its annotations (its own predictions are ignored).
    prediction : dict or list
        A prediction (``{"result": [...]}``), a converter's output, or a list of result items.
    metric, threshold, **options
        As for :func:`ml_test.evaluate` (``iou``, ``controls``, ``labels``, ``image_size``).

    Returns
    -------
    TaskResult
        The verdict, when the task passed.

    Examples
    --------
    >>> gt = {"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["cat"]}}
    >>> task = {"id": 7, "annotations": [{"result": [gt]}]}
    >>> assert_prediction(task, [gt], metric="exact_match", threshold=1.0).score
    1.0
    """
    candidate = dict(task, predictions=[_as_prediction(prediction)])
    report = evaluate([candidate], metric, threshold, **options)
    result = report.tasks[0]
    if result.status == "skipped":
        raise InputError(f"task {result.name}: {result.reasons[0]}: nothing to test the prediction against")
    if result.status == "failed":
        raise AssertionError(explain(result, report.metric, report.comparator))
    return result
