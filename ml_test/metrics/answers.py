"""Per-task answer controls: textarea, taxonomy, number, rating, datetime, pairwise, ranker.

A control holds one answer per task, built from all of its results in file order:

* textarea: the text entries joined with a newline (so ``["a", "b"]`` equals ``["a\\nb"]``);
* taxonomy: the set of selected paths;
* number, rating, datetime, pairwise: the sequence of values;
* ranker: the lists by name (the hidden ``"_"`` list of unranked items and empty lists dropped).

Metrics (direction, then both sides empty / one side empty):

* ``exact_match`` / ``accuracy`` (higher): 1.0 when the answers are equal; datetimes compare as
  instants when both parse as ISO 8601, else as text. Empty answers are equal to each other.
* ``text_similarity`` (higher): ``1 - levenshtein / max(len)``. Both empty: 1.0; one: 0.0.
* ``cer`` / ``wer`` (lower): edits / reference length in characters or words. Both empty: 0.0;
  empty reference with a non-empty prediction: 1.0; empty prediction: 1.0 (all deleted). An
  error rate can exceed 1 (insertions). Dataset: total edits / total reference length, as jiwer
  computes a corpus rate (None without reference text), and ``*_mean`` the mean task rate.
* ``abs_error`` (lower; number, rating, datetime in seconds): the largest ``|gt - pred|`` over the
  values. Both without a value: 0.0. A value on one side only, or different counts: no score
  (``None``) and the task fails whatever the tolerance. Dataset: ``mae`` over scored tasks.
* ``path_match`` (higher, taxonomy) and ``ndcg`` (higher, ranker): see ``answer_scores``.

Dataset values are means over tasks, computed from per-task lists kept in task order, so merged
chunks equal a serial run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Sequence

from ..errors import InputError
from ..regions import Region
from ..results import ControlScore
from .answer_scores import ndcg, path_match
from .base import ControlItem, MetricSpec, Params
from .edit_distance import char_errors, text_similarity, word_errors

__all__ = ["AnswerFamily", "answer_of"]

_SHOWN = 60


class Scored(NamedTuple):
    """One task's score (None: not scorable), the numerator and denominator of a corpus rate, and why."""

    score: float | None
    num: float = 0.0
    den: float = 0.0
    detail: str = ""


@dataclass
class AnswerState:
    """Per-task scores and rate terms, in task order; merged by concatenation."""

    scores: list[float | None] = field(default_factory=list)
    num: list[float] = field(default_factory=list)
    den: list[float] = field(default_factory=list)


def merge_answer_states(states: Sequence[AnswerState]) -> AnswerState:
    """Concatenate per-task (or per-unit) lists, in task order, so shards sum like a serial run."""
    merged = AnswerState()
    for s in states:
        merged.scores += s.scores
        merged.num += s.num
        merged.den += s.den
    return merged


def answer_aggregate(metric: MetricSpec, state: AnswerState) -> dict[str, float | int | None]:
    """The mean score; for cer/wer the corpus rate (as jiwer) and the mean; for abs_error mae, max and unscored."""
    name = metric.name.lower()
    scored = [s for s in state.scores if s is not None]
    mean = sum(scored) / len(scored) if scored else None
    if name in ("cer", "wer"):
        total = sum(state.den)
        return {name: sum(state.num) / total if total else None, f"{name}_mean": mean}
    if name == "abs_error":
        return {"mae": mean, "max_abs_error": max(scored) if scored else None, "unscored_tasks": len(state.scores) - len(scored)}
    return {metric.headline: mean}


def answer_of(kind: str, regions: Sequence[Region]) -> Any:
    """The answer of one control in one task, from its regions in file order."""
    if kind == "textarea":
        return "\n".join(text for r in regions for text in r.geometry)
    if kind == "taxonomy":
        return frozenset(path for r in regions for path in r.geometry)
    if kind == "ranker":
        lists: dict[str, tuple[str, ...]] = {}
        for r in regions:
            for name, ids in r.geometry:
                if name != "_" and ids:
                    lists[name] = lists.get(name, ()) + ids
        return lists
    return tuple(r.geometry for r in regions)


def _show(kind: str, answer: Any) -> str:
    if kind == "textarea":
        return repr(answer if len(answer) <= _SHOWN else answer[: _SHOWN - 3] + "...")
    if kind == "taxonomy":
        text = ", ".join(sorted("/".join(p) for p in answer))
    elif kind == "ranker":
        text = "; ".join(f"{name + ': ' if name else ''}{', '.join(ids)}" for name, ids in answer.items())
    elif kind == "datetime":
        text = ", ".join(raw for raw, _ in answer)
    else:
        text = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in answer)
    return (text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...") if text else "nothing"


def _exact(kind: str, g: Any, p: Any) -> Scored:
    if kind == "datetime":
        same = len(g) == len(p) and all(
            (gs == ps) if gs is not None and ps is not None else (graw == praw) for (graw, gs), (praw, ps) in zip(g, p)
        )
        return Scored(float(same))
    return Scored(float(g == p))


def _rate(errors: tuple[int, int], unit: str) -> Scored:
    edits, length = errors
    score = edits / length if length else (0.0 if edits == 0 else 1.0)
    return Scored(score, edits, length, f"{edits} {unit} edit{'s' if edits != 1 else ''}")


def _numbers(kind: str, regions: Sequence[Region], where: str) -> list[float]:
    if kind != "datetime":
        return [r.geometry for r in regions]
    out = []
    for r in regions:
        raw, seconds = r.geometry
        if seconds is None:
            raise InputError(
                f"{where}: result {r.id!r}: value.datetime {raw!r:.40} is not an ISO 8601 date or time; "
                "abs_error needs one (exact_match compares the text)"
            )
        out.append(seconds)
    return out


def _abs_error(kind: str, item: ControlItem) -> Scored:
    g, p = _numbers(kind, item.gt, f"{item.where}: ground truth"), _numbers(kind, item.pred, f"{item.where}: prediction")
    if len(g) != len(p):
        missing = "no prediction" if not p else ("no ground truth" if not g else f"{len(p)} predicted values for {len(g)}")
        return Scored(None, detail=f"{missing}: not scorable, the task fails")
    error = max((abs(a - b) for a, b in zip(g, p)), default=0.0)
    unit = " s" if kind == "datetime" else ""
    return Scored(error, detail=f"error {error:g}{unit}")


# metric name -> scorer of (kind, item, gt answer, pred answer)
_SCORERS: dict[str, Callable[[str, ControlItem, Any, Any], Scored]] = {
    "exact_match": lambda kind, item, g, p: _exact(kind, g, p),
    "accuracy": lambda kind, item, g, p: _exact(kind, g, p),
    "text_similarity": lambda kind, item, g, p: Scored(text_similarity(g, p)),
    "cer": lambda kind, item, g, p: _rate(char_errors(g, p), "character"),
    "wer": lambda kind, item, g, p: _rate(word_errors(g, p), "word"),
    "abs_error": lambda kind, item, g, p: _abs_error(kind, item),
    "path_match": lambda kind, item, g, p: Scored(path_match(g, p)),
    "ndcg": lambda kind, item, g, p: Scored(ndcg(g, p)),
}


class AnswerFamily:
    """Scores one kind of per-task answer control."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], AnswerState]:
        """Score each task's answer."""
        scorer = _SCORERS[metric.name.lower()]
        state = AnswerState()
        out = []
        for item in items:
            g, p = answer_of(self.kind, item.gt), answer_of(self.kind, item.pred)
            s = scorer(self.kind, item, g, p)
            state.scores.append(s.score)
            state.num.append(s.num)
            state.den.append(s.den)
            reasons: tuple[str, ...] = ()
            if s.score is None or not metric.passes(s.score, params.threshold):
                detail = f" ({s.detail})" if s.detail else ""
                reasons = (f"expected {_show(self.kind, g)}, got {_show(self.kind, p)}{detail}",)
            out.append(ControlScore("", self.kind, s.score, {}, (), reasons))
        return out, state

    def merge(self, states: Sequence[AnswerState]) -> AnswerState:
        """Concatenate the per-task lists, in task order."""
        return merge_answer_states(states)

    def compute(self, metric: MetricSpec, state: AnswerState) -> tuple[dict, dict]:
        """Dataset values: the mean task score; corpus rates for cer/wer; mae and unscored tasks for abs_error."""
        return answer_aggregate(metric, state), {}
