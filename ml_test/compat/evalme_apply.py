"""evalme's ``Metrics.apply`` on two result lists: per control, symmetric minimum, weighted mean, clip.

Reproduces evalme/metrics.py ``Metrics.apply`` (list inputs) on master:

- both result lists empty: 1.0 (``{}`` per label), before anything else;
- every control (``from_name``) found on either side is scored on its own results, but only
  when the metric's tag is that control's type or ``all`` (choices/textarea carrying geometry
  get a ``[per_region=...]`` suffix and so match no plain tag); other controls are skipped;
- symmetric: ``min(f(a, b), f(b, a))`` (per label: the minimum per label, a label on one side
  only keeps its value);
- the task score is Σ score·w / Σ w over scored controls with ``w =
  control_weights[control]["overall"]`` (default 1), clipped to [0, 1]; 0 when no control was
  scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from .evalme import EvalmeMetric, Score

__all__ = ["ControlResult", "control_type", "score_controls", "combine", "apply"]


@dataclass(frozen=True, slots=True)
class ControlResult:
    """One control of one task pair: its evalme type, weight and score (None when evalme skips it)."""

    control: str
    type: str
    weight: float
    score: Score | None


def control_type(result: dict) -> str:
    """evalme ``Metrics.get_type``: ``type``, plus ``[per_region=span|bbox|poly]`` for choices/textarea on a region."""
    t = str(result.get("type"))
    value = result.get("value") if isinstance(result.get("value"), dict) else {}
    if t in ("choices", "textarea"):
        if "start" in value and "end" in value:
            t += "[per_region=span]"
        elif "x" in value and "y" in value:
            t += "[per_region=bbox]"
        elif "points" in value:
            t += "[per_region=poly]"
    return t


def _symmetric(a: Score, b: Score, per_label: bool) -> Score:
    if not per_label:
        return min(a, b)
    assert isinstance(a, dict) and isinstance(b, dict)
    return {k: min(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in {**a, **b}}


def score_controls(
    first: Sequence[dict],
    second: Sequence[dict],
    metric: EvalmeMetric,
    *,
    symmetric: bool = True,
    per_label: bool = False,
    iou_threshold: float | None = None,
    control_weights: Mapping[str, Mapping] | None = None,
) -> list[ControlResult]:
    """Each control's evalme score for this pair, in order of first appearance (``first`` then ``second``)."""
    types: dict[str, str] = {}
    for r in (*first, *second):
        if "from_name" in r:  # evalme skips results without a control (relations)
            types[str(r["from_name"])] = control_type(r)
    weights = control_weights or {}
    out = []
    for control, ctype in types.items():
        cw = weights.get(control) or {}
        overall = float(cw.get("overall", 1))
        if metric.tag not in (ctype, "all") or overall == 0:
            out.append(ControlResult(control, ctype, overall, None))
            continue
        kwargs: dict = {"label_weights": cw.get("labels"), "per_label": per_label}
        if iou_threshold:  # evalme passes it only when truthy: 0 is silently dropped
            kwargs["iou_threshold"] = iou_threshold
        a = [r for r in first if str(r.get("from_name")) == control and "from_name" in r]
        b = [r for r in second if str(r.get("from_name")) == control and "from_name" in r]
        s = metric.func(a, b, **kwargs)
        if symmetric:
            s = _symmetric(s, metric.func(b, a, **kwargs), per_label)
        out.append(ControlResult(control, ctype, overall, s))
    return out


def _clip(s: float) -> float:
    # evalme logs a warning and clips (label weights can push a score past 1)
    return 0.0 if s < 0 else 1.0 if s > 1 else s


def combine(controls: Sequence[ControlResult], *, per_label: bool = False) -> Score:
    """Σ score·w / Σ w over the scored controls, clipped to [0, 1]; 0 (``{}``) when none was scored."""
    scored = [c for c in controls if c.score is not None]
    if per_label:
        total: dict[str, float] = {}
        n: dict[str, float] = {}
        for c in scored:
            assert isinstance(c.score, dict)
            for label, v in c.score.items():
                total[label] = total.get(label, 0.0) + v * c.weight
                n[label] = n.get(label, 0.0) + c.weight
        return {label: _clip(total[label] / n[label] if n[label] > 0 else 0.0) for label in total}
    n_total = sum(c.weight for c in scored)
    return _clip(sum(c.score * c.weight for c in scored) / n_total if n_total > 0 else 0.0)  # type: ignore[operator]


def apply(
    first: Sequence[dict],
    second: Sequence[dict],
    metric: EvalmeMetric,
    *,
    symmetric: bool = True,
    per_label: bool = False,
    iou_threshold: float | None = None,
    control_weights: Mapping[str, Mapping] | None = None,
) -> Score:
    """evalme ``Metrics.apply(project, first, second, ...)`` for result lists; see the module docstring."""
    if not first and not second:
        return {} if per_label else 1.0
    controls = score_controls(first, second, metric, symmetric=symmetric, per_label=per_label,
                              iou_threshold=iou_threshold, control_weights=control_weights)  # fmt: skip
    return combine(controls, per_label=per_label)
