"""Coerce model outputs to numpy without importing any framework (duck typing)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import ConverterError

__all__ = ["to_numpy", "float_array", "is_tensor_like"]


def is_tensor_like(x: Any) -> bool:
    """True for objects that convert to an array: numpy, tensors, ``__array__`` holders, detectron2 Boxes."""
    return isinstance(x, np.ndarray) or hasattr(x, "__array__") or hasattr(x, "numpy") or hasattr(x, "tensor")


def to_numpy(x: Any, name: str) -> np.ndarray:
    """numpy array from numpy, lists, ``__array__``, torch-like tensors or detectron2 ``Boxes`` (``.tensor``)."""
    if isinstance(x, np.ndarray):
        return x
    # detectron2 Boxes / RotatedBoxes keep their (n, 4|5) tensor in ``.tensor``
    inner = getattr(x, "tensor", None)
    if inner is not None and not callable(inner):
        return to_numpy(inner, name)
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):
        # torch: leave the graph and the GPU first; bfloat16 has no numpy dtype, so widen it
        t = x.detach().cpu()
        try:
            return np.asarray(t.numpy())
        except TypeError:
            return np.asarray(t.float().numpy())
    if hasattr(x, "numpy") and callable(x.numpy) and not hasattr(x, "__array__"):
        return np.asarray(x.numpy())  # TensorFlow eager tensors and similar
    if isinstance(x, (list, tuple)) and any(not isinstance(v, (int, float, str, bool, np.generic)) for v in x):
        parts = [to_numpy(v, f"{name}[{i}]") for i, v in enumerate(x)]
        try:
            return np.stack(parts) if parts else np.zeros((0,))
        except ValueError as e:
            raise ConverterError(f"{name}: items have different shapes ({e})") from None
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as e:
        raise ConverterError(f"{name}: cannot convert {type(x).__name__} to an array: {e}") from None


def float_array(x: Any, name: str) -> np.ndarray:
    """``to_numpy`` as float64, with a message naming the argument when it holds non-numbers."""
    arr = to_numpy(x, name)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise ConverterError(f"{name}: expected numbers, got {arr.dtype} values")
    return arr.astype(np.float64, copy=False)
