"""What a metric is: its declared properties, the inputs it scores, and the family that scores them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from ..regions import Region
from ..results import ControlScore

__all__ = ["MetricSpec", "Params", "ControlItem", "Family"]


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

    def passes(self, score: float, threshold: float) -> bool:
        """The one place a score is compared with a threshold."""
        return score >= threshold if self.higher_is_better else score <= threshold


@dataclass(frozen=True, slots=True)
class Params:
    """Options shared by the metrics. ``iou=None`` means the family default (0.5; strict for spans)."""

    threshold: float
    iou: float | None = None


@dataclass(frozen=True, slots=True)
class ControlItem:
    """One task's regions of one control, ready to score; ``image`` is the task's position."""

    image: int
    where: str
    gt: tuple[Region, ...]
    pred: tuple[Region, ...]
    image_size: tuple[float, float] | None


class Family(Protocol):
    """Scores the controls of one region kind: per task, then dataset-level through a state."""

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], Any]:
        """Score each item; return one ControlScore per item and a mergeable state."""

    def merge(self, states: Sequence[Any]) -> Any:
        """Merge states of chunks, in task order."""

    def compute(self, metric: MetricSpec, state: Any) -> tuple[dict[str, float | None], dict[str, dict[str, float | None]]]:
        """Dataset-level aggregate and per-label values from a merged state."""
