"""The metric registry: each metric's name, the region kinds it scores, direction and empty cases."""

from __future__ import annotations

from ..regions import ANSWER_KINDS, CHILD_KINDS
from .answers import AnswerFamily
from .base import DEFAULT_DISTANCE, ControlItem, Family, MetricSpec, Params
from .children import ChildFamily
from .choices import ChoicesFamily
from .matched import MatchedFamily
from .oks import OksKeypointFamily
from .relations import RelationFamily
from .video import VideoFamily

__all__ = [
    "REGISTRY", "get_metric", "family_for", "metrics_for_kinds", "MetricSpec", "Params", "ControlItem", "DEFAULT_DISTANCE",
]  # fmt: skip

_DETECTION = frozenset({"box", "polygon", "ellipse", "mask"})
# mAP also scores video tracks, frame by frame (``video_map``)
_BOXES_OVER_TIME = _DETECTION | {"video"}
_OVERLAP = _DETECTION | {"span"}  # regions with an IoU
_MATCHED = _OVERLAP | {"keypoint"}  # regions matched one-to-one (keypoints by distance)
_CHILD = frozenset(CHILD_KINDS.values())  # per-region children, scored through their parents' matching
_EXACT = ANSWER_KINDS | {"choices"} | _CHILD
_NUMERIC = frozenset({"number", "rating", "datetime"})
_TEXT = frozenset({"textarea", CHILD_KINDS["textarea"]})
_AP_EMPTY = "both sides empty: 1.0; a label on one side only: AP 0 for that label"
_RATE_EMPTY = (
    "both empty: 0.0; empty ground truth with a non-empty prediction: 1.0; empty prediction: 1.0 (all deleted); "
    "dataset: total edits / total reference length (None without reference text)"
)

REGISTRY: dict[str, MetricSpec] = {
    spec.name.lower(): spec
    for spec in (
        MetricSpec("mAP", _BOXES_OVER_TIME, True, "mAP", "COCO mean average precision, IoU .50:.05:.95", (), _AP_EMPTY),
        MetricSpec("mAP50", _BOXES_OVER_TIME, True, "mAP50", "COCO average precision at IoU 0.50", (), _AP_EMPTY),
        MetricSpec("mAP75", _BOXES_OVER_TIME, True, "mAP75", "COCO average precision at IoU 0.75", (), _AP_EMPTY),
        MetricSpec("oks_mAP", frozenset({"keypoint"}), True, "mAP",
                   "COCO keypoint AP at OKS .50:.05:.95, objects = a parent box (parentID) and its keypoints; "
                   "keypoints without a parent box are ignored", (), _AP_EMPTY),
        MetricSpec("precision", _MATCHED | {"choices"}, True, "precision_micro", "matched predictions / predictions", ("iou", "distance"),
                   "both sides empty: 1.0; no prediction: 0.0; predictions but no ground truth: 0.0"),
        MetricSpec("recall", _MATCHED | {"choices"}, True, "recall_micro", "matched ground truth / ground truth", ("iou", "distance"),
                   "both sides empty: 1.0; no ground truth but predictions: 0.0; ground truth but no prediction: 0.0"),
        MetricSpec("f1", _MATCHED | {"choices"}, True, "f1_micro", "harmonic mean of precision and recall", ("iou", "distance")),
        MetricSpec("iou", _OVERLAP, True, "iou", "sum of matched IoU / (matched + missed + extra)"),
        MetricSpec("dice", _OVERLAP, True, "dice",
                   "sum of matched Dice 2|A∩B|/(|A|+|B|) (= 2 IoU / (1 + IoU)) / (matched + missed + extra)"),
        MetricSpec("pck", frozenset({"keypoint"}), True, "pck",
                   "share of ground-truth points with a same-label predicted point within --distance (one-to-one)", ("distance",),
                   "both sides empty: 1.0; predictions but no ground truth: 0.0; ground truth but no prediction: 0.0"),
        MetricSpec("exact_match", _EXACT, True, "accuracy", "the answer (selected choices, text, value...) equals the ground truth", (),
                   "both sides empty: 1.0 (equal); one side empty: 0.0"),
        MetricSpec("accuracy", _EXACT, True, "accuracy", "exact match; the dataset value is its mean", (),
                   "both sides empty: 1.0 (equal); one side empty: 0.0"),
        MetricSpec("text_similarity", _TEXT, True, "text_similarity", "1 - Levenshtein distance / length of the longer text"),
        MetricSpec("cer", _TEXT, False, "cer", "character error rate: character edits / reference characters", (), _RATE_EMPTY, None),
        MetricSpec("wer", _TEXT, False, "wer", "word error rate: word edits / reference words", (), _RATE_EMPTY, None),
        MetricSpec("abs_error", _NUMERIC, False, "mae", "largest |ground truth - prediction| (datetimes in seconds); the threshold is the tolerance", (),
                   "both sides without a value: 0.0; a value on one side only or different counts: no score (None), the task fails", None),
        MetricSpec("path_match", frozenset({"taxonomy", CHILD_KINDS["taxonomy"]}), True, "path_match",
                   "hierarchical F1 of the selected paths: 2 shared nodes / (ground-truth nodes + predicted nodes)"),
        MetricSpec("ndcg", frozenset({"ranker"}), True, "ndcg", "NDCG of the predicted order, relevance graded by ground-truth rank", (),
                   "both sides empty: 1.0; ground truth empty but items predicted: 0.0; nothing predicted: 0.0"),
        MetricSpec("relation_f1", frozenset({"relation"}), True, "f1_micro",
                   "F1 of (from region, to region, label) triples, regions identified by their control's one-to-one matching",
                   ("iou", "distance"), "both sides without relations: 1.0; relations on one side only: 0.0"),
        MetricSpec("video_iou", frozenset({"video"}), True, "video_iou",
                   "IoU over time of one-to-one matched same-label tracks (IoU summed over frames in both / frames in either), "
                   "summed / (matched + missed + extra tracks)"),
    )
}  # fmt: skip

_FAMILIES: dict[str, Family] = (
    {kind: MatchedFamily(kind) for kind in _MATCHED}
    | {"keypoint": OksKeypointFamily()}  # the keypoint family plus oks_mAP
    | {"choices": ChoicesFamily()}
    | {kind: AnswerFamily(kind) for kind in ANSWER_KINDS}
    | {"relation": RelationFamily()}
    | {kind: ChildFamily(kind) for kind in _CHILD}
    | {"video": VideoFamily()}
)


def get_metric(name: str) -> MetricSpec | None:
    """The registered metric of that name (case-insensitive), or None."""
    return REGISTRY.get(name.strip().lower())


def family_for(kind: str) -> Family:
    """The family that scores regions of that kind."""
    return _FAMILIES[kind]


def metrics_for_kinds(kinds: set[str]) -> list[str]:
    """Names of the metrics that apply to at least one of these kinds."""
    return [spec.name for spec in REGISTRY.values() if spec.kinds & kinds]
