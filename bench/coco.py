"""Benchmark: ml_test's COCO kernel against pycocotools 2.0.11 on a synthetic COCO-like set.

Each evaluator runs in its own fresh process (this script re-invoked with ``--worker``), so
times and peak RSS are measured separately. "eval" is what pycocotools users call the
evaluation: evaluate + accumulate + summarize for pycocotools, match + accumulate + summarize
for ours; building the inputs ("load") is timed apart. Exits 1 if the 12 statistics or the
precision/recall arrays differ.

    python bench/coco.py --images 5000 --dets 100 --labels 80 --seed 0
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

# width x height of common COCO images
_IMAGE_SIZES = np.array([(640, 480), (640, 427), (480, 640), (640, 426), (427, 640),
                         (640, 424), (500, 375), (640, 512), (612, 612), (640, 360)], dtype=np.float64)  # fmt: skip


@dataclass(frozen=True)
class SyntheticSet:
    """A columnar COCO-like detection set; boxes are xywh in pixels, rows grouped by image."""

    image_width: np.ndarray  # (I,) float64
    image_height: np.ndarray  # (I,) float64
    n_labels: int
    gt_image: np.ndarray  # (G,) int64
    gt_label: np.ndarray  # (G,) int64
    gt_xywh: np.ndarray  # (G, 4) float64
    dt_image: np.ndarray  # (D,) int64
    dt_label: np.ndarray  # (D,) int64
    dt_xywh: np.ndarray  # (D, 4) float64
    dt_score: np.ndarray  # (D,) float64


def _boxes(rng: np.random.Generator, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """(n, 4) boxes with log-uniform area (~49% small, 23% medium, 28% large), inside their image."""
    n = len(width)
    area = np.exp(rng.uniform(np.log(9.5), np.log(133_000), n))
    aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0), n))
    w = np.minimum(np.sqrt(area * aspect), width)
    h = np.minimum(area / w, height)
    x, y = rng.uniform(0, 1, n) * (width - w), rng.uniform(0, 1, n) * (height - h)
    return np.stack([x, y, w, h], axis=1)


def _jitter(rng: np.random.Generator, boxes: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Move and rescale boxes by a relative amount ~ N(0, level)."""
    x, y, w, h = boxes.T
    dx, dy, sw, sh = rng.normal(0, 1, (4, len(boxes))) * level
    return np.stack([x + dx * w, y + dy * h, w * np.exp(sw), h * np.exp(sh)], axis=1)


def make_synthetic(
    n_images: int = 5000,
    dets_per_image: int = 100,
    n_labels: int = 80,
    seed: int = 0,
    *,
    gt_per_image: float = 7.3,
    score_decimals: int = 3,
) -> SyntheticSet:
    """Deterministic synthetic set: Zipf-like classes, jittered true positives, duplicates, low-score false positives.

    ~1% of images have no GT; 90% of GT get a detection (8% of them with a wrong class), 30% of
    those a lower-scored duplicate; the rest of each image's budget is false positives (half
    with a class present in the image). Top ``dets_per_image`` per image by score, region order
    shuffled within each image, scores rounded to ``score_decimals`` so that ties occur.
    """
    rng = np.random.default_rng(seed)
    size = _IMAGE_SIZES[rng.integers(0, len(_IMAGE_SIZES), n_images)]
    width, height = size[:, 0], size[:, 1]
    class_p = 1.0 / np.arange(1, n_labels + 1)
    class_p = class_p[rng.permutation(n_labels)] / class_p.sum()

    n_gt = rng.poisson(gt_per_image, n_images)
    n_gt[rng.random(n_images) < 0.01] = 0
    gt_image = np.repeat(np.arange(n_images), n_gt)
    gt_label = rng.choice(n_labels, len(gt_image), p=class_p)
    gt_xywh = _boxes(rng, width[gt_image], height[gt_image])

    tp = np.flatnonzero(rng.random(len(gt_image)) < 0.9)
    level = rng.uniform(0.0, 0.25, len(tp))
    tp_label = np.where(rng.random(len(tp)) < 0.08, rng.choice(n_labels, len(tp), p=class_p), gt_label[tp])
    tp_score = rng.beta(5, 2, len(tp)) * (1 - level)
    dup = rng.random(len(tp)) < 0.3
    dup_level = level[dup] + rng.uniform(0.05, 0.3, dup.sum())

    # false positives fill each image's budget
    n_true = np.bincount(gt_image[tp], minlength=n_images) + np.bincount(gt_image[tp[dup]], minlength=n_images)
    fp_image = np.repeat(np.arange(n_images), np.maximum(dets_per_image - n_true, 0))
    gt_start = np.cumsum(n_gt) - n_gt
    present = gt_start[fp_image] + (rng.random(len(fp_image)) * n_gt[fp_image]).astype(np.int64)
    fp_label = np.where((rng.random(len(fp_image)) < 0.5) & (n_gt[fp_image] > 0),
                        gt_label[np.minimum(present, max(len(gt_label) - 1, 0))] if len(gt_label) else 0,
                        rng.choice(n_labels, len(fp_image), p=class_p))  # fmt: skip

    dt_image = np.concatenate([gt_image[tp], gt_image[tp[dup]], fp_image])
    dt_label = np.concatenate([tp_label, tp_label[dup], fp_label])
    dt_xywh = np.concatenate([
        _jitter(rng, gt_xywh[tp], level),
        _jitter(rng, gt_xywh[tp[dup]], dup_level),
        _boxes(rng, width[fp_image], height[fp_image]),
    ])  # fmt: skip
    dup_score = tp_score[dup] * rng.uniform(0.3, 0.9, dup.sum())
    dt_score = np.round(np.concatenate([tp_score, dup_score, rng.beta(1.2, 6, len(fp_image))]), score_decimals)

    # top dets_per_image per image, then a random region order within each image
    order = np.lexsort((-dt_score, dt_image))
    first = np.searchsorted(dt_image[order], dt_image[order])
    order = order[np.arange(len(order)) - first < dets_per_image]
    order = order[np.lexsort((rng.random(len(order)), dt_image[order]))]
    gt_xywh, dt_xywh = np.round(gt_xywh, 2), np.round(dt_xywh[order], 2)
    dt_xywh[:, 2:] = np.maximum(dt_xywh[:, 2:], 0.01)
    gt_xywh[:, 2:] = np.maximum(gt_xywh[:, 2:], 0.01)
    return SyntheticSet(width, height, n_labels, gt_image, gt_label, gt_xywh,
                        dt_image[order], dt_label[order], dt_xywh, dt_score[order])  # fmt: skip


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _run_ours(s: SyntheticSet) -> dict:
    from ml_test.geometry.boxes import box_iou_pairs
    from ml_test.metrics.coco import CocoParams, accumulate, match, summarize

    t0 = time.perf_counter()
    gt_area, dt_area = s.gt_xywh[:, 2] * s.gt_xywh[:, 3], s.dt_xywh[:, 2] * s.dt_xywh[:, 3]
    pair_iou = lambda d, g: box_iou_pairs(s.dt_xywh[d], s.gt_xywh[g])  # noqa: E731
    params = CocoParams()
    load_rss = _peak_rss_mb()
    t1 = time.perf_counter()
    m = match(s.gt_image, s.gt_label, gt_area, s.dt_image, s.dt_label, s.dt_score, dt_area, pair_iou, params,
              n_images=len(s.image_width))  # fmt: skip
    t2 = time.perf_counter()
    precision, recall = accumulate(m, s.n_labels, params)
    t3 = time.perf_counter()
    stats = summarize(precision, recall, params)
    t4 = time.perf_counter()
    times = {"load": t1 - t0, "match/evaluate": t2 - t1, "accumulate": t3 - t2, "summarize": t4 - t3, "eval": t4 - t1}
    return {"times": times, "stats": stats, "precision": precision, "recall": recall, "load_rss": load_rss}


def _run_pycocotools(s: SyntheticSet) -> dict:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    t0 = time.perf_counter()
    sizes = zip(s.image_width.tolist(), s.image_height.tolist())
    images = [{"id": i + 1, "width": w, "height": h} for i, (w, h) in enumerate(sizes)]
    gt = {
        "images": images,
        "categories": [{"id": k + 1} for k in range(s.n_labels)],
        "annotations": [
            {"id": j + 1, "image_id": i + 1, "category_id": k + 1, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
            for j, (i, k, b) in enumerate(zip(s.gt_image.tolist(), s.gt_label.tolist(), s.gt_xywh.tolist()))
        ],
    }
    results = [
        {"image_id": i + 1, "category_id": k + 1, "bbox": b, "score": sc}
        for i, k, b, sc in zip(s.dt_image.tolist(), s.dt_label.tolist(), s.dt_xywh.tolist(), s.dt_score.tolist())
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        e = COCOeval(coco_gt, coco_dt, "bbox")
        load_rss = _peak_rss_mb()
        t1 = time.perf_counter()
        e.evaluate()
        t2 = time.perf_counter()
        e.accumulate()
        t3 = time.perf_counter()
        e.summarize()
        t4 = time.perf_counter()
    from ml_test.metrics.coco import STAT_NAMES

    stats = {name: (None if v == -1 else float(v)) for name, v in zip(STAT_NAMES, e.stats)}
    times = {"load": t1 - t0, "match/evaluate": t2 - t1, "accumulate": t3 - t2, "summarize": t4 - t3, "eval": t4 - t1}
    precision, recall = e.eval["precision"], e.eval["recall"]
    return {"times": times, "stats": stats, "precision": precision, "recall": recall, "load_rss": load_rss}


def to_tasks(s: SyntheticSet) -> list[dict]:
    """The set as a Label Studio export: one task per image, ground truth and prediction in percent."""
    gt_pct = s.gt_xywh / np.stack([s.image_width, s.image_height] * 2, axis=1)[s.gt_image] * 100
    dt_pct = s.dt_xywh / np.stack([s.image_width, s.image_height] * 2, axis=1)[s.dt_image] * 100
    gt_bounds = np.searchsorted(s.gt_image, np.arange(len(s.image_width) + 1))
    dt_bounds = np.searchsorted(s.dt_image, np.arange(len(s.image_width) + 1))

    def result(boxes, labels, scores, width, height):
        out = []
        for j, ((x, y, w, h), k) in enumerate(zip(boxes.tolist(), labels.tolist())):
            r = {"id": f"r{j}", "from_name": "label", "to_name": "image", "type": "rectanglelabels",
                 "original_width": width, "original_height": height,
                 "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [f"c{k:02d}"]}}  # fmt: skip
            if scores is not None:
                r["score"] = scores[j]
            out.append(r)
        return out

    tasks = []
    for i, (width, height) in enumerate(zip(s.image_width.tolist(), s.image_height.tolist())):
        g, d = slice(gt_bounds[i], gt_bounds[i + 1]), slice(dt_bounds[i], dt_bounds[i + 1])
        tasks.append({
            "id": i + 1,
            "annotations": [{"id": i + 1, "result": result(gt_pct[g], s.gt_label[g], None, int(width), int(height))}],
            "predictions": [{"id": i + 1, "model_version": "bench",
                             "result": result(dt_pct[d], s.dt_label[d], s.dt_score[d].tolist(), int(width), int(height))}],
        })  # fmt: skip
    return tasks


def as_label_studio_pixels(s: SyntheticSet) -> SyntheticSet:
    """The same set with pixel boxes as the engine reads them back from Label Studio's percent units.

    ``x / W * 100`` then ``x / 100 * W`` need not give back the same float, and the engine clips
    boxes to the image (jittered boxes stick out), so every evaluator is fed the boxes exactly as
    ``ml_test`` derives them from the exported percentages.
    """
    from ml_test.geometry.shapes import box_xywh_px

    def roundtrip(xywh, image):
        w, h = s.image_width[image], s.image_height[image]
        pct = xywh / np.stack([w, h, w, h], axis=1) * 100
        lo = np.maximum(pct[:, :2], 0.0)
        hi = np.minimum(pct[:, :2] + pct[:, 2:], 100.0)
        # regions.py keeps an in-range box as given and clips the others, in percent
        inside = (pct[:, :2] >= 0).all(axis=1) & (pct[:, :2] + pct[:, 2:] <= 100).all(axis=1)
        pct = np.where(inside[:, None], pct, np.concatenate([lo, np.maximum(hi - lo, 0.0)], axis=1))
        return box_xywh_px(pct, w, h)

    return SyntheticSet(**{**asdict(s), "gt_xywh": roundtrip(s.gt_xywh, s.gt_image), "dt_xywh": roundtrip(s.dt_xywh, s.dt_image)})


def _run_engine(s: SyntheticSet) -> dict:
    """The whole engine: ``evaluate()`` on Label Studio task dicts (parsing, per-task scores, reasons, report)."""
    from ml_test import evaluate

    t0 = time.perf_counter()
    tasks = to_tasks(s)
    load_rss = _peak_rss_mb()
    t1 = time.perf_counter()
    report = evaluate(tasks, "mAP", 0.5)
    t2 = time.perf_counter()
    # the report's stats carry label names c00..c79, which sort like pycocotools' category ids
    empty = -np.ones((1,))
    return {"times": {"load": t1 - t0, "eval": t2 - t1}, "stats": report.aggregate, "precision": empty, "recall": empty,
            "load_rss": load_rss}  # fmt: skip


_WORKERS = {"ours": _run_ours, "pycocotools": _run_pycocotools, "engine": _run_engine}


def _worker(name: str, data: Path, out: Path) -> None:
    """Run one evaluator on the saved set; write its arrays, times, stats and peak RSS next to ``out``."""
    with np.load(data) as z:
        s = SyntheticSet(**{k: (int(z[k]) if k == "n_labels" else z[k]) for k in z.files})
    r = _WORKERS[name](s)
    np.savez(out, precision=r["precision"], recall=r["recall"])
    meta = {"times": r["times"], "stats": r["stats"], "load_rss_mb": r["load_rss"], "peak_rss_mb": _peak_rss_mb()}
    out.with_suffix(".json").write_text(json.dumps(meta))


def _launch(name: str, data: Path, tmp: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    out = tmp / f"{name}.npz"
    subprocess.run([sys.executable, __file__, "--worker", name, "--data", str(data), "--out", str(out)], check=True)
    with np.load(out) as z:
        return json.loads(out.with_suffix(".json").read_text()), z["precision"], z["recall"]


def main(argv: list[str] | None = None) -> int:
    """Generate the set, run both evaluators in fresh processes, print the comparison; 1 if they differ."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--dets", type=int, default=100, help="detections per image")
    ap.add_argument("--labels", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worker", choices=sorted(_WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker, args.data, args.out)
        return 0

    t = time.perf_counter()
    original = make_synthetic(args.images, args.dets, args.labels, args.seed)
    s = as_label_studio_pixels(original)
    print(f"synthetic set: {args.images} images, {len(s.gt_image)} GT, {len(s.dt_image)} detections, "
          f"{args.labels} labels, seed {args.seed} ({time.perf_counter() - t:.1f} s)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data, exported = Path(tmp) / "set.npz", Path(tmp) / "exported.npz"
        np.savez(data, **asdict(s))
        # the engine reads the export made from the original boxes and derives the same pixels itself
        np.savez(exported, **asdict(original))
        runs = {name: _launch(name, exported if name == "engine" else data, Path(tmp)) for name in ("ours", "engine", "pycocotools")}

    (ours, p_ours, r_ours), (ref, p_ref, r_ref) = runs["ours"], runs["pycocotools"]
    print(f"\n{'phase (s)':<16}{'ours':>10}{'pycocotools':>14}")
    for phase in ours["times"]:
        print(f"{phase:<16}{ours['times'][phase]:>10.3f}{ref['times'][phase]:>14.3f}")
    for key, label in (("load_rss_mb", "RSS after load"), ("peak_rss_mb", "peak RSS")):
        print(f"{label + ' (MB)':<16}{ours[key]:>10.0f}{ref[key]:>14.0f}")
    print(f"\neval speed-up: {ref['times']['eval'] / ours['times']['eval']:.1f}x")

    engine = runs["engine"][0]
    print(f"\nwhole engine, evaluate() on {args.images} Label Studio tasks (parse, match, per-task scores, reasons, report):")
    print(f"  evaluate {engine['times']['eval']:.3f} s, peak RSS {engine['peak_rss_mb']:.0f} MB (building the task dicts: "
          f"{engine['times']['load']:.1f} s)")  # fmt: skip
    print(f"  speed-up over pycocotools eval: {ref['times']['eval'] / engine['times']['eval']:.1f}x; "
          f"over pycocotools load + eval: {(ref['times']['load'] + ref['times']['eval']) / engine['times']['eval']:.1f}x")

    same_stats = ours["stats"] == ref["stats"] and engine["stats"] == ref["stats"]
    same_arrays = np.array_equal(p_ours, p_ref) and np.array_equal(r_ours, r_ref)
    print(f"\n{'stat':<12}{'ours':>22}{'pycocotools':>22}")
    for name, v in ours["stats"].items():
        print(f"{name:<12}{v!r:>22}{ref['stats'][name]!r:>22}")
    print(f"\n12 stats identical (kernel, engine, pycocotools): {same_stats}; "
          f"precision/recall arrays bit-identical: {same_arrays}")
    return 0 if same_stats and same_arrays else 1


if __name__ == "__main__":
    sys.exit(main())
