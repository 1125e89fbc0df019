"""Brush RLE: golden vectors, the editor's own streams, a step-by-step model of its encoder, round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_test.errors import InputError
from ml_test.geometry import rle

# Reference §3.4: a 4x6 mask with a 2x3 block of 255 (rows 1-2, columns 1-3), as the editor's
# encoder writes it, and the SDK's mask2rle output (the same bytes plus one zero byte).
GOLDEN_MASK_BYTES = [0, 0, 0, 96, 57, 27, 254, 27, 0, 183, 255, 108, 2, 223, 254, 31, 0]
GOLDEN_SDK_BYTES = GOLDEN_MASK_BYTES + [0]
# Reference §3.4: a stream with a literal chunk, and the values it decodes to.
GOLDEN_LITERAL_BYTES = [0, 0, 0, 16, 57, 27, 252, 96, 17, 192, 71, 254, 24, 8, 16, 24, 32]
GOLDEN_LITERAL_VALUES = [0, 0, 0, 0, 128, 128, 128, 128, 255, 255, 255, 255, 1, 2, 3, 4]


def golden_mask() -> np.ndarray:
    m = np.zeros((4, 6), dtype=np.uint8)
    m[1:3, 1:4] = 255
    return m


def editor_encode(values: list[int]) -> list[int]:
    """A plain model of the editor's encoder, one value at a time, written from the reference §3.4.

    State: the value being repeated and how many extra copies of it were seen, and a list of
    isolated values waiting to be written as one literal block. Blocks hold at most 65,536 values.
    One deliberate difference: when a run split at 65,536 leaves one value at the very end, the
    editor loses it; this model (and ours) writes it. Masks never hit it (runs are multiples of 4).
    """
    sizes, limit = (3, 4, 8, 16), 1 << 16
    bits: list[int] = []

    def put(v: int, width: int) -> None:
        bits.extend((v >> (width - 1 - k)) & 1 for k in range(width))

    def size_class(count_minus_one: int) -> int:
        return next(i for i, s in enumerate(sizes) if count_minus_one < (1 << s))

    def repeat_block(value: int, count: int) -> None:
        t = size_class(count - 1)
        put(1, 1), put(t, 2), put(count - 1, sizes[t]), put(value, 8)

    def literal_block(words: list[int]) -> None:
        t = size_class(len(words) - 1)
        put(0, 1), put(t, 2), put(len(words) - 1, sizes[t])
        for w in words:
            put(w, 8)

    put(len(values), 32), put(7, 5)
    for s in sizes:
        put(s - 1, 4)
    literal: list[int] = []
    val, extra = values[0], 0
    for x in values[1:]:
        if x != val:
            if extra:
                repeat_block(val, extra + 1)
            else:
                literal.append(val)
                if len(literal) == limit:
                    literal_block(literal)
                    literal = []
            val, extra = x, 0
        else:
            if literal:
                literal_block(literal)
                literal = []
            extra += 1
            if extra == limit:  # a full block: the current value starts the next one
                repeat_block(val, limit)
                extra = 0
    if literal:
        literal_block(literal + [val])
    else:
        repeat_block(val, extra + 1)
    bits.extend([0] * (-len(bits) % 8))
    return np.packbits(np.array(bits, dtype=np.uint8)).tolist()


def test_golden_mask_bytes_from_the_reference():
    assert rle.mask_to_rle(golden_mask()) == GOLDEN_MASK_BYTES
    assert rle.mask_to_rle(golden_mask() > 0) == GOLDEN_MASK_BYTES  # booleans are scaled to 255
    assert rle.mask_to_rle((golden_mask() > 0).astype(np.uint8)) == GOLDEN_MASK_BYTES  # and so are 0/1 masks
    np.testing.assert_array_equal(rle.rle_to_mask(GOLDEN_MASK_BYTES, 6, 4), golden_mask())


def test_sdk_stream_with_its_extra_zero_byte_decodes_the_same():
    np.testing.assert_array_equal(rle.decode(GOLDEN_SDK_BYTES), rle.decode(GOLDEN_MASK_BYTES))


def test_golden_literal_stream_from_the_reference():
    assert rle.decode(GOLDEN_LITERAL_BYTES).tolist() == GOLDEN_LITERAL_VALUES
    assert rle.encode(GOLDEN_LITERAL_VALUES).tolist() == GOLDEN_LITERAL_BYTES


def test_header_sniff_bytes():
    """Bytes 0-3 are num big-endian, 4-5 are 57, 27 with Label Studio's word and size classes."""
    out = rle.mask_to_rle(np.ones((3, 5), dtype=bool))
    assert int.from_bytes(bytes(out[:4]), "big") == 3 * 5 * 4 and out[4:6] == [57, 27]


@pytest.mark.parametrize(
    "path",
    ["ls-frontend/image_tools/1.json", "ls-frontend/image_magic_wand/1.json", "ls-ml-backend/test_brush_labels.json"],
)
def test_editor_and_backend_streams_decode_and_reencode_byte_for_byte(corpus, path):
    """Real masks drawn in the editor (anti-aliased brush, magic wand) and written by an ML backend."""
    data = json.loads((corpus / path).read_text())
    tasks = data if isinstance(data, list) else [data]
    streams = [
        r for t in tasks for r in (t.get("result") or [r for a in t.get("annotations", []) for r in a["result"]])
        if r.get("value", {}).get("format") == "rle"
    ]  # fmt: skip
    assert streams
    for r in streams:
        w, h, stream = r["original_width"], r["original_height"], r["value"]["rle"]
        values = rle.decode(stream)
        assert values.size == w * h * 4
        # R = G = B = A in every pixel, as the editor writes it
        assert (values.reshape(-1, 4) == values.reshape(-1, 4)[:, :1]).all()
        assert rle.encode(values).tolist() == stream
        mask = rle.rle_to_mask(stream, w, h)
        assert mask.shape == (h, w) and mask.any()


def test_rle_to_mask_rejects_a_wrong_size():
    with pytest.raises(InputError, match="holds 96 values, expected width x height x 4 = 6 x 8 x 4 = 192"):
        rle.rle_to_mask(GOLDEN_MASK_BYTES, 6, 8)


@pytest.mark.parametrize(
    "stream, message",
    [
        ([0, 0, 0], "too short"),
        (GOLDEN_MASK_BYTES[:9], "truncated"),
        ([0, 0, 0, 2, 57, 27, 252, 96, 0], "runs past"),  # a block of 4 values in a stream of 2
        ([0, 0, 0, 4, 57, 27, 300], "bytes 0-255"),
        (["a"], "integers"),
    ],
)
def test_malformed_streams_are_input_errors(stream, message):
    with pytest.raises(InputError, match=message):
        rle.decode(stream)


def test_encode_rejects_values_outside_a_byte():
    with pytest.raises(InputError, match="0-255"):
        rle.encode([0, 256])
    with pytest.raises(InputError, match="empty"):
        rle.encode([])
    with pytest.raises(InputError, match="2-D"):
        rle.mask_to_rle(np.ones(5))


# values drawn from a few symbols so that runs, singles and their mixtures all occur
symbols = st.lists(st.sampled_from([0, 0, 0, 1, 7, 255]), min_size=1, max_size=300)


@settings(max_examples=300, deadline=None)
@given(symbols)
def test_encoder_matches_the_step_by_step_model_and_decodes_back(values):
    assert rle.encode(values).tolist() == editor_encode(values)
    assert rle.decode(rle.encode(values)).tolist() == values


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 9, 255]), st.sampled_from([1, 2, 7, 8, 255, 256, 65535, 65536, 65537, 65538, 131073])
        ),
        min_size=1,
        max_size=6,
    )
)
def test_long_runs_split_at_65536_like_the_model(runs):
    """Runs around the 16-bit block limit (the size-class edges and the split into blocks)."""
    values = np.repeat([v for v, _ in runs], [n for _, n in runs]).astype(np.uint8)
    encoded = rle.encode(values)
    np.testing.assert_array_equal(rle.decode(encoded), values)
    assert encoded.tolist() == editor_encode(values.tolist())


def test_long_literal_stretches_split_at_65536():
    rng = np.random.default_rng(7)
    values = np.arange(70_001, dtype=np.int64) % 251  # no two neighbours equal: one long literal stretch
    values = np.concatenate([values, [3, 3], rng.integers(0, 2, 20).astype(np.int64) * 200 + 1]).astype(np.uint8)
    encoded = rle.encode(values)
    np.testing.assert_array_equal(rle.decode(encoded), values)
    assert encoded.tolist() == editor_encode(values.tolist())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_masks_round_trip_through_rle(h, w, seed):
    mask = np.random.default_rng(seed).random((h, w)) < 0.4
    decoded = rle.rle_to_mask(rle.mask_to_rle(mask), w, h)
    np.testing.assert_array_equal(decoded, mask * 255)


def test_decoder_reads_other_word_sizes():
    """The header may declare other word and size classes; 12-bit words come back as uint16."""
    bits = [int(b) for b in f"{3:032b}{11:05b}" + "".join(f"{s - 1:04b}" for s in (3, 4, 8, 16))]
    bits += [0, 0, 0] + [0, 1, 0] + [int(b) for b in f"{4095:012b}{1:012b}{2048:012b}"]  # literal block of 3
    bits += [0] * (-len(bits) % 8)
    assert rle.decode(np.packbits(np.array(bits, dtype=np.uint8))).tolist() == [4095, 1, 2048]
