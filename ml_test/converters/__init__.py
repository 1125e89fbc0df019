"""Model outputs -> Label Studio predictions: ``task["predictions"] = BboxConverter(boxes).from_task(task)``.

Every converter takes the model's arrays (numpy, lists, torch tensors, anything with
``__array__``), reads from the task where its regions go (control names, labels, image size),
and returns a list holding one prediction in Label Studio's conventions: percent coordinates,
top-left origin, rotation about the top-left corner in pixel space, brush RLE at 255, UTF-16 text
offsets. ``predictions_from`` does the same for whole detectron2, torchvision, ultralytics and
supervision outputs.
"""

from __future__ import annotations

from ._errors import ConverterError
from .adapters import Detections, predictions_from, to_detections
from .boxes import BboxConverter
from .choices import ChoicesConverter
from .keypoints import KeypointConverter
from .masks import MaskConverter
from .polygons import PolygonConverter
from .rotated import RotatedBboxConverter
from .spans import SpanConverter, from_utf16_offsets, to_utf16_offsets
from .task_info import Target, find_target

__all__ = [
    "BboxConverter",
    "RotatedBboxConverter",
    "PolygonConverter",
    "MaskConverter",
    "KeypointConverter",
    "ChoicesConverter",
    "SpanConverter",
    "predictions_from",
    "to_detections",
    "Detections",
    "to_utf16_offsets",
    "from_utf16_offsets",
    "find_target",
    "Target",
    "ConverterError",
]
