"""``evaluate()``: tasks -> regions per control -> metric per chunk -> merged aggregates -> Report."""

from __future__ import annotations

import gc
import math
import os
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

from .errors import InputError, UsageError, locate
from .metrics import ControlItem, MetricSpec, Params, family_for, get_metric, metrics_for_kinds, REGISTRY
from .progress import Progress
from .regions import ANSWER_KINDS, CHILD_KINDS, RELATIONS_CONTROL, ParsedResult, Region, child_kind, parse_result, relation_regions
from .report.format import score_text
from .results import ControlScore, Report, TaskResult
from .tasks import Task, load_tasks

__all__ = ["evaluate", "parse_image_size", "CHUNK_SIZE"]

# Tasks scored per metric call: large enough to vectorise, small enough for a lively progress bar.
CHUNK_SIZE = 1000
MAX_WARNINGS = 20


def parse_image_size(value: str | tuple[float, float] | None) -> tuple[float, float] | None:
    """``"1920x1080"`` or ``(1920, 1080)`` -> (width, height) in pixels."""
    if value is None or isinstance(value, tuple):
        size = value
    else:
        parts = str(value).lower().replace("×", "x").split("x")
        try:
            size = (float(parts[0]), float(parts[1])) if len(parts) == 2 else None
        except ValueError:
            size = None
        if size is None:
            raise UsageError(f"image size must look like WIDTHxHEIGHT (e.g. 1920x1080), got {value!r}")
    if size is not None and not all(math.isfinite(v) and v > 0 for v in size):
        raise UsageError(f"image size must be positive, got {value!r}")
    return size


_CHILD_KINDS = frozenset(CHILD_KINDS.values())

# stands in for a metric whose name is unknown until the data is read: any tolerance may be valid
_ANY_METRIC = MetricSpec("metric", frozenset(), True, "", "", threshold_max=None)


def _check_threshold(spec: MetricSpec, value: float) -> float:
    """The threshold as a float in the metric's range: [0, 1] for rates, >= 0 for error tolerances."""
    why = f" ({spec.name} is an error: its threshold is a tolerance)" if spec.threshold_max is None and spec.name != "metric" else ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"threshold must be a number {spec.threshold_rule}, got {value!r}{why}") from None
    if not spec.accepts_threshold(v):
        raise UsageError(f"threshold must be {spec.threshold_rule}, got {value!r}{why}")
    return v


def _check_distance(value: float | None) -> float | None:
    """Keypoint distance: > 0 and finite (a share of the image diagonal below 1, else pixels)."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"distance must be a positive number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise UsageError(f"distance must be a positive number (pixels, or a share of the image diagonal below 1), got {value!r}")
    return v


def _check_unit(name: str, value: float | None, *, allow_zero: bool = True) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0) or (not allow_zero and v == 0.0):
        raise UsageError(f"{name} must be in {'[0, 1]' if allow_zero else '(0, 1]'}, got {value!r}")
    return v


@dataclass(slots=True)
class _Parsed:
    task: Task
    where: str
    gt: ParsedResult
    pred: ParsedResult
    size: tuple[float, float] | None


def _parse(task: Task, image_size: tuple[float, float] | None) -> _Parsed:
    where = locate(task.source, task.name, task.line)
    gt = parse_result(task.ground_truth.result, where=f"{where}: ground truth") if task.ground_truth else ParsedResult()
    pred = (
        parse_result(task.prediction.result, where=f"{where}: prediction", default_score=task.prediction.score)
        if task.prediction
        else ParsedResult()
    )
    size = next((r.image_size for p in (gt, pred) for rs in p.controls.values() for r in rs if r.image_size), None)
    return _Parsed(task, where, gt, pred, size or image_size)


def _keep_labels(regions: Iterable[Region], labels: frozenset[str] | None, kind: str) -> tuple[Region, ...]:
    # answers (text, numbers, ...) have no labels: --labels leaves them whole
    if labels is None or kind in ANSWER_KINDS:
        return tuple(regions)
    out = []
    for r in regions:
        kept = tuple(k for k in r.labels if k in labels)
        if kept:
            out.append(r if kept == r.labels else r._replace(labels=kept))
    return tuple(out)


def _control_regions(side: ParsedResult, control: str, kind: str, labels: frozenset[str] | None, where: str) -> tuple[Region, ...]:
    """One side's regions of a control; for relations, every region of the side plus the relations.

    A per-region child control gets the parent regions (of any control) that carry one of its results.
    """
    if kind == "relation":
        return relation_regions(side, where) + tuple(r for rs in side.controls.values() for r in rs)
    if kind in _CHILD_KINDS:
        parents = (r for rs in side.controls.values() for r in rs if any(c["from_name"] == control for c in r.children))
        return _keep_labels(parents, labels, "parent")  # --labels filters the labelled parents
    return _keep_labels(side.controls.get(control, ()), labels, kind)


def _controls(parsed: Sequence[_Parsed]) -> dict[str, str]:
    """Every control in the data with its region kind, in order of first appearance; relations as one more."""
    found: dict[str, str] = {}
    relations = False
    for p in parsed:
        for side in (p.gt, p.pred):
            relations = relations or bool(side.relations)
            for name, regions in side.controls.items():
                for r in regions:
                    if found.setdefault(name, r.kind) != r.kind and r.kind != "other":
                        raise InputError(
                            f"{p.where}: control {name!r} holds both {found[name]} and {r.kind} regions; "
                            "score them separately with --control"
                        )
                    for c in r.children:  # perRegion text, choices ...: a control scored through this region
                        kind = child_kind(c)
                        if kind and found.setdefault(c["from_name"], kind) != kind:
                            raise InputError(
                                f"{p.where}: control {c['from_name']!r} holds both {found[c['from_name']]} and per-region "
                                f"({kind}) results; score them separately with --control"
                            )
    if relations:
        # relation results belong to no control: they are scored as one more, named "relations"
        found[RELATIONS_CONTROL if RELATIONS_CONTROL not in found else f"({RELATIONS_CONTROL})"] = "relation"
    return found


def _select(spec: MetricSpec, found: dict[str, str], controls: Sequence[str] | None, source: str) -> list[str]:
    listing = ", ".join(f"{c} ({k})" for c, k in found.items()) or "none"
    if controls:
        unknown = [c for c in controls if c not in found]
        if unknown:
            raise UsageError(f"{source}: no control named {', '.join(map(repr, unknown))}; controls in the data: {listing}")
    chosen = [c for c, k in found.items() if k in spec.kinds and (not controls or c in controls)]
    if not chosen:
        usable = metrics_for_kinds({k for c, k in found.items() if not controls or c in controls})
        raise UsageError(
            f"{source}: metric {spec.name} applies to no control in the data (it scores {', '.join(sorted(spec.kinds))}); "
            f"controls in the data: {listing}; metrics that apply: {', '.join(usable) or 'none yet'}"
        )
    return chosen


def _combine(values: list[dict]) -> dict:
    """Mean of each key over several controls' aggregates (None when undefined everywhere).

    Two kinds of keys combine otherwise: ``max_*`` keys take the maximum, ``*_tasks`` counts the sum.
    """
    keys = list(dict.fromkeys(k for v in values for k in v))
    out = {}
    for k in keys:
        xs = [v[k] for v in values if v.get(k) is not None]
        if not xs:
            out[k] = None
        elif k.startswith("max_"):
            out[k] = max(xs)
        elif k.endswith("_tasks"):
            out[k] = sum(xs)
        else:
            out[k] = sum(xs) / len(xs)
    return out


COMPAT_MODES = ("evalme",)


def _evaluate_compat(
    compat: str,
    source: str | os.PathLike | Iterable[dict],
    metric: str,
    threshold: float,
    iou: float | None,
    controls: Sequence[str] | None,
    labels: Sequence[str] | None,
    model_version: str | None,
    image_size: str | tuple[float, float] | None,
    distance: float | None,
) -> Report:
    """Delegate to a compatibility mode, refusing the options it does not have."""
    if compat.strip().lower() not in COMPAT_MODES:
        raise UsageError(f"compat must be one of {', '.join(map(repr, COMPAT_MODES))}; got {compat!r}")
    unsupported = [name for name, value in (("labels", labels), ("image_size", image_size), ("distance", distance)) if value]
    if unsupported:
        raise UsageError(f"compat 'evalme' does not take {', '.join(unsupported)}: evalme has no such option")
    from .compat import evaluate_evalme

    return evaluate_evalme(source, metric, threshold, iou=iou, controls=controls, model_version=model_version)


def evaluate(
    source: str | os.PathLike | Iterable[dict],
    metric: str = "mAP",
    threshold: float = 0.5,
    *,
    iou: float | None = None,
    controls: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    model_version: str | None = None,
    image_size: str | tuple[float, float] | None = None,
    progress: bool = False,
    distance: float | None = None,
    compat: str | None = None,
) -> Report:
    """Score every task's prediction against its ground truth and return a :class:`Report`.

    Parameters
    ----------
    source : path, iterable of task dicts, or list of Task
        A Label Studio export: JSON array, single task, JSON lines, or gzip of these; or tasks
        already read by :func:`ml_test.load_tasks`.
    metric : str, default="mAP"
        A registered metric name (case-insensitive), see ``ml_test.metrics.REGISTRY``.
    threshold : float, default=0.5
        A task passes when its score is ``>= threshold`` (``<=`` for lower-is-better metrics:
        ``cer``, ``wer``, ``abs_error``). In [0, 1], except for error metrics, whose threshold is
        a tolerance: any value >= 0.
    iou : float, optional
        IoU threshold for matching regions (precision/recall/f1); default 0.5, spans exact.
    controls, labels : sequence of str, optional
        Score only these controls (``from_name``) / these labels.
    model_version : str, optional
        Test the prediction of this model version (default: the newest prediction).
    image_size : "WxH" or (w, h), optional
        Image size in pixels for tasks whose results carry no ``original_width/height``.
    progress : bool, default=False
        Draw a progress bar on stderr.
    distance : float, optional
        Keypoint matching distance (``pck``, keypoint precision/recall/f1): pixels, or a share of
        the image diagonal when below 1. Default 0.05 (5% of the diagonal).
    compat : {"evalme"}, optional
        Reproduce label-studio-evalme's semantics (its metric names: ``iou_bboxes``,
        ``f1_bboxes``, ``naive``, ...) instead of the standard ones; see ``docs/evalme.md``.

    Returns
    -------
    Report
        Per-task verdicts, dataset aggregates and counts.

    Raises
    ------
    UsageError
        Unknown metric, metric that applies to no control, bad threshold, iou, distance or size.
    InputError
        Unreadable file or a task with a wrong structure or value.

    Examples
    --------
    >>> task = {"id": 1, "annotations": [{"result": [{"from_name": "c", "to_name": "t", "type": "choices",
    ...          "value": {"choices": ["cat"]}}]}], "predictions": [{"result": [{"from_name": "c",
    ...          "to_name": "t", "type": "choices", "value": {"choices": ["dog"]}}]}]}
    >>> report = evaluate([task], metric="exact_match", threshold=1.0)
    >>> report.failed, report.tasks[0].reasons
    (1, ('expected cat, got dog',))
    """
    spec_name = str(metric)
    if threshold is None:
        raise UsageError("threshold is required")
    if compat is not None:
        return _evaluate_compat(compat, source, spec_name, threshold, iou, controls, labels, model_version, image_size, distance)
    known = get_metric(spec_name)
    # an unknown metric is reported once the data is read, with the metrics that apply to it
    threshold_v = _check_threshold(known or _ANY_METRIC, threshold)
    iou_v = _check_unit("iou", iou, allow_zero=False)
    distance_v = _check_distance(distance)
    size = parse_image_size(image_size)
    label_set = frozenset(labels) if labels else None

    # Parsing creates an object per region; the cyclic collector would rescan every task dict
    # each time (a fifth of the run on large exports) and none of these objects form cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(source, spec_name, threshold_v, Params(threshold_v, iou_v, distance_v), controls, label_set, model_version, size, progress)
    finally:
        if gc_was_enabled:
            gc.enable()


def _evaluate(
    source: str | os.PathLike | Iterable[dict],
    spec_name: str,
    threshold_v: float,
    params: Params,
    controls: Sequence[str] | None,
    label_set: frozenset[str] | None,
    model_version: str | None,
    size: tuple[float, float] | None,
    progress: bool,
) -> Report:
    if isinstance(source, list) and source and all(isinstance(t, Task) for t in source):
        tasks, name = source, source[0].source  # already loaded (and model version chosen)
    else:
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<tasks>"
        tasks = load_tasks(source, model_version=model_version)
    parsed = [_parse(t, size) for t in tasks if t.ground_truth is not None]
    found = _controls(parsed)
    spec = get_metric(spec_name)
    if spec is None:
        usable = metrics_for_kinds(set(found.values()))
        raise UsageError(
            f"unknown metric {spec_name!r}; metrics for this data: {', '.join(usable) or 'none'} "
            f"(all metrics: {', '.join(s.name for s in REGISTRY.values())})"
        )
    chosen = _select(spec, found, controls, name)

    per_task: list[list[ControlScore]] = [[] for _ in parsed]
    states: dict[str, list[Any]] = {c: [] for c in chosen}
    with Progress(len(parsed), enabled=progress) as bar:
        for start in range(0, len(parsed), CHUNK_SIZE):
            chunk = parsed[start : start + CHUNK_SIZE]
            for control in chosen:
                items = [
                    ControlItem(
                        image=i,
                        where=p.where,
                        gt=_control_regions(p.gt, control, found[control], label_set, f"{p.where}: ground truth"),
                        pred=_control_regions(p.pred, control, found[control], label_set, f"{p.where}: prediction"),
                        image_size=p.size,
                        control=control,
                    )
                    for i, p in enumerate(chunk)
                ]
                scores, state = family_for(found[control]).score(spec, items, params)
                states[control].append(state)
                for i, s in enumerate(scores):
                    per_task[start + i].append(replace(s, control=control))
            bar.advance(len(chunk))

    aggregates, per_label = {}, {}
    for control in chosen:
        family = family_for(found[control])
        aggregates[control], per_label[control] = family.compute(spec, family.merge(states[control]))

    results = _task_results(tasks, parsed, per_task, spec, threshold_v, multi=len(chosen) > 1)
    warnings = [w for p in parsed for w in p.gt.warnings + p.pred.warnings]
    if len(warnings) > MAX_WARNINGS:
        warnings = warnings[:MAX_WARNINGS] + [f"... and {len(warnings) - MAX_WARNINGS} more warnings"]
    single = len(chosen) == 1
    return Report(
        source=name,
        metric=spec.name,
        threshold=threshold_v,
        higher_is_better=spec.higher_is_better,
        headline=spec.headline,
        params={
            "iou": params.iou,
            "distance": params.distance,
            "controls": list(chosen),
            "labels": sorted(label_set) if label_set else None,
            "model_version": model_version,
            "image_size": list(size) if size else None,
        },
        tasks=tuple(results),
        aggregate=aggregates[chosen[0]] if single else _combine(list(aggregates.values())),
        per_label=per_label[chosen[0]] if single else {f"{c}/{k}": v for c in chosen for k, v in per_label[c].items()},
        controls=aggregates if not single else {},
        warnings=tuple(warnings),
    )


def _task_results(
    tasks: Sequence[Task], parsed: Sequence[_Parsed], per_task: list[list[ControlScore]], spec: MetricSpec, threshold: float, multi: bool
) -> list[TaskResult]:
    scored = {id(p.task): (p, scores) for p, scores in zip(parsed, per_task)}
    pick = min if spec.higher_is_better else max
    results = []
    for task in tasks:
        if id(task) not in scored:
            results.append(TaskResult(task.id, task.index, task.line, "skipped", None, threshold, (task.skip_reason or "no usable annotation",)))
            continue
        _, scores = scored[id(task)]
        # a control that cannot be scored (an error metric with a value on one side only) fails the task
        unscorable = any(s.score is None for s in scores)
        score = None if unscorable else pick(s.score for s in scores)
        reasons = [f"{s.control}: {r}" if multi else r for s in scores for r in s.reasons]
        passed = score is not None and spec.passes(score, threshold)
        if task.prediction is None:
            passed = False
            reasons.insert(0, task.no_prediction_reason or "no prediction")
        elif not passed and not reasons:
            reasons.append(f"{spec.name} {score_text(score, threshold)} {'<' if spec.higher_is_better else '>'} {threshold:g}")
        status = "passed" if passed else "failed"
        results.append(TaskResult(task.id, task.index, task.line, status, score, threshold, tuple(reasons), tuple(scores)))
    return results
