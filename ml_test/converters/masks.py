"""Binary or instance masks -> ``brushlabels`` in the editor's RLE (0/1 scaled to 255)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry.rle import mask_to_rle
from ._base import Context, Converter, LabelMap, resolve_labels, resolve_scores
from ._errors import ConverterError
from ._inputs import to_numpy

__all__ = ["MaskConverter", "binary_masks"]


def binary_masks(masks: Any, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray | None]:
    """(n, H, W) bool masks, plus the ids when ``masks`` was one (H, W) image of instance or class ids.

    bool masks are kept, integer masks are nonzero tests (0/1 and 0/255 alike), float masks
    (probabilities) are ``>= threshold``. ``(n, 1, H, W)`` (torchvision) is squeezed.
    """
    arr = to_numpy(masks, "masks")
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.dtype.kind not in "biuf":
        raise ConverterError(f"MaskConverter: masks must hold numbers or booleans, got {arr.dtype}")
    if arr.ndim == 2:
        values = np.unique(arr)
        binary = arr.dtype.kind in "bf" or set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}
        if not binary:
            ids = values[values != 0]
            return arr[None, :, :] == ids[:, None, None], ids
        arr = arr[None]
    if arr.ndim != 3:
        raise ConverterError(f"MaskConverter: masks must have shape (n, H, W), (n, 1, H, W) or (H, W), got {arr.shape}")
    if arr.dtype.kind == "b":
        return arr, None
    if arr.dtype.kind == "f":
        return arr >= threshold, None
    return arr != 0, None


class MaskConverter(Converter):
    """Convert masks to a Label Studio prediction of ``brushlabels`` regions (RLE the editor draws).

    Parameters
    ----------
    masks : array-like
        ``(n, H, W)`` masks (bool, 0/1, 0/255, or probabilities), ``(n, 1, H, W)`` (torchvision),
        one ``(H, W)`` binary mask, or one ``(H, W)`` image of instance or class ids, which gives
        one region per nonzero id (in increasing order). numpy, lists, torch tensors and
        ``__array__`` objects are accepted.
    labels : sequence of str or int, optional
        One per region. For an id image without labels but with ``label_map``, the ids are the
        class ids (a semantic segmentation map); with neither, the control's only label is used.
    scores, label_map
        As for :class:`BboxConverter`.
    threshold : float, default=0.5
        Float masks are ``>= threshold``; integer masks are nonzero.

    Notes
    -----
    Masks must be at the image's original size: ``H x W`` equals ``original_height x
    original_width`` (from the ground truth, ``image_size=`` or the image file; when none is
    known, the mask's own size is written). Each region's ``value`` is ``{"format": "rle",
    "rle": [...]}``: the RGBA buffer of the mask with every channel 255 inside and 0 outside,
    packed as the editor packs it (see :mod:`ml_test.geometry.rle`). A 0/1 mask written without
    this scaling would be drawn at 1/255 opacity, i.e. invisibly. Empty masks are an error.

    Examples
    --------
    >>> import numpy as np
    >>> from ml_test.geometry.rle import rle_to_mask
    >>> task = {"id": 4, "annotations": [{"result": [{"from_name": "brush", "to_name": "image",
    ...     "type": "brushlabels", "original_width": 6, "original_height": 4,
    ...     "value": {"format": "rle", "rle": [], "brushlabels": ["Cat"]}}]}]}
    >>> mask = np.zeros((4, 6), dtype=bool); mask[1:3, 1:4] = True
    >>> [pred] = MaskConverter(mask[None]).from_task(task)
    >>> value = pred["result"][0]["value"]
    >>> value["rle"]
    [0, 0, 0, 96, 57, 27, 254, 27, 0, 183, 255, 108, 2, 223, 254, 31, 0]
    >>> bool((rle_to_mask(value["rle"], 6, 4) == mask * 255).all()), value["brushlabels"]
    (True, ['Cat'])
    """

    kind = "brush"

    def __init__(
        self,
        masks: Any,
        labels: Any = None,
        scores: Any = None,
        *,
        threshold: float = 0.5,
        label_map: LabelMap | None = None,
    ) -> None:
        super().__init__(labels, scores, label_map)
        self.masks, self.ids = binary_masks(masks, threshold)
        if self.ids is not None and labels is None and label_map is not None:
            self.labels = self.ids.tolist()  # a semantic map: the pixel values are the class ids

    def _regions(self, ctx: Context) -> tuple[list[dict], list[Any], np.ndarray]:
        n = len(self.masks)
        labels = resolve_labels(self.labels, n, self.label_map, ctx.target, ctx.where)
        scores = resolve_scores(self.scores, n, ctx.where)
        mask_size = (float(self.masks.shape[2]), float(self.masks.shape[1]))
        size = ctx.image_size(required=False)
        if size is None:
            ctx.size = mask_size
        elif size != mask_size:
            raise ConverterError(
                f"{ctx.where}: the masks are {mask_size[0]:g}x{mask_size[1]:g} (W x H) but the image is "
                f"{size[0]:g}x{size[1]:g}: resize the masks to the original image size"
            )
        empty = np.flatnonzero(~self.masks.reshape(n, -1).any(axis=1))
        if empty.size:
            raise ConverterError(
                f"{ctx.where}: region {int(empty[0])}: the mask is empty ({empty.size} empty masks); drop them first"
            )
        values = [{"format": "rle", "rle": mask_to_rle(m)} for m in self.masks]
        return values, labels, scores
