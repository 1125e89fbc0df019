"""Class scores, logits or names -> a ``choices`` result (top-1, or multi-label by a threshold)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Context, Converter, LabelMap, resolve_labels
from ._errors import ConverterError
from ._inputs import to_numpy

__all__ = ["ChoicesConverter"]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # the two branches avoid overflow in exp for large |z|
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


class ChoicesConverter(Converter):
    """Convert a classifier's output to a Label Studio prediction with one ``choices`` result.

    Parameters
    ----------
    output : array-like of shape (c,), str, or sequence of str
        Class scores (probabilities, or logits with ``logits=True``), one per class in
        ``label_map`` order; or the chosen label name(s) directly.
    label_map : list or dict, optional
        Class index -> choice name. Required for scores.
    multi_label : bool, default=False
        Choose every class whose probability is ``>= threshold`` instead of the top one.
    threshold : float, default=0.5
        The multi-label cut.
    logits : bool, default=False
        Scores are logits: softmax for top-1, sigmoid per class for multi-label.
    score : float, optional
        Region score when choices are given by name (default 1.0).

    Notes
    -----
    The result ``score`` is the top class's probability, or the mean probability of the chosen
    classes (multi-label). A multi-label output with no class over the threshold gives a
    prediction with no result (the model chose nothing). Choice names are checked against the
    labeling config when one is given.

    Examples
    --------
    >>> task = {"id": 6, "annotations": [{"result": [{"from_name": "sentiment", "to_name": "text",
    ...     "type": "choices", "value": {"choices": ["Positive"]}}]}]}
    >>> [pred] = ChoicesConverter([0.1, 0.7, 0.2], label_map=["Negative", "Positive", "Neutral"]).from_task(task)
    >>> pred["result"][0]["value"], pred["result"][0]["score"]
    ({'choices': ['Positive']}, 0.7)
    >>> [pred] = ChoicesConverter([3.0, -1.0, 0.5], label_map=["A", "B", "C"], multi_label=True, logits=True).from_task(task)
    >>> pred["result"][0]["value"]
    {'choices': ['A', 'C']}
    """

    kind = "choices"

    def __init__(
        self,
        output: Any,
        *,
        label_map: LabelMap | None = None,
        multi_label: bool = False,
        threshold: float = 0.5,
        logits: bool = False,
        score: float | None = None,
    ) -> None:
        super().__init__(None, None, label_map)
        self.multi_label, self.threshold, self.logits = bool(multi_label), float(threshold), bool(logits)
        self.names: list[str] | None = None
        self.probs: np.ndarray | None = None
        if isinstance(output, str) or (
            isinstance(output, (list, tuple)) and output and all(isinstance(o, str) for o in output)
        ):
            self.names = [output] if isinstance(output, str) else list(output)
            self.given_score = 1.0 if score is None else float(score)
            return
        arr = to_numpy(output, "output").astype(np.float64)
        if arr.ndim == 2 and arr.shape[0] == 1:
            arr = arr[0]  # a batch of one
        if arr.ndim != 1 or arr.size == 0:
            raise ConverterError(f"ChoicesConverter: class scores must have shape (c,), got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ConverterError("ChoicesConverter: class scores must be finite")
        if label_map is None:
            raise ConverterError("ChoicesConverter: class scores need label_map= (the choice name of each column)")
        if len(label_map) != arr.size:
            raise ConverterError(f"ChoicesConverter: {arr.size} class scores but label_map has {len(label_map)} names")
        self.probs = arr

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        if self.names is not None:
            names = resolve_labels(self.names, len(self.names), self.label_map, ctx.target, ctx.where)
            return [{}], [names], np.array([self.given_score])
        assert self.probs is not None
        if self.multi_label:
            p = _sigmoid(self.probs) if self.logits else self.probs
            chosen = np.flatnonzero(p >= self.threshold)
            if chosen.size == 0:
                return [], [], np.zeros(0)
            score = float(p[chosen].mean())
        else:
            p = _softmax(self.probs) if self.logits else self.probs
            chosen = np.array([int(np.argmax(p))])
            score = float(p[chosen[0]])
        names = resolve_labels(chosen.tolist(), chosen.size, self.label_map, ctx.target, ctx.where)
        return [{}], [names], np.array([score])
