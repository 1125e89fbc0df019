"""label-studio-ml-test: ML unit tests whose ground truth lives in Label Studio.

>>> from ml_test import evaluate
>>> report = evaluate("examples/detection.json", metric="mAP", threshold=0.5)  # doctest: +SKIP
"""

from __future__ import annotations

from .assertions import assert_prediction
from .converters import (
    BboxConverter,
    ChoicesConverter,
    ConverterError,
    KeypointConverter,
    MaskConverter,
    PolygonConverter,
    RotatedBboxConverter,
    SpanConverter,
    from_utf16_offsets,
    predictions_from,
    to_utf16_offsets,
)
from .engine import evaluate, parse_image_size
from .errors import InputError, MLTestError, MLTestWarning, UsageError
from .metrics import REGISTRY as METRICS
from .results import ControlScore, RegionOutcome, Report, TaskResult
from .tasks import Task, load_tasks

__version__ = "0.1.0"

__all__ = [
    "evaluate",
    "assert_prediction",
    "BboxConverter",
    "RotatedBboxConverter",
    "PolygonConverter",
    "MaskConverter",
    "KeypointConverter",
    "ChoicesConverter",
    "SpanConverter",
    "predictions_from",
    "to_utf16_offsets",
    "from_utf16_offsets",
    "ConverterError",
    "load_tasks",
    "parse_image_size",
    "Report",
    "TaskResult",
    "ControlScore",
    "RegionOutcome",
    "Task",
    "METRICS",
    "MLTestError",
    "InputError",
    "UsageError",
    "MLTestWarning",
    "__version__",
]
