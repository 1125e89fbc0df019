"""``evaluate_evalme``: score every task with label-studio-evalme's semantics and return a ``Report``.

The per-task score is evalme's ``Metrics.apply(project, prediction.result, annotation.result,
symmetric=True)`` as ``Matcher.matching_score`` calls it; the dataset value is the mean of the
task scores (``Matcher.get_score_per_task`` averaged, as ``get_iou_score`` does). One difference
from ``Matcher``: it averages over *every* annotation × prediction pair of a task, while we
score the one ground truth and the one prediction that :func:`ml_test.tasks.load_tasks` picks,
as the rest of ml_test does.
"""

from __future__ import annotations

import math
import os
from typing import Iterable, Mapping, Sequence

from ..errors import InputError, UsageError, locate
from ..report.format import score_text
from ..results import ControlScore, Report, TaskResult
from ..tasks import Task, load_tasks
from ._values import RegionError
from .evalme import EVALME_METRICS, EvalmeMetric, get_evalme_metric
from .evalme_apply import combine, score_controls

__all__ = ["evaluate_evalme"]

Weights = Mapping[str, Mapping] | None  # a project's control_weights: {control: {"overall": w, "labels": {...}}}


def _check_unit(name: str, value: float | None, *, allow_none: bool) -> float | None:
    if value is None and allow_none:
        return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise UsageError(f"{name} must be a number in [0, 1], got {value!r}")
    return v


def _metric(name: str) -> EvalmeMetric:
    m = get_evalme_metric(name)
    if m is None:
        raise UsageError(f"unknown evalme metric {str(name)!r}; evalme metrics: {', '.join(EVALME_METRICS)}")
    return m


def _weights(task: Task, weights: Weights, controls: frozenset[str] | None) -> Weights:
    """The project's control weights, with ``overall: 0`` for every control not chosen (evalme's way to drop one)."""
    if controls is None:
        return weights
    out = {str(k): v for k, v in (weights or {}).items()}
    for side in (task.ground_truth, task.prediction):
        for r in side.result if side else ():
            name = str(r.get("from_name"))
            if "from_name" in r and name not in controls:
                out[name] = {**out.get(name, {}), "overall": 0}
    return out


def _score_task(
    task: Task, m: EvalmeMetric, threshold: float, iou: float | None, controls: frozenset[str] | None, weights: Weights
) -> tuple[TaskResult, dict[str, float]]:
    """The task's verdict and its evalme per-label scores (``Metrics.apply(..., per_label=True)``)."""
    assert task.ground_truth is not None
    if task.prediction is None:
        # Matcher.matching_score has no pair to score and returns None
        reason = task.no_prediction_reason or "no prediction"
        return TaskResult(task.id, task.index, task.line, "failed", None, threshold, (reason,)), {}
    pred, gt = list(task.prediction.result), list(task.ground_truth.result)
    both_empty = not pred and not gt
    kwargs = dict(iou_threshold=iou, control_weights=_weights(task, weights, controls))
    try:
        # evalme's Matcher calls Metrics.apply(project, prediction, annotation): prediction first
        scored = [] if both_empty else score_controls(pred, gt, m, **kwargs)
        labelled = [] if both_empty else score_controls(pred, gt, m, per_label=True, **kwargs)
    except RegionError as e:
        side = "prediction" if _fails(pred, m, kwargs) else "ground truth"
        raise InputError(f"{locate(task.source, task.name, task.line)}: {side}: {e}") from e
    # Metrics.apply: both empty scores 1.0 whatever the metric, before any control is looked at
    score = 1.0 if both_empty else float(combine(scored))  # type: ignore[arg-type]
    per_label = {} if both_empty else combine(labelled, per_label=True)
    assert isinstance(per_label, dict)
    cscores = tuple(
        ControlScore(c.control, c.type, float(c.score), per_label=dict(lc.score or {}))  # type: ignore[arg-type]
        for c, lc in zip(scored, labelled)
        if c.score is not None
    )
    reasons: list[str] = []
    passed = score >= threshold
    if not passed:
        if not cscores:
            reasons.append(f"no {m.tag} control scored in this task: evalme {m.name} scores 0")
        reasons.append(f"evalme {m.name} {score_text(score, threshold)} < {threshold:g}")
    status = "passed" if passed else "failed"
    verdict = TaskResult(task.id, task.index, task.line, status, score, threshold, tuple(reasons), cscores)
    return verdict, per_label


def _fails(results: list[dict], m: EvalmeMetric, kwargs: dict) -> bool:
    """True when scoring ``results`` against themselves raises: tells which side holds the bad value."""
    try:
        score_controls(results, results, m, **kwargs)
    except RegionError:
        return True
    return False


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def evaluate_evalme(
    source: str | os.PathLike | Iterable[dict] | list[Task],
    metric: str,
    threshold: float,
    *,
    iou: float | None = None,
    controls: Sequence[str] | None = None,
    model_version: str | None = None,
    control_weights: Mapping[str, Mapping] | None = None,
) -> Report:
    """Score each task with label-studio-evalme's semantics for ``metric``; a task passes when ``score >= threshold``.

    Parameters
    ----------
    source : path, iterable of task dicts, or list of Task
        A Label Studio export, read by :func:`ml_test.load_tasks`, or tasks it already read.
    metric : str
        An evalme metric name, case-insensitive: ``iou_bboxes``, ``iou_polygons``,
        ``precision_bboxes``, ``recall_bboxes``, ``f1_bboxes`` (and the ``_polygons`` variants),
        ``mAP_bboxes``, ``naive``, ``exact_matching_choices``, ``intersection_text_tagging``,
        ``match_textareas``.
    threshold : float
        In [0, 1].
    iou : float, optional
        evalme's ``iou_threshold``, only for the metrics that take one (P/R/F1, ``mAP_bboxes``,
        ``intersection_text_tagging``); each keeps evalme's default when None. 0 is dropped, as
        evalme drops it, with a warning in the report.
    controls : sequence of str, optional
        Score only these controls (``from_name``): the others get ``overall: 0`` weights, as in
        evalme, so a task whose chosen controls are absent on both sides scores 0.
    model_version : str, optional
        Test the prediction of this model version.
    control_weights : mapping, optional
        A project's ``control_weights``: ``{control: {"overall": w, "labels": {label: w}}}``.

    Returns
    -------
    Report
        ``aggregate[metric]`` is the mean task score; ``per_label`` each label's mean of evalme's
        per-label task scores; tasks without ground truth are skipped, tasks without a
        prediction fail with no score.

    Raises
    ------
    UsageError
        Unknown metric (the message lists the evalme metrics), threshold or iou outside [0, 1],
        ``iou`` with a metric that takes none, or an unknown control.
    InputError
        An unreadable file, or a result value evalme cannot score (names task, side, result, field).

    Notes
    -----
    ``docs/evalme.md`` lists where these semantics differ from ml_test's default metrics.
    """
    m = _metric(metric)
    threshold_v = _check_unit("threshold", threshold, allow_none=False)
    assert threshold_v is not None
    iou_v = _check_unit("iou", iou, allow_none=True)
    if iou_v is not None and not m.takes_iou:
        takes = ", ".join(k for k, v in EVALME_METRICS.items() if v.takes_iou)
        raise UsageError(
            f"evalme metric {m.name} takes no iou threshold (evalme would raise TypeError); metrics that do: {takes}"
        )
    warnings = []
    if iou_v == 0.0:
        warnings.append(
            "iou 0 has no effect: evalme passes iou_threshold only when it is non-zero, so the metric's default applies"
        )
    if control_weights is not None and not isinstance(control_weights, Mapping):
        got = type(control_weights).__name__
        raise UsageError(f"control_weights must be a mapping of control name to weights, got {got}")

    if isinstance(source, list) and source and all(isinstance(t, Task) for t in source):
        tasks, name = source, source[0].source  # already loaded (and model version chosen), as evaluate() accepts
    else:
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<tasks>"
        tasks = load_tasks(source, model_version=model_version)
    chosen = frozenset(str(c) for c in controls) if controls else None
    if chosen is not None:
        present = {
            str(r["from_name"]) for t in tasks for a in (t.ground_truth, t.prediction) if a for r in a.result if "from_name" in r
        }
        unknown = ", ".join(map(repr, sorted(chosen - present)))
        if unknown:
            listing = ", ".join(sorted(present)) or "none"
            raise UsageError(f"{name}: no control named {unknown}; controls in the data: {listing}")

    results = []
    per_label_values: dict[str, list[float]] = {}
    for task in tasks:
        if task.ground_truth is None:
            reason = task.skip_reason or "no usable annotation"
            results.append(TaskResult(task.id, task.index, task.line, "skipped", None, threshold_v, (reason,)))
            continue
        verdict, labels = _score_task(task, m, threshold_v, iou_v, chosen, control_weights)
        results.append(verdict)
        # Matcher.matching_score_per_label: each label's mean over the pairs that report it
        for label, v in labels.items():
            per_label_values.setdefault(label, []).append(v)

    scores = [t.score for t in results if t.score is not None]
    if not any(t.controls for t in results) and any(r.startswith(f"no {m.tag} control") for t in results for r in t.reasons):
        warnings.append(f"evalme {m.name} scores {m.tag} controls and the data has none: every such task scores 0")
    per_control: dict[str, list[float]] = {}
    for t in results:
        for c in t.controls:
            per_control.setdefault(c.control, []).append(c.score)  # type: ignore[arg-type]
    return Report(
        source=name,
        metric=m.name,
        threshold=threshold_v,
        higher_is_better=True,
        headline=m.name,
        params={
            "compat": "evalme",
            "iou": iou_v,
            "controls": sorted(chosen) if chosen else None,
            "model_version": model_version,
        },
        tasks=tuple(results),
        aggregate={m.name: _mean(scores), "unscored_tasks": sum(t.status == "failed" and t.score is None for t in results)},
        per_label={label: {m.name: _mean(vs), "tasks": len(vs)} for label, vs in sorted(per_label_values.items())},
        controls={c: {m.name: _mean(vs)} for c, vs in per_control.items()} if len(per_control) > 1 else {},
        warnings=tuple(warnings),
    )
