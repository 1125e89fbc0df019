"""label-studio-evalme's metric functions, reproduced (master, as recorded in the reference §4).

Every function takes two lists of Label Studio result dicts of one control, ``(item_gt,
item_pred)`` in evalme's argument order, and returns a float, or ``{label: float}`` with
``per_label=True``. They are *not* symmetric: several iterate the prediction side (noted per
function); :func:`ml_test.compat.evalme_apply.apply` takes ``min(f(a, b), f(b, a))`` as evalme's
``Metrics.apply`` does. Empty inputs give what evalme's function gives (often 0.0); the
"both empty is 1.0" rule belongs to ``apply``.

A value evalme would crash on raises :class:`~ml_test.compat._values.RegionError` naming the
result and the field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import zip_longest
from typing import Callable, Mapping, Sequence

import numpy as np

from ._values import (
    RegionError,
    bbox_iou_matrix,
    label_list,
    levenshtein_similarity,
    number,
    polygon_iou,
    polygon_iou_matrix,
    region_iou,
    span_iou,
    text_list,
    values,
)

__all__ = [
    "iou_bboxes",
    "iou_polygons",
    "precision_bboxes",
    "recall_bboxes",
    "f1_bboxes",
    "precision_polygons",
    "recall_polygons",
    "f1_polygons",
    "mAP_bboxes",
    "naive",
    "exact_matching_choices",
    "intersection_text_tagging",
    "match_textareas",
    "EvalmeMetric",
    "EVALME_METRICS",
    "get_evalme_metric",
]

Results = Sequence[dict]
Weights = Mapping[str, float] | None
Score = float | dict[str, float]

_BOX_FIELDS = ("x", "y", "width", "height")


def _shapes(results: Results, shape_key: str, fields: Sequence[str] = ()) -> list[dict]:
    """The values of region results, each checked to carry a label list and its geometry."""
    out = values(results)
    for r, v in zip(results, out):
        label_list(v, shape_key, r)
        for f in fields:
            number(v, f, r)
        if shape_key == "polygonlabels":
            try:
                polygon_iou(v, v)
            except RegionError as e:
                raise RegionError(f"result {str(r.get('id'))!r}: {e}") from e
    return out


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Every (prediction, GT) pair of one call: label lists and IoU, computed once."""

    pred_labels: list[list]
    gt_labels: list[list]
    ious: np.ndarray  # (n_pred, n_gt)
    same: np.ndarray  # (n_pred, n_gt) bool: identical label lists (evalme compares lists with ==)


def _pairs(item_gt: Results, item_pred: Results, key: str) -> _Pairs:
    box = key == "rectanglelabels"
    fields = _BOX_FIELDS if box else ()
    gts, preds = _shapes(item_gt, key, fields), _shapes(item_pred, key, fields)
    ious = (bbox_iou_matrix if box else polygon_iou_matrix)(preds, gts)
    same = np.array([[p[key] == g[key] for g in gts] for p in preds], dtype=bool).reshape(len(preds), len(gts))
    return _Pairs([p[key] for p in preds], [g[key] for g in gts], ious, same)


def _label_weight(labels: list, weights: Mapping[str, float]) -> float:
    return sum(weights.get(label, 1) for label in labels)


# --- IoU (evalme image/object_detection.py: ObjectDetectionEvalItem.total_iou) -------------------


def _total_iou(item_gt: Results, item_pred: Results, key: str, label_weights: Weights, per_label: bool) -> Score:
    # ``iou_bboxes`` calls ``item_pred.total_iou(item_gt)``: the loop runs over the *predictions*,
    # each scored by its best IoU with a GT region of an identical label list (many-to-one allowed)
    pairs = _pairs(item_gt, item_pred, key)
    weights = label_weights or {}
    best = np.where(pairs.same, pairs.ious, 0.0).max(axis=1, initial=0.0)  # (n_pred,)
    if per_label:
        by_label: dict[str, list[float]] = defaultdict(list)
        for labels, v in zip(pairs.pred_labels, best):
            for label in labels:
                by_label[label].append(float(v))
        return {label: float(np.mean(v)) for label, v in by_label.items()}
    if not len(best):
        return 0.0
    w = [_label_weight(labels, weights) for labels in pairs.pred_labels]
    # np.average raises on weights summing to 0 (every label weighted 0); nothing is then scored
    return float(np.average(best, weights=w)) if sum(w) else 0.0


def iou_bboxes(item_gt: Results, item_pred: Results, *, label_weights: Weights = None, per_label: bool = False) -> Score:
    """Mean over predicted boxes of the best IoU with a same-labels GT box; rotation ignored."""
    return _total_iou(item_gt, item_pred, "rectanglelabels", label_weights, per_label)


def iou_polygons(item_gt: Results, item_pred: Results, *, label_weights: Weights = None, per_label: bool = False) -> Score:
    """Mean over predicted polygons of the best IoU with a same-labels GT polygon (shapely, ``make_valid``)."""
    return _total_iou(item_gt, item_pred, "polygonlabels", label_weights, per_label)


# --- all-pairs P/R/F1 (ObjectDetectionEvalItem._precision_recall_at_iou[_per_label]) ----------------


def _pr_at_iou(pairs: _Pairs, t: float, label_weights: Weights, per_label: bool) -> tuple[Score, Score]:
    """(precision, recall) by evalme's all-pairs counting over every (prediction, GT) pair.

    Same labels and IoU >= t: TP; same labels and IoU < t: FN; different labels and IoU >= t:
    FP; different labels and IoU < t: ignored. Counts are weighted by the GT region's labels.
    """
    hit = pairs.ious >= t
    if per_label:
        tp: dict = defaultdict(int)
        fp: dict = defaultdict(int)
        # evalme collects labels from predictions, and from GT only when there is a prediction
        seen = dict.fromkeys(label for labels in pairs.pred_labels for label in labels)
        if pairs.pred_labels:
            seen.update(dict.fromkeys(label for labels in pairs.gt_labels for label in labels))
        for i, j in zip(*np.nonzero(hit)):
            # a false positive is charged to the GT region's labels, as evalme does
            for label in pairs.gt_labels[j]:
                (tp if pairs.same[i, j] else fp)[label] += 1
        # evalme bug kept on purpose: per-label recall divides by tp + fp too, so it equals precision
        prec = {label: tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0 for label in seen}
        return prec, dict(prec)
    weights = label_weights or {}
    w = np.broadcast_to(np.array([_label_weight(g, weights) for g in pairs.gt_labels], dtype=np.float64), hit.shape)
    tp_w = float(w[pairs.same & hit].sum())
    fn_w = float(w[pairs.same & ~hit].sum())
    fp_w = float(w[~pairs.same & hit].sum())
    return (tp_w / (tp_w + fp_w) if tp_w + fp_w else 0.0), (tp_w / (tp_w + fn_w) if tp_w + fn_w else 0.0)


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _make_prf(which: str, key: str) -> Callable[..., Score]:
    def metric(
        item_gt: Results, item_pred: Results, *, iou_threshold: float = 0.5, label_weights: Weights = None, per_label: bool = False
    ) -> Score:
        p, r = _pr_at_iou(_pairs(item_gt, item_pred, key), iou_threshold, label_weights, per_label)
        if which == "precision":
            return p
        if which == "recall":
            return r
        return {label: _f1(p[label], r[label]) for label in p} if per_label else _f1(p, r)  # type: ignore[index,arg-type]

    shape = "bboxes" if key == "rectanglelabels" else "polygons"
    metric.__name__ = metric.__qualname__ = f"{which}_{shape}"
    metric.__doc__ = f"evalme's {which} of {shape} at ``iou_threshold`` (``>=``) by all-pairs counting."
    return metric


precision_bboxes = _make_prf("precision", "rectanglelabels")
recall_bboxes = _make_prf("recall", "rectanglelabels")
f1_bboxes = _make_prf("f1", "rectanglelabels")
precision_polygons = _make_prf("precision", "polygonlabels")
recall_polygons = _make_prf("recall", "polygonlabels")
f1_polygons = _make_prf("f1", "polygonlabels")


def mAP_bboxes(
    item_gt: Results, item_pred: Results, *, iou_threshold: float = 0.5, label_weights: Weights = None, per_label: bool = False
) -> Score:
    """evalme ``mAP_at_iou``: all-pairs P/R at IoU 0.20, 0.25, ... < ``iou_threshold``, Σ (R_i - R_i+1)·P_i; no scores."""
    pairs = _pairs(item_gt, item_pred, "rectanglelabels")
    # np.arange exactly as evalme, so the float thresholds (0.8000000000000002, ...) are the same
    thresholds = np.arange(start=0.2, stop=iou_threshold, step=0.05)
    curve = [_pr_at_iou(pairs, float(t), label_weights, per_label) for t in thresholds]
    if per_label:
        labels = list(dict.fromkeys(label for p, _ in curve for label in p))  # type: ignore[union-attr]
        out = {}
        for label in labels:
            prec = np.array([p[label] for p, _ in curve if label in p] + [1.0])  # type: ignore[index,operator]
            rec = np.array([r[label] for _, r in curve if label in r] + [0.0])  # type: ignore[index,operator]
            out[label] = float(np.sum((rec[:-1] - rec[1:]) * prec[:-1]))
        return out
    prec = np.array([p for p, _ in curve] + [1.0])
    rec = np.array([r for _, r in curve] + [0.0])
    return float(np.sum((rec[:-1] - rec[1:]) * prec[:-1]))


# --- classification.py ------------------------------------------------------------------------------


def naive(x: Results, y: Results, *, per_label: bool = False, label_order_matters: bool = False, **_: object) -> Score:
    """Share of ``x`` results whose whole ``value`` equals some ``y`` value; 0 if a side is empty or lengths differ."""
    if not x or not y or len(x) != len(y):
        return {} if per_label else 0.0
    xv, yv = values(x), values(y)

    def found(i: int) -> bool:
        candidates = [yv[i]] if label_order_matters else yv
        return any(xv[i] == v for v in candidates)

    if not per_label:
        return sum(found(i) for i in range(len(xv))) / len(xv)
    hits: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    for i, r in enumerate(x):
        labels = xv[i].get(r.get("type"))
        if labels is None:
            labels = xv[i].get("hypertextlabels") or xv[i].get("htmllabels")
        if not isinstance(labels, list):
            return {}  # evalme's bare ``except`` returns {} when a result has no label list
        for label in labels:
            hits[str(label)] += found(i)
            counts[str(label)] += 1
    return {label: hits[label] / counts[label] for label in counts}


def exact_matching_choices(
    item_gt: Results, item_pred: Results, *, label_weights: Weights = None, per_label: bool = False, **_: object
) -> Score:
    """All-or-nothing: results paired by position (zip), each pair's sorted choices equal; both empty 1, one empty 0."""
    if not item_gt and not item_pred:
        return {} if per_label else 1.0
    if (not item_gt or not item_pred) and not per_label:
        return 0.0
    weights = label_weights or {}
    xs, ys = values(item_gt), values(item_pred)
    score: dict[str, float] = {}
    total, n = 0.0, 0
    for rx, x, ry, y in zip(item_gt, xs, item_pred, ys):
        a, b = _choices(x, rx), _choices(y, ry)
        # per-region choices (on a box, span or polygon) also need the regions to overlap at all
        iou = region_iou(x, y)
        matched = sorted(a, key=repr) == sorted(b, key=repr) and (iou is None or iou > 0)
        if not matched and not per_label:
            return 0.0
        for label in a:
            score[str(label)] = 1.0 if matched else 0.0
            total += weights.get(label, 1) if isinstance(label, str) else 1
            n += 1
    if per_label:
        if not score:  # a side is empty: evalme marks the first side's labels 0
            return {str(label): 0.0 for r, x in zip(item_gt, xs) for label in _choices(x, r)}
        return score
    # label weights can push this above 1; Metrics.apply clips it
    return total / n if n else 0.0


def _choices(value: dict, result: dict) -> list:
    labels = value.get("choices")
    if labels is None:
        raise RegionError(f"result {str(result.get('id'))!r}: value.choices is missing")
    return labels if isinstance(labels, list) else [labels]


# --- text/text.py -----------------------------------------------------------------------------------


def intersection_text_tagging(
    item_gt: Results,
    item_pred: Results,
    *,
    label_weights: Weights = None,
    per_label: bool = False,
    iou_threshold: float | None = None,
) -> Score:
    """Mean over predicted spans of the best (labels equal) × span IoU; with a threshold, 1 if ``> t`` (strict) else 0."""
    if bool(item_gt) != bool(item_pred) and not per_label:
        return 0.0
    if not item_gt and not item_pred:
        return {} if per_label else 1.0
    gts, preds = _shapes(item_gt, "labels"), _shapes(item_pred, "labels")
    weights = label_weights or {}
    score: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    total = total_w = 0.0
    for p in preds:
        best = max((float(g["labels"] == p["labels"]) * span_iou(g, p) for g in gts), default=0.0)
        if gts and iou_threshold is not None:
            best = float(best > iou_threshold)
        if per_label:
            prefix = p.get("when_label_value") or ""
            for label in p["labels"]:
                name = f"{prefix}:{label}" if prefix else label
                score[name] += best
                count[name] += 1
        else:
            w = _label_weight(p["labels"], weights)
            total += w * best
            total_w += w
    if per_label:
        return {k: score[k] / count[k] if count[k] else 0.0 for k in score}
    return total / total_w if total_w else 0.0


def match_textareas(item_gt: Results, item_pred: Results, *, per_label: bool = False, **_: object) -> Score:
    """Results paired by position (zip); texts zipped longest (missing = 0); mean Levenshtein similarity."""
    if per_label:
        return {}  # evalme: per-label mode is not supported for a plain text area
    scores = []
    for rg, g, rp, p in zip(item_gt, values(item_gt), item_pred, values(item_pred)):
        pairs = list(zip_longest(text_list(g, rg), text_list(p, rp)))
        sims = [0.0 if a is None or b is None else levenshtein_similarity(a, b) for a, b in pairs]
        scores.append(sum(sims) / max(len(sims), 1))
    return sum(scores) / max(len(scores), 1)


# --- registry -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvalmeMetric:
    """An evalme metric: its function, the control type it is registered for, and whether it takes ``iou_threshold``."""

    name: str
    func: Callable[..., Score]
    tag: str
    takes_iou: bool


def _m(func: Callable[..., Score], tag: str, takes_iou: bool = False) -> EvalmeMetric:
    return EvalmeMetric(func.__name__, func, tag, takes_iou)


# Tags as evalme's tests register them (evalme/tests/__init__.py); ``all`` applies to every control.
EVALME_METRICS: dict[str, EvalmeMetric] = {
    m.name: m
    for m in (
        _m(iou_bboxes, "rectanglelabels"),
        _m(iou_polygons, "polygonlabels"),
        _m(precision_bboxes, "rectanglelabels", True),
        _m(recall_bboxes, "rectanglelabels", True),
        _m(f1_bboxes, "rectanglelabels", True),
        _m(precision_polygons, "polygonlabels", True),
        _m(recall_polygons, "polygonlabels", True),
        _m(f1_polygons, "polygonlabels", True),
        _m(mAP_bboxes, "rectanglelabels", True),
        _m(naive, "all"),
        _m(exact_matching_choices, "choices"),
        _m(intersection_text_tagging, "labels", True),
        _m(match_textareas, "textarea"),
    )
}


def get_evalme_metric(name: str) -> EvalmeMetric | None:
    """The evalme metric of this name (case-insensitive), or None."""
    wanted = str(name).lower()
    return next((m for key, m in EVALME_METRICS.items() if key.lower() == wanted), None)
