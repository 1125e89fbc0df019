"""Text entities (start, end, label[, score]) -> ``labels`` spans, with Python -> UTF-16 offsets.

Label Studio counts text offsets in JavaScript string units, UTF-16 code units: a character
outside the Basic Multilingual Plane (most emoji, some CJK) counts 2. Python counts code points.
Both agree until the first such character; after it every offset shifts.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._base import Context, Converter, LabelMap, resolve_labels, resolve_scores
from ._errors import ConverterError
from ._inputs import to_numpy
from .task_info import task_text

__all__ = ["SpanConverter", "to_utf16_offsets", "from_utf16_offsets"]

_LABEL_KEYS = ("label", "entity_group", "entity", "labels")


def _astral_before(text: str) -> np.ndarray:
    """(len(text) + 1,) number of astral characters before each code point position."""
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return np.concatenate(([0], np.cumsum(cp > 0xFFFF)))


def to_utf16_offsets(text: str, offsets: Any) -> np.ndarray:
    """Python (code point) offsets into ``text`` -> the UTF-16 offsets Label Studio stores.

    >>> to_utf16_offsets("🐍 is Python", [5, 11]).tolist()
    [6, 12]
    """
    off = np.asarray(offsets, dtype=np.int64)
    if off.size and (off.min() < 0 or off.max() > len(text)):
        raise ConverterError(
            f"offsets must lie in 0..{len(text)} (the text length in code points), got {off.min()}..{off.max()}"
        )
    return off + _astral_before(text)[off]


def from_utf16_offsets(text: str, offsets: Any) -> np.ndarray:
    """Label Studio's UTF-16 offsets into ``text`` -> Python (code point) offsets.

    >>> from_utf16_offsets("🐍 is Python", [6, 12]).tolist()
    [5, 11]
    """
    off = np.asarray(offsets, dtype=np.int64)
    boundaries = np.arange(len(text) + 1) + _astral_before(text)  # UTF-16 position of each code point boundary
    idx = np.searchsorted(boundaries, off)
    inside = (idx > len(text)) | (boundaries[np.minimum(idx, len(text))] != off)
    if inside.any():
        bad = int(off.ravel()[np.flatnonzero(inside.ravel())[0]])
        raise ConverterError(f"UTF-16 offset {bad} is past the end of the text or splits a surrogate pair (one emoji)")
    return idx


def _entities(entities: Any) -> tuple[np.ndarray, list[Any], np.ndarray | None]:
    """(n, 2) int offsets, labels, and scores (None when no entity has one)."""
    if isinstance(entities, (list, tuple)):
        rows = list(entities)
    else:
        arr = to_numpy(entities, "entities")
        rows = [] if arr.size == 0 else arr.tolist()
    spans, labels, scores = [], [], []
    for i, e in enumerate(rows):
        if isinstance(e, dict):
            key = next((k for k in _LABEL_KEYS if k in e), None)
            if "start" not in e or "end" not in e or key is None:
                raise ConverterError(
                    f"SpanConverter: entities[{i}] needs start, end and a label ({'/'.join(_LABEL_KEYS)})"
                )
            label = e[key][0] if isinstance(e[key], list) and len(e[key]) == 1 else e[key]
            start, end, score = e["start"], e["end"], e.get("score")
        elif isinstance(e, (list, tuple)) and len(e) in (3, 4):
            start, end, label = e[:3]
            score = e[3] if len(e) == 4 else None
        else:
            raise ConverterError(
                f"SpanConverter: entities[{i}] must be (start, end, label[, score]) or a dict, got {e!r:.60}"
            )
        if isinstance(label, float) and label.is_integer():
            label = int(label)
        try:
            spans.append((int(start), int(end)))
        except (TypeError, ValueError):
            raise ConverterError(
                f"SpanConverter: entities[{i}]: start and end must be integers, got {start!r}, {end!r}"
            ) from None
        if float(start) != int(start) or float(end) != int(end):
            raise ConverterError(
                f"SpanConverter: entities[{i}]: start and end must be integers, got {start!r}, {end!r}"
            )
        labels.append(label)
        scores.append(score)
    have = [s is not None for s in scores]
    if any(have) and not all(have):
        raise ConverterError("SpanConverter: some entities have a score and some do not")
    return (
        np.asarray(spans, dtype=np.int64).reshape(-1, 2),
        labels,
        (np.asarray(scores, dtype=np.float64) if all(have) and scores else None),
    )


class SpanConverter(Converter):
    """Convert text entities to a Label Studio prediction of ``labels`` spans.

    Parameters
    ----------
    entities : sequence
        ``(start, end, label)`` or ``(start, end, label, score)`` tuples, or dicts with ``start``,
        ``end``, a label under ``label``, ``entity_group`` or ``entity`` (Hugging Face pipeline
        output) and an optional ``score``. ``end`` is exclusive. Labels are names, or class ids
        with ``label_map``.
    label_map : list or dict, optional
        Class id -> label name; a dict may also rename labels (e.g. ``{"PER": "Person"}``).
    offsets : {"codepoints", "utf16"}, default="codepoints"
        ``codepoints``: Python string indices, converted to UTF-16 with the task's text (which
        must be in the task data). ``utf16``: already in Label Studio's units.

    Notes
    -----
    Each region's value is ``{"start", "end", "text", "labels"}`` with UTF-16 offsets; ``text``
    is the covered text when the task data holds it. Spans must be non-empty and inside the text.

    Examples
    --------
    >>> task = {"id": 7, "data": {"text": "🐍 is Python"}, "annotations": [{"result": [
    ...     {"from_name": "ner", "to_name": "text", "type": "labels",
    ...      "value": {"start": 6, "end": 12, "labels": ["LANG"]}}]}]}
    >>> [pred] = SpanConverter([(5, 11, "LANG", 0.98)]).from_task(task)
    >>> pred["result"][0]["value"]
    {'start': 6, 'end': 12, 'text': 'Python', 'labels': ['LANG']}
    """

    kind = "span"

    def __init__(
        self,
        entities: Any,
        *,
        label_map: LabelMap | None = None,
        offsets: Literal["codepoints", "utf16"] = "codepoints",
    ) -> None:
        if offsets not in ("codepoints", "utf16"):
            raise ConverterError(f"SpanConverter: offsets must be 'codepoints' or 'utf16'; got {offsets!r}")
        spans, labels, scores = _entities(entities)
        super().__init__(labels, scores, label_map)
        self.spans, self.offsets = spans, offsets

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        n = len(self.spans)
        labels = resolve_labels(self.labels if n else None, n, self.label_map, ctx.target, ctx.where)
        scores = resolve_scores(self.scores, n, ctx.where)
        text = task_text(ctx.task, ctx.target)
        empty = np.flatnonzero(self.spans[:, 1] <= self.spans[:, 0]) if n else np.zeros(0, dtype=int)
        if empty.size:
            s, e = self.spans[empty[0]]
            raise ConverterError(f"{ctx.where}: region {int(empty[0])}: end must be > start, got start={s}, end={e}")
        if text is None:
            if self.offsets == "codepoints" and n:
                raise ConverterError(
                    f"{ctx.where}: the task data holds no text for {ctx.target.to_name!r}, so Python offsets cannot "
                    "be converted to UTF-16; pass offsets='utf16' if they already are"
                )
            utf16, cps = self.spans, None
        else:
            limit = len(text) if self.offsets == "codepoints" else int(_astral_before(text)[-1]) + len(text)
            over = np.flatnonzero(self.spans.max(axis=1) > limit) if n else np.zeros(0, dtype=int)
            if over.size or (n and self.spans.min() < 0):
                i = int(over[0]) if over.size else int(np.flatnonzero(self.spans.min(axis=1) < 0)[0])
                raise ConverterError(
                    f"{ctx.where}: region {i}: span {self.spans[i].tolist()} is outside the text (length {limit} in {self.offsets})"
                )
            try:
                if self.offsets == "codepoints":
                    cps, utf16 = self.spans, to_utf16_offsets(text, self.spans)
                else:
                    utf16, cps = self.spans, from_utf16_offsets(text, self.spans)
            except ConverterError as e:
                raise ConverterError(f"{ctx.where}: {e}") from None
        values = []
        for i, (start, end) in enumerate(utf16.tolist()):
            value: dict[str, Any] = {"start": start, "end": end}
            if cps is not None:
                value["text"] = text[cps[i, 0] : cps[i, 1]]
            values.append(value)
        return values, labels, scores
