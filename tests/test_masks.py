"""Brush (RLE) and bitmask (PNG) masks: decoding, pixel IoU against pycocotools, and the detection metrics."""

from __future__ import annotations

import base64
import copy
import io
import time

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from conftest import task
from ml_test import InputError, evaluate
from ml_test.geometry.masks import MaskSource, crop, decode_mask, mask_iou_pairs
from ml_test.geometry.rle import encode, mask_to_rle

W, H = 64, 48


def brush(mask, label="Cat", rid="m1", score=None, size=(W, H), type_="brushlabels"):
    r = {"id": rid, "from_name": "brush", "to_name": "image", "type": type_, "original_width": size[0],
         "original_height": size[1], "value": {"format": "rle", "rle": mask_to_rle(mask), "brushlabels": [label]}}  # fmt: skip
    if score is not None:
        r["score"] = score
    return r


def png_url(mask, mode="RGBA"):
    rgba = np.zeros(mask.shape + (4,), dtype=np.uint8)
    rgba[..., 3] = np.where(mask, 255, 0)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").convert(mode).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def blob(rng, h=H, w=W):
    """A random mask: a union of 1-3 rectangles and disks, sometimes empty."""
    m = np.zeros((h, w), dtype=bool)
    yy, xx = np.mgrid[:h, :w]
    for _ in range(rng.integers(0, 4)):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(2, 15)
        if rng.random() < 0.5:
            m |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            m[cy : cy + r, cx : cx + 2 * r] = True
    return m


def coco_rle(m):
    return mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))


def test_mask_iou_equals_pycocotools_on_random_masks():
    rng = np.random.default_rng(0)
    gts = [blob(rng) for _ in range(40)]
    dts = [np.roll(g, rng.integers(-6, 7, size=2), axis=(0, 1)) if rng.random() < 0.7 else blob(rng) for g in gts]
    ours_gt, ours_dt = [crop(m) for m in gts], [crop(m) for m in dts]
    d, g = np.repeat(np.arange(len(dts)), len(gts)), np.tile(np.arange(len(gts)), len(dts))
    ours = mask_iou_pairs(ours_dt, ours_gt, d, g).reshape(len(dts), len(gts))
    expected = np.asarray(mask_utils.iou([coco_rle(m) for m in dts], [coco_rle(m) for m in gts], [0] * len(gts)))
    assert (ours > 0).sum() > 20  # the data has real overlaps, not only disjoint pairs
    np.testing.assert_array_equal(ours, expected)


def test_mask_map_equals_pycocotools_segm_eval():
    """mAP over masks through the COCO kernel: pycocotools' 12 segm statistics on the same RLEs."""
    rng = np.random.default_rng(1)
    tasks, images, anns, dets = [], [], [], []
    for tid in range(1, 16):
        gt, pred = [], []
        for k in range(rng.integers(0, 4)):
            m, label = blob(rng), ["Cat", "Dog"][rng.integers(0, 2)]
            if not m.any():
                continue
            gt.append(brush(m, label, rid=f"g{tid}{k}"))
            anns.append({"id": len(anns) + 1, "image_id": tid, "category_id": 1 + (label == "Dog"), "iscrowd": 0,
                         "segmentation": coco_rle(m), "area": float(m.sum())})  # fmt: skip
            if rng.random() < 0.8:
                p = np.roll(m, rng.integers(-5, 6, size=2), axis=(0, 1))
                if p.any():
                    s = float(np.round(rng.random(), 3))
                    pred.append(brush(p, label, rid=f"p{tid}{k}", score=s))
                    dets.append({"image_id": tid, "category_id": 1 + (label == "Dog"), "segmentation": coco_rle(p), "score": s})
        images.append({"id": tid, "width": W, "height": H})
        tasks.append(task(tid, gt, pred))
    coco_gt = COCO()
    coco_gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "Cat"}, {"id": 2, "name": "Dog"}]}
    coco_gt.createIndex()
    ev = COCOeval(coco_gt, coco_gt.loadRes(dets), "segm")
    ev.evaluate(), ev.accumulate(), ev.summarize()
    report = evaluate(tasks, "mAP", 0.5)
    names = ["mAP", "mAP50", "mAP75", "mAP_small", "mAP_medium", "mAP_large", "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"]
    ours = [report.aggregate[n] for n in names]
    assert [(-1.0 if v is None else v) for v in ours] == list(ev.stats)


def test_iou_dice_and_prf_of_brush_regions():
    a = np.zeros((H, W), bool)
    a[10:20, 10:30] = True  # 200 px
    b = np.zeros((H, W), bool)
    b[10:20, 20:40] = True  # 200 px, 100 shared: IoU 1/3, Dice 1/2
    t = task(1, [brush(a)], [brush(b)])
    assert evaluate([t], "iou", 0.5).tasks[0].score == pytest.approx(1 / 3)
    assert evaluate([t], "dice", 0.5).tasks[0].score == pytest.approx(0.5)
    assert evaluate([t], "f1", 0.5).tasks[0].score == 0.0  # IoU 1/3 < 0.5
    assert evaluate([t], "f1", 0.5, iou=0.3).tasks[0].score == 1.0
    missed = task(2, [brush(a), brush(b, "Dog", rid="m2")], [brush(a)])
    report = evaluate([missed], "dice", 0.9)
    assert report.tasks[0].score == pytest.approx(0.5)  # one perfect pair, one missed mask
    assert report.tasks[0].reasons[0].startswith("missed Dog mask 'm2'")
    empties = evaluate([task(3, [], []), task(4, [brush(a)], []), task(5, [], [brush(a)])], "dice", 1.0)
    assert [t.score for t in empties.tasks] == [1.0, 0.0, 0.0]


def test_anti_aliased_alpha_counts_and_split_magicwand_labels_form_one_region():
    m = np.zeros((H, W), np.uint8)
    m[5:9, 5:9] = 255
    m[9, 5:9] = 3  # a faint anti-aliased edge is in the mask
    rle = encode(np.repeat(m.ravel(), 4)).tolist()
    common = {"id": "w1", "to_name": "image", "original_width": W, "original_height": H}
    gt = [dict(common, from_name="wand", type="magicwand", value={"format": "rle", "rle": rle}),
          dict(common, from_name="labels", type="labels", value={"format": "rle", "rle": rle, "labels": ["Cloud"]})]  # fmt: skip
    assert decode_mask(MaskSource("rle", rle), (W, H), "").area == 20
    report = evaluate([task(1, gt, copy.deepcopy(gt))], "mAP", 1.0)
    assert report.params["controls"] == ["wand"] and report.tasks[0].score == 1.0
    assert list(report.per_label) == ["Cloud"]


def test_bitmask_png_alpha_equals_the_same_brush_mask():
    rng = np.random.default_rng(3)
    m = blob(rng)
    while not m.any():
        m = blob(rng)
    bitmask = {"id": "b1", "from_name": "brush", "to_name": "image", "type": "bitmasklabels", "original_width": W,
               "original_height": H, "value": {"imageDataURL": png_url(m), "bitmasklabels": ["Cat"]}}  # fmt: skip
    assert evaluate([task(1, [brush(m)], [bitmask])], "iou", 1.0).tasks[0].score == 1.0
    # a grey PNG without alpha: non-black pixels are in
    grey = dict(bitmask, value={"imageDataURL": png_url(m, "L"), "bitmasklabels": ["Cat"]})
    assert decode_mask(MaskSource("png", grey["value"]["imageDataURL"]), None, "").area == 0  # black on black: nothing
    bad = dict(bitmask, original_width=W + 1)
    with pytest.raises(InputError, match=r"prediction: result 'b1': the bitmask PNG is 64x48 but the image is 65x48"):
        evaluate([task(1, [brush(m)], [bad])], "iou", 1.0)


def test_masks_need_their_size_and_valid_payloads_errors_name_the_region():
    m = np.ones((H, W), bool)
    r = brush(m)
    del r["original_width"], r["original_height"]
    with pytest.raises(InputError, match=r"task 1: ground truth: result 'm1': a brush mask needs the image size"):
        evaluate([task(1, [r], [])], "iou", 0.5)
    assert evaluate([task(1, [r], [])], "iou", 0.0, image_size=(W, H)).tasks[0].score == 0.0  # --image-size is enough
    wrong = brush(m, size=(W, H + 1))
    with pytest.raises(InputError, match=r"result 'm1': brush RLE holds 12288 values, expected .* 64 x 49 x 4"):
        evaluate([task(1, [wrong], [])], "iou", 0.5)
    text = dict(brush(m), value={"format": "rle", "rle": "0,1", "brushlabels": ["Cat"]})
    with pytest.raises(InputError, match=r"result 'm1': value.rle must be a list of integers 0-255, got str"):
        evaluate([task(1, [text], [])], "iou", 0.5)


def test_a_4k_mask_decodes_in_well_under_100_ms():
    h, w = 2160, 3840
    yy, xx = np.mgrid[:h, :w]
    m = ((yy - 1000) ** 2 / 700**2 + (xx - 1900) ** 2 / 1500**2 <= 1) ^ ((yy // 64 + xx // 64) % 7 == 0)
    source = MaskSource("rle", mask_to_rle(m))
    best = min(_timed(lambda: decode_mask(source, (w, h), "")) for _ in range(3))
    assert decode_mask(source, (w, h), "").area == int(m.sum())
    assert best < 0.1, best


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0
