"""The metric registry: each metric's name, the region kinds it scores, direction and empty cases."""

from __future__ import annotations

from .base import ControlItem, Family, MetricSpec, Params
from .choices import ChoicesFamily
from .matched import MatchedFamily

__all__ = ["REGISTRY", "get_metric", "family_for", "metrics_for_kinds", "MetricSpec", "Params", "ControlItem"]

_DETECTION = frozenset({"box", "polygon"})
_MATCHED = _DETECTION | {"span"}
_ALL = _MATCHED | {"choices"}

REGISTRY: dict[str, MetricSpec] = {
    spec.name.lower(): spec
    for spec in (
        MetricSpec("mAP", _DETECTION, True, "mAP", "COCO mean average precision, IoU .50:.05:.95", (),
                   "both sides empty: 1.0; a label on one side only: AP 0 for that label"),
        MetricSpec("mAP50", _DETECTION, True, "mAP50", "COCO average precision at IoU 0.50", (),
                   "both sides empty: 1.0; a label on one side only: AP 0 for that label"),
        MetricSpec("mAP75", _DETECTION, True, "mAP75", "COCO average precision at IoU 0.75", (),
                   "both sides empty: 1.0; a label on one side only: AP 0 for that label"),
        MetricSpec("precision", _ALL, True, "precision_micro", "matched predictions / predictions", ("iou",),
                   "both sides empty: 1.0; no prediction: 0.0; predictions but no ground truth: 0.0"),
        MetricSpec("recall", _ALL, True, "recall_micro", "matched ground truth / ground truth", ("iou",),
                   "both sides empty: 1.0; no ground truth but predictions: 0.0; ground truth but no prediction: 0.0"),
        MetricSpec("f1", _ALL, True, "f1_micro", "harmonic mean of precision and recall", ("iou",)),
        MetricSpec("iou", _MATCHED, True, "iou", "sum of matched IoU / (matched + missed + extra)"),
        MetricSpec("exact_match", frozenset({"choices"}), True, "accuracy", "selected choices equal the ground truth"),
        MetricSpec("accuracy", frozenset({"choices"}), True, "accuracy", "exact match; the dataset value is its mean"),
    )
}  # fmt: skip

_FAMILIES: dict[str, Family] = {kind: MatchedFamily(kind) for kind in _MATCHED} | {"choices": ChoicesFamily()}


def get_metric(name: str) -> MetricSpec | None:
    """The registered metric of that name (case-insensitive), or None."""
    return REGISTRY.get(name.strip().lower())


def family_for(kind: str) -> Family:
    """The family that scores regions of that kind."""
    return _FAMILIES[kind]


def metrics_for_kinds(kinds: set[str]) -> list[str]:
    """Names of the metrics that apply to at least one of these kinds."""
    return [spec.name for spec in REGISTRY.values() if spec.kinds & kinds]
