"""Polygons (lists of n x 2 point arrays, pixels or normalized) -> ``polygonlabels``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Context, Converter, LabelMap, check_finite, looks_normalized, resolve_labels, resolve_scores
from ._errors import ConverterError
from ._inputs import float_array, to_numpy

__all__ = ["PolygonConverter"]


def _polygon_list(polygons: Any) -> list[np.ndarray]:
    """Each polygon as an (k, 2) float array; accepts (n, k, 2) arrays, lists of arrays or flat [x1, y1, ...] lists."""
    if isinstance(polygons, (list, tuple)):
        items = list(polygons)
    else:
        arr = to_numpy(polygons, "polygons")
        items = [] if arr.size == 0 else list(arr) if arr.ndim == 3 else [arr]
    out = []
    for i, p in enumerate(items):
        a = float_array(p, f"polygons[{i}]")
        if a.ndim == 1 and a.size % 2 == 0:
            a = a.reshape(-1, 2)  # COCO segmentation style: [x1, y1, x2, y2, ...]
        if a.ndim != 2 or a.shape[1] != 2:
            raise ConverterError(f"PolygonConverter: polygons[{i}] must have shape (k, 2), got {a.shape}")
        out.append(a)
    return out


class PolygonConverter(Converter):
    """Convert polygons to a Label Studio prediction of ``polygonlabels`` regions.

    Parameters
    ----------
    polygons : sequence of array-like (k, 2), or array-like (n, k, 2)
        One ring of points per region, in pixels (or fractions of the image size with
        ``normalized=True``); a flat ``[x1, y1, x2, y2, ...]`` list (COCO segmentation) also works.
        The ring is open: do not repeat the first point (a repeated last point is dropped).
    labels, scores, label_map
        As for :class:`BboxConverter`.
    normalized : bool, default=False
        Points are fractions (0-1) of the image width and height (ultralytics ``masks.xyn``).

    Notes
    -----
    Points are written in percent of the image (``[x / original_width * 100, y / original_height * 100]``)
    with ``closed: true``. Each polygon needs at least 3 distinct points and finite coordinates.

    Examples
    --------
    >>> task = {"id": 3, "annotations": [{"result": [{"from_name": "seg", "to_name": "image",
    ...     "type": "polygonlabels", "original_width": 100, "original_height": 50,
    ...     "value": {"points": [[0, 0], [10, 0], [10, 10]], "polygonlabels": ["Roof"]}}]}]}
    >>> [pred] = PolygonConverter([[[10, 5], [50, 5], [50, 25]]]).from_task(task)
    >>> pred["result"][0]["value"]
    {'points': [[10.0, 10.0], [50.0, 10.0], [50.0, 50.0]], 'closed': True, 'polygonlabels': ['Roof']}
    """

    kind = "polygon"

    def __init__(
        self,
        polygons: Any,
        labels: Any = None,
        scores: Any = None,
        *,
        normalized: bool = False,
        label_map: LabelMap | None = None,
    ) -> None:
        super().__init__(labels, scores, label_map)
        self.polygons, self.normalized = _polygon_list(polygons), bool(normalized)

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        n = len(self.polygons)
        labels = resolve_labels(self.labels, n, self.label_map, ctx.target, ctx.where)
        scores = resolve_scores(self.scores, n, ctx.where)
        size = ctx.image_size(required=not self.normalized)
        divisor = np.array([1.0, 1.0]) if self.normalized else np.asarray(size, dtype=np.float64)
        values = []
        for i, poly in enumerate(self.polygons):
            where = f"{ctx.where}: polygons[{i}]"
            check_finite(poly, where, "points")
            if len(poly) > 1 and np.array_equal(poly[0], poly[-1]):
                poly = poly[:-1]  # Label Studio rings are open; a closing duplicate would be a zero-length edge
            if len(np.unique(poly, axis=0)) < 3:
                raise ConverterError(f"{where}: a polygon needs at least 3 distinct points, got {len(poly)}")
            if self.normalized and np.abs(poly).max() > 1.5:
                raise ConverterError(f"{where}: normalized=True but the points reach {np.abs(poly).max():g}: pixels?")
            if not self.normalized and looks_normalized(poly, size):
                raise ConverterError(f"{where}: every point lies in [0, 1]: pass normalized=True")
            points = poly * 100.0 / divisor
            values.append({"points": points.tolist(), "closed": True})
        return values, labels, scores
