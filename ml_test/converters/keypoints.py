"""Keypoints (points, or instances x keypoints with a score column) -> ``keypointlabels``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Context, Converter, LabelMap, check_finite, looks_normalized, resolve_labels, resolve_scores
from ._errors import ConverterError
from ._inputs import float_array, to_numpy

__all__ = ["KeypointConverter"]


class KeypointConverter(Converter):
    """Convert keypoints to a Label Studio prediction of ``keypointlabels`` regions (one per point).

    Parameters
    ----------
    keypoints : array-like of shape (n, 2 or 3) or (n, k, 2 or 3)
        Single points, or ``n`` instances of ``k`` keypoints (pose models: COCO's 17, ultralytics
        ``keypoints.data``, detectron2 ``pred_keypoints``). A third column is the point's score
        (or COCO visibility); points whose score is ``<= min_score`` are left out.
    labels : sequence, optional
        One per point for ``(n, 2|3)``; one per keypoint index (length ``k``) for ``(n, k, 2|3)``.
        Default for ``(n, k, ...)``: the keypoint index, mapped through ``label_map`` (keypoint names).
    scores : array-like, optional
        Per point (``(n,)`` or ``(n, k)``), or per instance for ``(n, k, ...)``; the score column wins.
    normalized : bool, default=False
        Coordinates are fractions (0-1) of the image size.
    label_map : list or dict, optional
        Class or keypoint index -> label name.
    min_score : float, default=0.0
        Points with a score column value ``<= min_score`` are dropped (COCO visibility 0 = not labelled).
    point_size : float, default=0.5
        The drawn radius in percent of the image width (Label Studio's ``value.width``; display only).

    Notes
    -----
    ``x, y`` are written in percent of the image size. Label Studio keypoints have no extent,
    so they are compared by distance (in pixels: keep ``original_width/height``).

    Examples
    --------
    >>> task = {"id": 5, "annotations": [{"result": [{"from_name": "kp", "to_name": "image",
    ...     "type": "keypointlabels", "original_width": 200, "original_height": 100,
    ...     "value": {"x": 1, "y": 1, "width": 0.5, "keypointlabels": ["Nose"]}}]}]}
    >>> [pred] = KeypointConverter([[[50, 20, 0.9], [0, 0, 0.0]]], label_map=["Nose", "Eye"]).from_task(task)
    >>> [(r["value"]["x"], r["value"]["y"], r["value"]["keypointlabels"], r["score"]) for r in pred["result"]]
    [(25.0, 20.0, ['Nose'], 0.9)]
    """

    kind = "keypoint"

    def __init__(
        self,
        keypoints: Any,
        labels: Any = None,
        scores: Any = None,
        *,
        normalized: bool = False,
        label_map: LabelMap | None = None,
        min_score: float = 0.0,
        point_size: float = 0.5,
    ) -> None:
        super().__init__(labels, scores, label_map)
        kp = float_array(keypoints, "keypoints")
        if kp.size == 0:
            kp = kp.reshape(0, 2)
        if kp.ndim not in (2, 3) or kp.shape[-1] not in (2, 3):
            raise ConverterError(
                f"KeypointConverter: keypoints must have shape (n, 2|3) or (n, k, 2|3), got {kp.shape}"
            )
        self.grouped = kp.ndim == 3
        self.keypoints, self.normalized = kp, bool(normalized)
        self.min_score, self.point_size = float(min_score), float(point_size)

    def _flat(self, ctx: Context) -> tuple[np.ndarray, list[Any] | None, np.ndarray]:
        """(m, 2) points, their raw labels and scores, before dropping low-score points."""
        kp = self.keypoints
        lead = kp.shape[:-1]  # (n,) or (n, k)
        if kp.shape[-1] == 3:
            score = kp[..., 2]
        elif self.scores is None:
            score = np.ones(lead)
        else:
            raw = to_numpy(self.scores, "scores").astype(np.float64)
            try:
                score = np.broadcast_to(raw.reshape(raw.shape + (1,) * (len(lead) - raw.ndim)), lead)
            except ValueError:
                raise ConverterError(
                    f"{ctx.where}: scores of shape {raw.shape} do not fit keypoints of shape {kp.shape}"
                ) from None
        labels = self.labels
        if self.grouped:
            k = kp.shape[1]
            if labels is None and self.label_map is not None:
                labels = list(range(k))
            if labels is not None:
                per_kp = labels if isinstance(labels, (list, tuple)) else to_numpy(labels, "labels").tolist()
                if len(per_kp) != k:
                    raise ConverterError(f"{ctx.where}: got {len(per_kp)} labels for {k} keypoints per instance")
                labels = list(per_kp) * kp.shape[0]
        elif labels is not None and not isinstance(labels, (list, tuple, str)):
            labels = to_numpy(labels, "labels").tolist()
        return kp[..., :2].reshape(-1, 2), labels, np.asarray(score, dtype=np.float64).reshape(-1)

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        points, raw_labels, score = self._flat(ctx)
        check_finite(points, ctx.where, "keypoints")
        keep = score > self.min_score if self.keypoints.shape[-1] == 3 else np.ones(len(points), dtype=bool)
        if raw_labels is not None and not isinstance(raw_labels, str) and len(raw_labels) == len(points):
            raw_labels = [lab for lab, k in zip(raw_labels, keep) if k]
        points, score = points[keep], score[keep]
        labels = resolve_labels(raw_labels, len(points), self.label_map, ctx.target, ctx.where)
        scores = resolve_scores(score, len(points), ctx.where)
        size = ctx.image_size(required=not self.normalized)
        if self.normalized:
            pct = points * 100.0
        else:
            if looks_normalized(points, size):
                raise ConverterError(f"{ctx.where}: every keypoint lies in [0, 1]: pass normalized=True")
            pct = points * 100.0 / np.asarray(size, dtype=np.float64)
        values = [{"x": float(x), "y": float(y), "width": self.point_size} for x, y in pct]
        return values, labels, scores
