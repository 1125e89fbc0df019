"""What a metric is: its declared properties, the inputs it scores, and the family that scores them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from ..regions import Region
from ..results import ControlScore

__all__ = ["MetricSpec", "Params", "ControlItem", "Family", "DEFAULT_DISTANCE"]

# Keypoints match within 5% of the image diagonal unless --distance says otherwise.
DEFAULT_DISTANCE = 0.05


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A registered metric: name, the region kinds it scores, its direction and its empty cases."""

    name: str
    kinds: frozenset[str]
    higher_is_better: bool
    headline: str
    summary: str
    params: tuple[str, ...] = ()
    empty_cases: str = "both sides empty: 1.0; ground truth or prediction empty (not both): 0.0"
    # largest valid threshold: 1.0 for rates and similarities, None (unbounded) for tolerances
    threshold_max: float | None = 1.0

    @property
    def best(self) -> float:
        """The score of a perfect prediction (1.0, or 0.0 for an error)."""
        return 1.0 if self.higher_is_better else 0.0

    @property
    def threshold_rule(self) -> str:
        """The valid thresholds, for messages: ``in [0, 1]`` or ``>= 0`` (a tolerance)."""
        return ">= 0" if self.threshold_max is None else f"in [0, {self.threshold_max:g}]"

    def accepts_threshold(self, threshold: float) -> bool:
        """True when the threshold is in the metric's range (finite, >= 0, <= threshold_max)."""
        return math.isfinite(threshold) and threshold >= 0.0 and (self.threshold_max is None or threshold <= self.threshold_max)

    def passes(self, score: float, threshold: float) -> bool:
        """The one place a score is compared with a threshold."""
        return score >= threshold if self.higher_is_better else score <= threshold


@dataclass(frozen=True, slots=True)
class Params:
    """Options shared by the metrics; None means the family default.

    ``iou``: 0.5, spans exact. ``distance`` (keypoints): a share of the image diagonal when < 1,
    else pixels; default ``DEFAULT_DISTANCE``.
    """

    threshold: float
    iou: float | None = None
    distance: float | None = None


@dataclass(frozen=True, slots=True)
class ControlItem:
    """One task's regions of one control, ready to score; ``image`` is the task's position.

    ``control`` names the control; per-region child controls need it to pick their parents' children.
    """

    image: int
    where: str
    gt: tuple[Region, ...]
    pred: tuple[Region, ...]
    image_size: tuple[float, float] | None
    control: str = ""


class Family(Protocol):
    """Scores the controls of one region kind: per task, then dataset-level through a state."""

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], Any]:
        """Score each item; return one ControlScore per item and a mergeable state."""

    def merge(self, states: Sequence[Any]) -> Any:
        """Merge states of chunks, in task order."""

    def compute(self, metric: MetricSpec, state: Any) -> tuple[dict[str, float | None], dict[str, dict[str, float | None]]]:
        """Dataset-level aggregate and per-label values from a merged state."""
