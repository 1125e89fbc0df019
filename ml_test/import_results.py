"""``ml-test import``: merge COCO results or YOLO ``.txt`` predictions into a Label Studio tasks file.

Images are matched to tasks by file name (stem), after undoing what Label Studio does to paths:
URL quoting, ``/data/local-files/?d=...`` and the 8-hex-digit prefix it gives uploaded files
(``/data/upload/3/1a2b3c4d-street_101.jpg`` matches ``street_101.txt``). Every task gets one
prediction of ``--model-version`` (replacing an older one of that version); a task whose image
has no predictions gets an empty one, because both formats leave out images with no detection.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np

from .converters import BboxConverter, PolygonConverter, RotatedBboxConverter, find_target
from .converters._base import make_prediction
from .converters.task_info import data_path
from .errors import InputError, MLTestError, UsageError
from .tasks import read_task_objects

__all__ = ["main", "ImportOptions", "run_import", "image_keys", "read_names"]

EXIT_OK, EXIT_USAGE = 0, 2
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")


@dataclass(frozen=True)
class ImportOptions:
    """What ``ml-test import`` was asked to do."""

    tasks: str
    output: str = "test_tasks.json"
    coco: str | None = None
    coco_gt: str | None = None
    yolo: str | None = None
    names: str | None = None
    from_name: str | None = None
    to_name: str | None = None
    model_version: str | None = None
    image_size: str | None = None


@dataclass
class _Image:
    """The predictions read for one image."""

    name: str
    rows: list[tuple[str, Any, Any, float | None]] = field(default_factory=list)  # (kind, geometry, class, score)
    size: tuple[float, float] | None = None


def image_keys(value: Any) -> list[str]:
    """Match keys of a task's image: the file stem, then the stem without Label Studio's upload prefix."""
    if not isinstance(value, str) or not value:
        return []
    parsed = urlparse(value)
    path = parse_qs(parsed.query).get("d", [parsed.path or value])[0]
    base = unquote(path).replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    keys = [stem]
    if _UPLOAD_PREFIX.match(stem):
        keys.append(stem[9:])
    return keys


def read_names(spec: str) -> dict[Any, str]:
    """Class id -> name from ``A,B,C``, a classes.txt, a JSON list/dict, COCO categories or a YOLO data.yaml."""
    if not os.path.exists(spec):
        if "," in spec or not any(spec.endswith(e) for e in (".txt", ".json", ".yaml", ".yml")):
            return dict(enumerate(s.strip() for s in spec.split(",")))
        raise UsageError(f"--names: no such file {spec!r}")
    text = Path(spec).read_text(encoding="utf-8")
    if spec.endswith(".json"):
        data = json.loads(text)
        if isinstance(data, dict) and "categories" in data:
            return {c["id"]: str(c["name"]) for c in data["categories"]}
        return _names_from(data, spec)
    if spec.endswith((".yaml", ".yml")):
        return _names_from(_yaml_names(text, spec), spec)
    return dict(enumerate(line.strip() for line in text.splitlines() if line.strip()))


def _names_from(data: Any, spec: str) -> dict[Any, str]:
    if isinstance(data, list):
        return dict(enumerate(map(str, data)))
    if isinstance(data, dict):
        return {int(k) if str(k).lstrip("-").isdigit() else k: str(v) for k, v in data.items()}
    raise UsageError(f"--names {spec}: expected a list or a mapping of class names")


def _yaml_names(text: str, spec: str) -> Any:
    """``names`` of a YOLO data.yaml: PyYAML when installed, else its three usual layouts."""
    try:
        import yaml  # type: ignore[import-untyped]

        return (yaml.safe_load(text) or {}).get("names")
    except ImportError:
        pass
    m = re.search(r"^names:\s*\[(.*?)\]", text, re.M | re.S)
    if m:
        return [s.strip().strip("'\"") for s in m.group(1).split(",") if s.strip()]
    block = re.search(r"^names:[ \t]*\n((?:(?:[ \t]+|-[ \t]).*\n?)+)", text, re.M)
    if not block:
        raise UsageError(f"--names {spec}: no 'names:' list found")
    items = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    if all(i.startswith("-") for i in items):
        return [i[1:].strip().strip("'\"") for i in items]
    return {k.strip(): v.strip().strip("'\"") for k, v in (i.split(":", 1) for i in items)}


def _load_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputError(f"{path}: cannot read the {what}: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from e


def read_coco(path: str, gt_path: str | None, polygons: bool) -> tuple[dict[str, _Image], dict[Any, str]]:
    """Images (by stem) with their boxes (xywh px) or polygon rings, and the categories when known."""
    data = _load_json(path, "COCO results")
    images_meta: dict[Any, dict] = {}
    categories: dict[Any, str] = {}
    for source in ([data] if isinstance(data, dict) else []) + (
        [_load_json(gt_path, "COCO ground truth")] if gt_path else []
    ):
        images_meta.update({im["id"]: im for im in source.get("images", []) if isinstance(im, dict) and "id" in im})
        categories.update(
            {c["id"]: str(c["name"]) for c in source.get("categories", []) if isinstance(c, dict) and "id" in c}
        )
    detections = data.get("annotations", []) if isinstance(data, dict) else data
    if not isinstance(detections, list):
        raise InputError(f"{path}: expected a list of detections (image_id, category_id, bbox, score)")
    images: dict[str, _Image] = {}
    for i, d in enumerate(detections):
        if not isinstance(d, dict) or "image_id" not in d or "bbox" not in d:
            raise InputError(f"{path}: detection #{i}: needs image_id, category_id and bbox")
        meta = images_meta.get(d["image_id"])
        name = meta.get("file_name", str(d["image_id"])) if meta else str(d["image_id"])
        keys = image_keys(name)
        image = images.setdefault(keys[0] if keys else name, _Image(name))
        if meta and meta.get("width") and meta.get("height"):
            image.size = (float(meta["width"]), float(meta["height"]))
        score = d.get("score")
        seg = d.get("segmentation")
        if polygons and isinstance(seg, list) and seg:
            rings = seg if isinstance(seg[0], list) else [seg]
            for ring in rings:  # one region per ring: Label Studio polygons have no holes or parts
                image.rows.append(
                    ("polygon", np.asarray(ring, dtype=np.float64).reshape(-1, 2), d.get("category_id"), score)
                )
        else:
            image.rows.append(("box", np.asarray(d["bbox"], dtype=np.float64), d.get("category_id"), score))
    return images, categories


def read_yolo(folder: str, rotated: bool) -> dict[str, _Image]:
    """Images (by .txt stem) with their rows: ``cls cx cy w h [conf]``, ``cls x1 y1 ... x4 y4 [conf]`` or polygons."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{folder}: not a folder of YOLO .txt predictions")
    images: dict[str, _Image] = {}
    for txt in sorted(root.rglob("*.txt")):
        if txt.name == "classes.txt":
            continue
        image = images.setdefault(txt.stem, _Image(txt.name))
        for lineno, line in enumerate(txt.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                cols = [float(v) for v in line.split()]
            except ValueError:
                raise InputError(f"{txt}:{lineno}: expected numbers: class x y ... [confidence]") from None
            n = len(cols) - 1
            if n in (4, 5):
                image.rows.append(("ybox", np.asarray(cols[1:5]), int(cols[0]), cols[5] if n == 5 else None))
            elif rotated and n in (8, 9):
                image.rows.append(("obb", np.asarray(cols[1:9]), int(cols[0]), cols[9] if n == 9 else None))
            elif n >= 6:
                points, score = (cols[1:-1], cols[-1]) if n % 2 else (cols[1:], None)
                image.rows.append(("ypolygon", np.asarray(points).reshape(-1, 2), int(cols[0]), score))
            else:
                raise InputError(
                    f"{txt}:{lineno}: expected 5 or 6 columns (class cx cy w h [conf]) or a polygon, got {n + 1}"
                )
    return images


def _convert(
    task: dict, image: _Image | None, opts: ImportOptions, targets: dict[str, Any], names: dict[Any, str] | None
) -> list[dict]:
    """The result items for one task."""
    if image is None:
        return []
    size = image.size or opts.image_size
    by_kind: dict[str, list] = defaultdict(list)
    for row in image.rows:
        by_kind[row[0]].append(row)
    results: list[dict] = []
    for kind, rows in by_kind.items():
        geometry = [r[1] for r in rows]
        classes = [names.get(r[2], r[2]) if names else r[2] for r in rows] if names or any(r[2] for r in rows) else None
        scores = [1.0 if r[3] is None else r[3] for r in rows]
        control = targets["polygon" if kind in ("polygon", "ypolygon") else "box"]
        if control is None:
            wanted = "polygonlabels" if kind in ("polygon", "ypolygon") else "rectanglelabels"
            raise UsageError(
                f"{image.name}: holds {kind} predictions but the tasks have no {wanted} control; pass --from-name/--to-name"
            )
        kw = {"from_name": control.from_name, "to_name": control.to_name, "image_size": size}
        if kind == "box":
            conv: Any = BboxConverter(np.stack(geometry), classes, scores, format="xywh")
        elif kind == "ybox":
            conv = BboxConverter(np.stack(geometry), classes, scores, format="cxcywh", normalized=True)
        elif kind == "obb":
            conv = RotatedBboxConverter(np.stack(geometry), classes, scores, format="xyxyxyxy", normalized=True)
        else:
            conv = PolygonConverter(geometry, classes, scores, normalized=kind == "ypolygon")
        try:
            results += conv.to_results(task, **kw)
        except MLTestError as e:
            hint = " (class ids need --names)" if "label_map" in str(e) else ""
            raise InputError(f"{image.name}: {e}{hint}") from None
    return results


def run_import(opts: ImportOptions) -> tuple[list[dict], str]:
    """Merge the predictions into the tasks; returns the tasks and a one-line summary."""
    if bool(opts.coco) == bool(opts.yolo):
        raise UsageError("give exactly one of --coco RESULTS.json and --yolo FOLDER")
    tasks = [t for _, t in read_task_objects(opts.tasks)]
    everything = {"annotations": [a for t in tasks for a in (t.get("annotations") or t.get("completions") or [])]}
    where = f"{opts.tasks}"
    targets = {
        kind: find_target(everything, kind, from_name=opts.from_name, to_name=opts.to_name, where=where, required=False)
        for kind in ("box", "polygon")
    }
    if not any(targets.values()):
        raise UsageError(
            f"{opts.tasks}: the annotations have no rectanglelabels or polygonlabels control; pass --from-name and --to-name"
        )
    names = read_names(opts.names) if opts.names else None
    if opts.coco:
        images, categories = read_coco(opts.coco, opts.coco_gt, polygons=targets["box"] is None)
        names = names or categories or None
        source = opts.coco
    else:
        images = read_yolo(opts.yolo or "", rotated=targets["box"] is not None)
        source = opts.yolo or ""
    model_version = opts.model_version or Path(source.rstrip("/")).stem

    exact: dict[str, list[int]] = defaultdict(list)
    loose: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(tasks):
        keys = image_keys(data_path(t, targets["box"] or targets["polygon"]))
        for j, k in enumerate(keys):
            (exact if j == 0 else loose)[k].append(i)
    matched: dict[int, _Image] = {}
    unmatched: list[str] = []
    for stem, image in images.items():
        hits = exact.get(stem) or loose.get(stem) or []
        if len(hits) > 1:
            ids = ", ".join(str(tasks[h].get("id")) for h in hits)
            raise InputError(f"{image.name}: matches {len(hits)} tasks ({ids}): file names must be unique")
        if hits:
            matched[hits[0]] = image
        else:
            unmatched.append(image.name)
    if images and not matched:
        task_names = sorted(exact)[:3]
        raise InputError(
            f"{source}: no prediction matched a task image by file name (predictions: {', '.join(sorted(images)[:3])}; "
            f"tasks: {', '.join(task_names) or 'no image paths'})"
        )
    regions = 0
    for i, t in enumerate(tasks):
        results = _convert(t, matched.get(i), opts, targets, names)
        regions += len({r["id"] for r in results})
        kept = [
            p
            for p in t.get("predictions") or []
            if not (isinstance(p, dict) and p.get("model_version") == model_version)
        ]
        t["predictions"] = kept + [make_prediction(results, model_version)]
    summary = (
        f"{len(tasks)} tasks: {len(matched)} matched {source} ({regions} regions), "
        f"{len(tasks) - len(matched)} without detections; {len(unmatched)} prediction files matched no task"
    )
    if unmatched:
        summary += f" ({', '.join(unmatched[:5])}{', ...' if len(unmatched) > 5 else ''})"
    return tasks, summary


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ml-test import",
        description="Merge a model's COCO results or YOLO .txt predictions into a Label Studio tasks export, "
        "matching images by file name.",
        epilog="Exit codes: 0 written, 2 usage or input error.",
    )
    p.add_argument("tasks", help="Label Studio JSON export with the ground truth (tasks.json)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--coco",
        metavar="RESULTS.json",
        help="COCO results: [{image_id, category_id, bbox, score}] (or a COCO dataset file)",
    )
    src.add_argument(
        "--yolo",
        metavar="FOLDER",
        help="folder of YOLO .txt files: class cx cy w h [conf] (normalized), OBB corners or polygons",
    )
    p.add_argument(
        "--coco-gt",
        metavar="INSTANCES.json",
        help="COCO file giving image file names, sizes and category names for --coco",
    )
    p.add_argument(
        "--names",
        metavar="FILE|A,B,C",
        help="class names: classes.txt, data.yaml, JSON list/dict, COCO categories, or A,B,C",
    )
    p.add_argument("--from-name", help="control to write to (default: the one in the annotations)")
    p.add_argument("--to-name", help="object the control labels (default: from the annotations)")
    p.add_argument(
        "--model-version", help="model_version of the new predictions (default: the results file or folder name)"
    )
    p.add_argument(
        "--image-size",
        metavar="WxH",
        help="image size for COCO pixel boxes when neither the tasks nor --coco-gt give it",
    )
    p.add_argument(
        "-o", "--output", default="test_tasks.json", help="where to write the tasks (default: test_tasks.json)"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``ml-test import ...``: returns 0 when the file was written, 2 on a usage or input error."""
    try:
        a = _parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed the usage error (or --help)
        return int(e.code or 0)
    opts = ImportOptions(
        tasks=a.tasks, output=a.output, coco=a.coco, coco_gt=a.coco_gt, yolo=a.yolo, names=a.names,
        from_name=a.from_name, to_name=a.to_name, model_version=a.model_version, image_size=a.image_size,
    )  # fmt: skip
    try:
        tasks, summary = run_import(opts)
        with open(opts.output, "w", encoding="utf-8") as f:
            json.dump(tasks, f, indent=2, ensure_ascii=False)
            f.write("\n")
    except MLTestError as e:
        print(f"ml-test import: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"ml-test import: error: cannot write {opts.output}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USAGE
    print(f"ml-test import: {summary}; wrote {opts.output}")
    return EXIT_OK
