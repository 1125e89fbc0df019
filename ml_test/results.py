"""The result model every surface presents: region outcomes, control scores, task results, Report.

Frozen dataclasses with ``to_dict``/``from_dict`` that round-trip through JSON: plain floats,
ints and strings, ``None`` for undefined, field names that never depend on options.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["RegionOutcome", "ControlScore", "TaskResult", "Report", "SCHEMA_VERSION"]

SCHEMA_VERSION = "1"


@dataclass(frozen=True, slots=True)
class RegionOutcome:
    """What happened to one region: ``TP`` (matched), ``FP`` (extra prediction) or ``FN`` (missed)."""

    outcome: str
    label: str
    region_id: str | None = None
    matched_id: str | None = None
    iou: float | None = None
    score: float | None = None

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ControlScore:
    """One control's score in one task (None when it cannot be scored), per label, with outcomes and reasons."""

    control: str
    kind: str
    score: float | None
    per_label: dict[str, float] = field(default_factory=dict)
    regions: tuple[RegionOutcome, ...] = ()
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {
            "control": self.control,
            "kind": self.kind,
            "score": self.score,
            "per_label": dict(self.per_label),
            "regions": [r.to_dict() for r in self.regions],
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ControlScore":
        """Inverse of ``to_dict``."""
        return cls(
            control=d["control"],
            kind=d["kind"],
            score=d["score"],
            per_label=dict(d.get("per_label", {})),
            regions=tuple(RegionOutcome(**r) for r in d.get("regions", [])),
            reasons=tuple(d.get("reasons", [])),
        )


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The verdict of one task: ``status`` is ``passed``, ``failed`` or ``skipped``."""

    id: Any
    index: int
    line: int
    status: str
    score: float | None
    threshold: float
    reasons: tuple[str, ...] = ()
    controls: tuple[ControlScore, ...] = ()

    @property
    def passed(self) -> bool:
        """True when the task passed."""
        return self.status == "passed"

    @property
    def name(self) -> str:
        """The id people read: the task id, or ``#index`` when the task has none."""
        return str(self.id) if self.id is not None else f"#{self.index}"

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return {
            "id": self.id,
            "index": self.index,
            "line": self.line,
            "status": self.status,
            "passed": self.passed,
            "score": self.score,
            "threshold": self.threshold,
            "reasons": list(self.reasons),
            "controls": [c.to_dict() for c in self.controls],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TaskResult":
        """Inverse of ``to_dict``."""
        return cls(
            id=d["id"],
            index=d["index"],
            line=d["line"],
            status=d["status"],
            score=d["score"],
            threshold=d["threshold"],
            reasons=tuple(d.get("reasons", [])),
            controls=tuple(ControlScore.from_dict(c) for c in d.get("controls", [])),
        )


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one evaluation computed: per-task verdicts, dataset aggregates, counts.

    ``aggregate`` holds the dataset-level values (for ``mAP`` the 12 COCO statistics);
    ``per_label`` the dataset-level values per label; ``controls`` the aggregates per control
    when several controls were scored. ``score`` is the metric's headline aggregate.
    """

    source: str
    metric: str
    threshold: float
    higher_is_better: bool
    headline: str
    params: dict[str, Any]
    tasks: tuple[TaskResult, ...]
    aggregate: dict[str, float | None]
    per_label: dict[str, dict[str, float | None]] = field(default_factory=dict)
    controls: dict[str, dict[str, float | None]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    schema_version: str = SCHEMA_VERSION

    @property
    def total(self) -> int:
        """Number of tasks in the file, skipped ones included."""
        return len(self.tasks)

    @property
    def passed(self) -> int:
        """Number of tasks that passed."""
        return sum(t.status == "passed" for t in self.tasks)

    @property
    def failed(self) -> int:
        """Number of tasks that failed."""
        return sum(t.status == "failed" for t in self.tasks)

    @property
    def skipped(self) -> int:
        """Number of tasks skipped (no usable ground truth)."""
        return sum(t.status == "skipped" for t in self.tasks)

    @property
    def pass_rate(self) -> float | None:
        """Passed over tested (skipped excluded); None when nothing was tested."""
        tested = self.passed + self.failed
        return self.passed / tested if tested else None

    @property
    def ok(self) -> bool:
        """True when no task failed."""
        return self.failed == 0

    @property
    def score(self) -> float | None:
        """The dataset-level value of the metric (e.g. COCO mAP, micro F1, accuracy)."""
        return self.aggregate.get(self.headline)

    @property
    def comparator(self) -> str:
        """How a task score is compared with the threshold to pass."""
        return ">=" if self.higher_is_better else "<="

    def failing(self) -> list[TaskResult]:
        """Failed tasks, worst first (ties in file order)."""
        sign = 1.0 if self.higher_is_better else -1.0
        bad = [t for t in self.tasks if t.status == "failed"]
        # a task that could not be scored (no prediction to measure an error on) is the worst
        return sorted(bad, key=lambda t: (t.score is not None, sign * (t.score or 0.0), t.index))

    def to_dict(self) -> dict:
        """Plain dict for JSON (the ``--json`` report)."""
        return {
            "schema_version": self.schema_version,
            "source": self.source,
            "metric": self.metric,
            "threshold": self.threshold,
            "higher_is_better": self.higher_is_better,
            "comparator": self.comparator,
            "headline": self.headline,
            "score": self.score,
            "params": dict(self.params),
            "counts": {
                "total": self.total,
                "passed": self.passed,
                "failed": self.failed,
                "skipped": self.skipped,
                "pass_rate": self.pass_rate,
            },
            "aggregate": dict(self.aggregate),
            "per_label": {k: dict(v) for k, v in self.per_label.items()},
            "controls": {k: dict(v) for k, v in self.controls.items()},
            "warnings": list(self.warnings),
            "tasks": [t.to_dict() for t in self.tasks],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        """Inverse of ``to_dict``."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["tasks"] = tuple(TaskResult.from_dict(t) for t in d["tasks"])
        kwargs["warnings"] = tuple(d.get("warnings", []))
        return cls(**kwargs)
