"""Label Studio brush RLE (``value.format == "rle"``): encode and decode with numpy.

The editor stores a brush region as the RGBA pixel buffer of a canvas of the image's natural
size, with R = G = B = A, packed by ``@thi.ng/rle-pack`` (its ``encode``/``decode``; the bits are
MSB-first). The stream is::

    header   num (32 bits) | wordSize - 1 (5) | 4 x (rleSize - 1) (4 each)   LS: 8 and [3, 4, 8, 16]
    blocks   flag (1) | sel (2) | count - 1 (rleSizes[sel] bits) | words
             flag 1: one word repeated ``count`` times; flag 0: ``count`` literal words
    padding  zero bits up to a byte boundary

so a mask of W x H pixels decodes to ``4 * W * H`` values and the mask is the alpha channel. The
encoder reproduces the editor's choices byte for byte (runs of >= 2 equal values become repeat
blocks of at most 65,536 values; isolated values gather into literal blocks of at most 65,536;
each count uses the smallest size class that holds it), so re-encoding an editor mask gives the
editor's bytes. The decoder also reads the SDK's ``mask2rle`` output (one extra zero byte) and
any word and size classes the header declares.

Decoding walks the blocks (each block's position depends on the previous one's size), reading
each block's fields from one 64-bit window, and expands all runs with one ``np.repeat``; the
encoder is vectorised end to end. Neither builds a Python string of bits.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError

__all__ = ["decode", "encode", "mask_to_rle", "rle_to_mask", "LS_RLE_SIZES"]

LS_RLE_SIZES = (3, 4, 8, 16)
_WORD_SIZE = 8
_MAX_BLOCK = 1 << LS_RLE_SIZES[-1]  # 65,536 values per block
_HEADER_BITS = 32 + 5 + 4 * 4


def _as_bytes(rle: bytes | Sequence[int] | np.ndarray) -> bytes:
    if isinstance(rle, (bytes, bytearray, memoryview)):
        return bytes(rle)
    arr = np.asarray(rle)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InputError(f"brush RLE must be a list of integers 0-255, got {arr.dtype} with shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise InputError(f"brush RLE must hold bytes 0-255, got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.uint8).tobytes()


def decode(rle: bytes | Sequence[int] | np.ndarray) -> np.ndarray:
    """Decode an RLE stream to its flat array of values (uint8 for Label Studio's 8-bit words).

    >>> decode([0, 0, 0, 4, 57, 27, 252, 96, 0]).tolist()  # header, then one block: 4 x the value 0
    [0, 0, 0, 0]
    """
    data = _as_bytes(rle)
    if len(data) < 7:
        raise InputError(f"brush RLE is too short ({len(data)} bytes): the header alone takes 7")
    num = int.from_bytes(data[:4], "big")
    fields = int.from_bytes(data[4:7], "big") >> 3  # the 21 bits after num
    word = (fields >> 16) + 1
    sizes = [((fields >> shift) & 0xF) + 1 for shift in (12, 8, 4, 0)]
    total_bits = len(data) * 8
    buf = data + bytes(8)  # every 64-bit window read below stays inside the buffer
    word_mask = (1 << word) - 1
    values: list[int] = []
    lengths: list[int] = []
    literals: list[tuple[int, np.ndarray]] = []  # (index into values, literal words), spliced in below
    pos, produced = _HEADER_BITS, 0
    while produced < num:
        if pos + 3 > total_bits:
            raise InputError(f"brush RLE ends after {produced} of its {num} values (truncated stream)")
        shift = pos & 7
        window = int.from_bytes(buf[pos >> 3 : (pos >> 3) + 8], "big")
        flag = (window >> (63 - shift)) & 1
        size = sizes[(window >> (61 - shift)) & 3]
        count = ((window >> (61 - shift - size)) & ((1 << size) - 1)) + 1
        pos += 3 + size
        if produced + count > num:
            raise InputError(f"brush RLE block at bit {pos} runs past the declared {num} values")
        if flag:
            end = pos + word
            values.append(
                (int.from_bytes(buf[pos >> 3 : (pos >> 3) + 8], "big") >> (64 - (pos & 7) - word)) & word_mask
            )
            lengths.append(count)
        else:
            end = pos + count * word
            literals.append((len(values), _read_words(buf, pos, count, word)))
            values.append(0)
            lengths.append(0)  # placeholder: the literal words replace it
        if end > total_bits:
            raise InputError(f"brush RLE ends inside a block after {produced} of its {num} values (truncated stream)")
        pos = end
        produced += count
    dtype = np.uint8 if word <= 8 else np.uint16 if word <= 16 else np.uint32
    runs = np.repeat(np.asarray(values, dtype=dtype), lengths)
    if not literals:
        return runs
    # splice literal blocks in at their places: offsets of each placeholder in the expanded runs
    starts = np.concatenate(([0], np.cumsum(lengths)))
    parts, last = [], 0
    for index, words in literals:
        parts.append(runs[last : starts[index]])
        parts.append(words.astype(dtype))
        last = starts[index]
    parts.append(runs[last:])
    return np.concatenate(parts)


def _read_words(buf: bytes, pos: int, count: int, word: int) -> np.ndarray:
    """``count`` words of ``word`` bits starting at bit ``pos``."""
    raw = np.frombuffer(buf, dtype=np.uint8, count=((pos + count * word + 7) >> 3) - (pos >> 3), offset=pos >> 3)
    bits = np.unpackbits(raw)[pos & 7 : (pos & 7) + count * word].reshape(count, word)
    if word == 8:
        return np.packbits(bits, axis=1).ravel()
    return bits.astype(np.uint64) @ (np.uint64(1) << np.arange(word - 1, -1, -1, dtype=np.uint64))


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(run values, run lengths) of a flat array."""
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    lengths = np.diff(np.append(starts, values.size))
    return values[starts], lengths


def encode(values: np.ndarray | Sequence[int]) -> np.ndarray:
    """Encode a flat array of bytes (0-255) exactly as Label Studio's editor does; returns uint8 bytes.

    >>> encode(np.zeros(4, dtype=np.uint8)).tolist()
    [0, 0, 0, 4, 57, 27, 252, 96, 0]
    """
    arr = np.asarray(values).ravel()
    if arr.size == 0:
        raise InputError("cannot RLE-encode an empty array")
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.bool_:
            raise InputError(f"brush RLE encodes integers 0-255, got dtype {arr.dtype}")
        if arr.min() < 0 or arr.max() > 255:
            raise InputError(f"brush RLE encodes integers 0-255, got values from {arr.min()} to {arr.max()}")
        arr = arr.astype(np.uint8)
    run_values, run_lengths = _runs(arr)
    return _encode_runs(run_values, run_lengths, arr.size)


def _encode_runs(run_values: np.ndarray, run_lengths: np.ndarray, num: int) -> np.ndarray:
    """The editor's byte stream for ``num`` values given as maximal runs (value, length)."""
    # 1. cut runs into pieces of at most 65,536 values; a piece of 1 value is a "single"
    n_full = (run_lengths - 1) // _MAX_BLOCK
    per_run = n_full + 1
    piece_run = np.repeat(np.arange(run_values.size), per_run)
    k = np.arange(piece_run.size) - np.repeat(np.cumsum(per_run) - per_run, per_run)
    piece_len = np.where(k < n_full[piece_run], _MAX_BLOCK, (run_lengths - n_full * _MAX_BLOCK)[piece_run])
    piece_val = run_values[piece_run]
    single = piece_len == 1
    n = piece_len.size

    # 2. consecutive singles form literal blocks of at most 65,536, counted from each group's start
    group_start = single & ~np.concatenate(([False], single[:-1]))
    group_id = np.cumsum(group_start) - 1
    group_first = np.flatnonzero(group_start)
    j = np.arange(n) - group_first[np.maximum(group_id, 0)] if group_first.size else np.zeros(n, dtype=np.intp)
    # The editor holds the last value back; when nothing precedes it in an open literal block it is
    # written as a repeat block of one (e.g. [5, 5, 7] ends with a repeat of 7, [5, 6, 7] with a literal).
    # (After a run split at 65,536 the editor drops such a last value; a mask's runs are multiples of 4,
    # so that never happens there, and we write it, which keeps the stream correct.)
    lone_last = bool(single[-1]) and j[-1] % _MAX_BLOCK == 0
    repeat = ~single
    if lone_last:
        repeat[-1] = True
    block_start = repeat | (single & (j % _MAX_BLOCK == 0))
    block_id = np.cumsum(block_start) - 1
    n_blocks = int(block_id[-1]) + 1
    block_count = np.bincount(block_id, weights=piece_len, minlength=n_blocks).astype(np.int64)
    is_repeat = repeat[block_start]
    first_val = piece_val[block_start].astype(np.int64)

    # 3. each block's control field: flag, size class, count - 1 and (for repeats) the value
    field = block_count - 1
    size_class = np.searchsorted(np.array([1 << s for s in LS_RLE_SIZES[:3]]), field, side="right")
    size_bits = np.asarray(LS_RLE_SIZES)[size_class]
    control = (is_repeat.astype(np.int64) << (2 + size_bits)) | (size_class << size_bits) | field
    control_width = 3 + size_bits
    control = np.where(is_repeat, (control << _WORD_SIZE) | first_val, control)
    control_width = control_width + np.where(is_repeat, _WORD_SIZE, 0)
    literal_values = piece_val[single & ~repeat]
    literal_block = block_id[single & ~repeat]
    literal_bits = np.bincount(literal_block, minlength=n_blocks) * _WORD_SIZE
    block_bits = control_width + literal_bits
    block_offset = _HEADER_BITS + np.cumsum(block_bits) - block_bits

    header = (num << 21) | ((_WORD_SIZE - 1) << 16)
    for i, s in enumerate(LS_RLE_SIZES):
        header |= (s - 1) << (12 - 4 * i)
    widths = np.concatenate(([_HEADER_BITS], control_width))
    fields = np.concatenate(([header], control)).astype(np.uint64)
    offsets = np.concatenate(([0], block_offset))
    total = int(block_offset[-1] + block_bits[-1])
    bits = np.zeros(-(-total // 8) * 8, dtype=np.uint8)
    # every field bit: field index, bit index inside the field (MSB first), absolute position
    owner = np.repeat(np.arange(widths.size), widths)
    inside = np.arange(owner.size) - np.repeat(np.cumsum(widths) - widths, widths)
    shift = (widths[owner] - 1 - inside).astype(np.uint64)
    bits[offsets[owner] + inside] = ((fields[owner] >> shift) & np.uint64(1)).astype(np.uint8)
    if literal_values.size:
        # literal words follow their block's control field in file order
        rank = np.arange(literal_values.size) - np.repeat(
            np.cumsum(literal_bits[literal_bits > 0] // _WORD_SIZE) - literal_bits[literal_bits > 0] // _WORD_SIZE,
            literal_bits[literal_bits > 0] // _WORD_SIZE,
        )
        start = block_offset[literal_block] + control_width[literal_block] + rank * _WORD_SIZE
        bits[start[:, None] + np.arange(_WORD_SIZE)] = np.unpackbits(literal_values.astype(np.uint8)[:, None], axis=1)
    return np.packbits(bits)


def mask_to_rle(mask: np.ndarray) -> list[int]:
    """A 2-D mask (bool, 0/1 or 0-255) as Label Studio brush RLE: nonzero pixels become 255.

    The editor shows a pixel with the alpha it stores, so 0/1 masks are scaled to 255 here (a mask
    stored as 1 would be drawn at 1/255 opacity, i.e. invisible). Pixels are row-major, each
    repeated over the four RGBA channels.

    >>> mask_to_rle(np.array([[0, 1], [1, 1]], dtype=bool))
    [0, 0, 0, 16, 57, 27, 252, 96, 22, 255, 192]
    """
    m = np.asarray(mask)
    if m.ndim != 2 or m.size == 0:
        raise InputError(f"a brush mask must be a non-empty 2-D array (height, width), got shape {m.shape}")
    pixels = np.where(m.ravel() != 0, 255, 0).astype(np.uint8)
    run_values, run_lengths = _runs(pixels)
    return _encode_runs(run_values, run_lengths * 4, pixels.size * 4).tolist()


def rle_to_mask(rle: bytes | Sequence[int] | np.ndarray, width: int, height: int) -> np.ndarray:
    """Decode brush RLE to the (height, width) uint8 alpha channel (0-255; a pixel is in the mask when > 0)."""
    flat = decode(rle)
    if flat.size != width * height * 4:
        raise InputError(
            f"brush RLE holds {flat.size} values, expected width x height x 4 = {width} x {height} x 4 = "
            f"{width * height * 4}: original_width/original_height do not match the mask"
        )
    return flat.reshape(height, width, 4)[:, :, 3].astype(np.uint8, copy=False)
