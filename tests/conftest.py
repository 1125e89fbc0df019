"""Shared builders of Label Studio tasks for the tests."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_ids = itertools.count(1)


def rect(x, y, w, h, label, score=None, size=(640, 480), rotation=0.0, from_name="label", rid=None):
    """A rectanglelabels result in percent units."""
    r = {
        "id": rid or f"r{next(_ids)}",
        "from_name": from_name,
        "to_name": "image",
        "type": "rectanglelabels",
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation, "rectanglelabels": [label]},
    }
    if size is not None:
        r["original_width"], r["original_height"] = size
    if score is not None:
        r["score"] = score
    return r


def task(tid, gt, pred=None, **extra):
    """A task with one annotation and (unless pred is None) one prediction."""
    t = {"id": tid, "data": {}, "annotations": [{"id": tid, "result": list(gt)}], **extra}
    t["predictions"] = [] if pred is None else [{"id": tid, "model_version": "m", "result": list(pred)}]
    return t


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real exports; tests using it skip where it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS
