"""Pixel masks: brush RLE and bitmask PNG regions, decoded once into bounding-box crops, and their IoU.

A region keeps its payload (``MaskSource``) until it is scored, because the RLE carries no size:
``decode_mask`` needs the image size (``original_width/height`` of the result, or the task's).
A decoded ``Mask`` is the boolean crop of the mask's bounding box plus its offset, so memory
follows the object, not the image, and two masks whose boxes do not meet are disjoint without
touching a pixel. Pixels are "in" when their alpha is non-zero (Label Studio colours any
non-zero alpha; anti-aliased brush edges count).

IoU of two masks is ``|A & B| / |A | B|`` over pixels, pycocotools' ``maskUtils.iou`` for
non-crowd regions; ``dice = 2 |A & B| / (|A| + |B|) = 2 IoU / (1 + IoU)``.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import InputError
from .rle import rle_to_mask

__all__ = ["MaskSource", "Mask", "parse_mask", "decode_mask", "crop", "mask_iou_pairs", "dice_from_iou"]


class MaskSource(NamedTuple):
    """A mask as the export holds it: ``format`` "rle" (``payload`` the byte list) or "png" (the data URL)."""

    format: str
    payload: object


class Mask(NamedTuple):
    """A decoded mask: boolean crop of its bounding box at (top, left) in an image of (height, width)."""

    top: int
    left: int
    pixels: np.ndarray  # (h, w) bool, the bounding box of the mask; (0, 0) when empty
    area: int
    height: int
    width: int


def parse_mask(value: dict, type_: str, where: str) -> MaskSource:
    """Check a brush (``format: rle``) or bitmask (``imageDataURL``) value; decoding waits for the image size."""
    if type_.startswith("bitmask"):
        url = value.get("imageDataURL")
        if not isinstance(url, str) or not url.startswith("data:image/png;base64,"):
            raise InputError(f"{where}: value.imageDataURL must be a 'data:image/png;base64,...' string, got {url!r:.40}")
        return MaskSource("png", url)
    fmt = value.get("format", "rle")
    if fmt != "rle":
        raise InputError(f"{where}: value.format {fmt!r:.40} is not supported: brush masks are scored from 'rle'")
    rle = value.get("rle")
    if not isinstance(rle, list) or not all(type(b) is int for b in rle):
        raise InputError(f"{where}: value.rle must be a list of integers 0-255, got {type(rle).__name__}")
    return MaskSource("rle", rle)


def _png_alpha(url: str, where: str) -> np.ndarray:
    from PIL import Image  # Pillow is only needed for bitmask regions

    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=True)
        img = Image.open(io.BytesIO(data))
        img.load()
    except (binascii.Error, OSError, ValueError) as e:
        raise InputError(f"{where}: value.imageDataURL is not a readable PNG ({e})") from None
    if "A" in img.getbands():
        return np.asarray(img.getchannel("A"))
    if img.mode == "P" and "transparency" in img.info:
        return np.asarray(img.convert("RGBA").getchannel("A"))
    # no alpha: a grey or colour mask, non-black pixels are in
    return np.asarray(img.convert("L"))


def crop(full: np.ndarray) -> Mask:
    """The bounding-box crop of a full (height, width) mask; non-zero pixels are in."""
    on = np.asarray(full) != 0
    rows, cols = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    height, width = on.shape
    if rows.size == 0:
        return Mask(0, 0, np.zeros((0, 0), dtype=bool), 0, height, width)
    pixels = on[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return Mask(int(rows[0]), int(cols[0]), np.ascontiguousarray(pixels), int(np.count_nonzero(pixels)), height, width)


def decode_mask(source: MaskSource, size: tuple[float, float] | None, where: str) -> Mask:
    """Decode a mask of an image of ``size`` (width, height) pixels; a PNG knows its own size."""
    if source.format == "png":
        alpha = _png_alpha(source.payload, where)
        if size is not None and (alpha.shape[1], alpha.shape[0]) != (int(size[0]), int(size[1])):
            raise InputError(
                f"{where}: the bitmask PNG is {alpha.shape[1]}x{alpha.shape[0]} but the image is {int(size[0])}x{int(size[1])}"
            )
        return crop(alpha)
    if size is None:
        raise InputError(f"{where}: a brush mask needs the image size: add original_width/original_height or pass --image-size WxH")
    w, h = size
    if w != int(w) or h != int(h):
        raise InputError(f"{where}: a brush mask needs a whole number of pixels, got an image of {w:g}x{h:g}")
    try:
        return crop(rle_to_mask(source.payload, int(w), int(h)))
    except InputError as e:
        raise InputError(f"{where}: {e}") from None


def mask_iou_pairs(dt: Sequence[Mask], gt: Sequence[Mask], d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """IoU of masks ``dt[d[k]]`` and ``gt[g[k]]`` for every k; pairs whose bounding boxes miss are 0 without a pixel read."""
    n = len(d)
    out = np.zeros(n, dtype=np.float64)
    if n == 0:
        return out
    box = lambda ms: np.array([(m.top, m.left, m.top + m.pixels.shape[0], m.left + m.pixels.shape[1], m.area) for m in ms],  # noqa: E731
                              dtype=np.int64).reshape(-1, 5)  # fmt: skip
    db, gb = box(dt)[d], box(gt)[g]  # (n, 5): top, left, bottom, right, area
    top, left = np.maximum(db[:, 0], gb[:, 0]), np.maximum(db[:, 1], gb[:, 1])
    bottom, right = np.minimum(db[:, 2], gb[:, 2]), np.minimum(db[:, 3], gb[:, 3])
    meet = np.flatnonzero((bottom > top) & (right > left))
    inter = np.zeros(n, dtype=np.int64)
    for k in meet:  # only pairs whose boxes overlap read pixels, and only inside the shared box
        a, b = dt[d[k]], gt[g[k]]
        if (a.height, a.width) != (b.height, b.width):
            continue  # masks of different images never overlap (pycocotools refuses them)
        t, lt, bt, rt = top[k], left[k], bottom[k], right[k]
        pa = a.pixels[t - a.top : bt - a.top, lt - a.left : rt - a.left]
        pb = b.pixels[t - b.top : bt - b.top, lt - b.left : rt - b.left]
        inter[k] = np.count_nonzero(pa & pb)
    union = db[:, 4] + gb[:, 4] - inter
    np.divide(inter, union, out=out, where=union > 0)
    return out


def dice_from_iou(iou: np.ndarray) -> np.ndarray:
    """Dice ``2 |A & B| / (|A| + |B|)`` from IoU of the same pair: ``2 IoU / (1 + IoU)``."""
    iou = np.asarray(iou, dtype=np.float64)
    return 2.0 * iou / (1.0 + iou)
