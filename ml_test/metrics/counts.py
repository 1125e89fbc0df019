"""Precision, recall and F1 from TP/FP/FN counts, averaged as scikit-learn does.

``precision = tp / (tp + fp)``, ``recall = tp / (tp + fn)``, ``f1 = 2 tp / (2 tp + fp + fn)``
(scikit-learn's ``precision_recall_fscore_support`` with ``zero_division=0``): a zero
denominator gives 0. ``micro`` sums the counts over labels first; ``macro`` is the plain mean of
the per-label values over every label seen on either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LabelCounts", "prf", "prf_task"]


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 arrays from count arrays (zero division gives 0)."""
    tp, fp, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn))
    pred_sum, true_sum = tp + fp, tp + fn
    return _divide(tp, pred_sum), _divide(tp, true_sum), _divide(2 * tp, true_sum + pred_sum)


def prf_task(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Per-task precision, recall, F1: both sides empty is a perfect 1.0, one side empty is 0."""
    if tp + fp + fn == 0:
        return 1.0, 1.0, 1.0
    p, r, f = prf(np.array(tp), np.array(fp), np.array(fn))
    return float(p), float(r), float(f)


@dataclass
class LabelCounts:
    """TP/FP/FN per label, mergeable by addition."""

    tp: dict[str, int] = field(default_factory=dict)
    fp: dict[str, int] = field(default_factory=dict)
    fn: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        """Add counts for one label."""
        for store, n in ((self.tp, tp), (self.fp, fp), (self.fn, fn)):
            store[label] = store.get(label, 0) + int(n)

    def merge(self, other: "LabelCounts") -> "LabelCounts":
        """A new state with both states' counts."""
        out = LabelCounts(dict(self.tp), dict(self.fp), dict(self.fn))
        for label in other.labels():
            out.add(label, other.tp.get(label, 0), other.fp.get(label, 0), other.fn.get(label, 0))
        return out

    def labels(self) -> list[str]:
        """Every label seen on either side, sorted."""
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def arrays(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Labels and their tp, fp, fn count arrays."""
        labels = self.labels()
        get = lambda d: np.array([d.get(k, 0) for k in labels], dtype=np.float64)  # noqa: E731
        return labels, get(self.tp), get(self.fp), get(self.fn)

    def aggregate(self) -> tuple[dict[str, float | None], dict[str, dict[str, float | None]]]:
        """Micro and macro precision/recall/F1, and per-label values with support."""
        labels, tp, fp, fn = self.arrays()
        if not labels:
            empty = {f"{m}_{a}": None for a in ("micro", "macro") for m in ("precision", "recall", "f1")}
            return empty, {}
        p, r, f = prf(tp, fp, fn)
        mp, mr, mf = prf(tp.sum(), fp.sum(), fn.sum())
        aggregate = {
            "precision_micro": float(mp),
            "recall_micro": float(mr),
            "f1_micro": float(mf),
            "precision_macro": float(np.mean(p)),
            "recall_macro": float(np.mean(r)),
            "f1_macro": float(np.mean(f)),
        }
        per_label = {
            k: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(tp[i] + fn[i])}
            for i, k in enumerate(labels)
        }
        return aggregate, per_label
