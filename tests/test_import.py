"""``ml-test import``: COCO results and YOLO folders merged into a tasks file, matched by file name."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from ml_test import evaluate
from ml_test.cli import main
from ml_test.import_results import image_keys, read_names

W, H = 400, 200
LABELS = ["car", "person"]
# Image paths the way Label Studio stores them, each with the file name the model saw.
IMAGES = {
    101: ("/data/upload/3/1a2b3c4d-street_101.jpg", "street_101.jpg"),
    102: ("/data/local-files/?d=images%2Fstreet_102.jpg", "street_102.jpg"),
    103: ("s3://bucket/raw/street_103.jpg", "street_103.jpg"),
}
BOXES = {  # per task: (label, x, y, w, h) in pixels
    101: [("car", 40, 20, 100, 60), ("person", 300, 50, 30, 120)],
    102: [("person", 10, 10, 50, 150)],
    103: [],
}


def ls_box(label, x, y, w, h, rid):
    return {"id": rid, "from_name": "label", "to_name": "image", "type": "rectanglelabels", "original_width": W,
            "original_height": H, "value": {"x": x / W * 100, "y": y / H * 100, "width": w / W * 100,
            "height": h / H * 100, "rotation": 0, "rectanglelabels": [label]}}  # fmt: skip


def write_tasks(tmp_path: Path, boxes=BOXES, old_prediction=True) -> Path:
    tasks = []
    for tid, (path, _) in IMAGES.items():
        gt = [ls_box(*b, rid=f"g{tid}{i}") for i, b in enumerate(boxes[tid])]
        t = {"id": tid, "data": {"image": path}, "annotations": [{"id": tid, "result": gt}]}
        if old_prediction:
            t["predictions"] = [{"model_version": "old", "result": []}]
        tasks.append(t)
    out = tmp_path / "tasks.json"
    out.write_text(json.dumps(tasks))
    return out


def write_coco(tmp_path: Path, skip: tuple[int, ...] = ()) -> tuple[Path, Path]:
    images = [{"id": i, "file_name": name, "width": W, "height": H} for i, (_, name) in enumerate(IMAGES.values())]
    images.append({"id": 99, "file_name": "not_in_tasks.jpg", "width": W, "height": H})
    gt = {"images": images, "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}], "annotations": []}
    results = [
        {"image_id": i, "category_id": LABELS.index(label) + 1, "bbox": [x, y, w, h], "score": 0.9 - 0.1 * j}
        for i, tid in enumerate(IMAGES) if tid not in skip
        for j, (label, x, y, w, h) in enumerate(BOXES[tid])
    ] + [{"image_id": 99, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}]  # fmt: skip
    (tmp_path / "instances.json").write_text(json.dumps(gt))
    (tmp_path / "results.json").write_text(json.dumps(results))
    return tmp_path / "results.json", tmp_path / "instances.json"


def write_yolo(tmp_path: Path) -> Path:
    folder = tmp_path / "labels"
    folder.mkdir()
    for tid, (_, name) in IMAGES.items():
        lines = [
            f"{LABELS.index(label)} {(x + w / 2) / W} {(y + h / 2) / H} {w / W} {h / H} 0.8"
            for label, x, y, w, h in BOXES[tid]
        ]
        if lines:  # ultralytics writes no file for an image without detections
            (folder / f"{Path(name).stem}.txt").write_text("\n".join(lines) + "\n")
    (folder / "classes.txt").write_text("car\nperson\n")
    (folder / "stray_image.txt").write_text("0 0.5 0.5 0.1 0.1 0.3\n")
    return folder


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["import", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_coco_results_merge_and_score_perfectly(tmp_path, capsys):
    tasks, (results, instances) = write_tasks(tmp_path), write_coco(tmp_path)
    out = tmp_path / "test_tasks.json"
    code, stdout, stderr = run(capsys, tasks, "--coco", results, "--coco-gt", instances, "-o", out)
    assert code == 0, stderr
    assert "3 tasks: 2 matched" in stdout and "1 without detections" in stdout and "not_in_tasks.jpg" in stdout
    written = json.loads(out.read_text())
    # the old model's prediction stays; the new one is added last, named after the results file
    assert [p["model_version"] for p in written[0]["predictions"]] == ["old", "results"]
    report = evaluate(str(out), "mAP", 0.99, model_version="results")
    assert [(t.id, t.status) for t in report.tasks] == [(101, "passed"), (102, "passed"), (103, "passed")]
    assert report.tasks[0].score == pytest.approx(1.0)


def test_importing_again_replaces_the_same_model_version(tmp_path, capsys):
    tasks, (results, instances) = write_tasks(tmp_path), write_coco(tmp_path)
    out = tmp_path / "once.json"
    assert run(capsys, tasks, "--coco", results, "--coco-gt", instances, "-o", out, "--model-version", "v1")[0] == 0
    assert run(capsys, out, "--coco", results, "--coco-gt", instances, "-o", out, "--model-version", "v1")[0] == 0
    assert [p["model_version"] for p in json.loads(out.read_text())[0]["predictions"]] == ["old", "v1"]


def test_yolo_folder_merges_with_class_names(tmp_path, capsys):
    tasks, folder = write_tasks(tmp_path, old_prediction=False), write_yolo(tmp_path)
    out = tmp_path / "test_tasks.json"
    code, stdout, stderr = run(capsys, tasks, "--yolo", folder, "--names", folder / "classes.txt", "-o", out)
    assert code == 0, stderr
    assert "stray_image.txt" in stdout
    written = json.loads(out.read_text())
    assert [len(t["predictions"][0]["result"]) for t in written] == [2, 1, 0]
    assert written[0]["predictions"][0]["result"][0]["score"] == 0.8
    report = evaluate(str(out), "mAP", 0.99)
    assert all(t.status == "passed" for t in report.tasks) and report.tasks[0].score == pytest.approx(1.0)


def test_yolo_polygons_and_oriented_boxes(tmp_path, capsys):
    # polygons: a task whose control is a PolygonLabels
    poly = [[40, 20], [140, 20], [140, 80]]
    gt = {"id": "p", "from_name": "seg", "to_name": "image", "type": "polygonlabels", "original_width": W,
          "original_height": H, "value": {"points": [[x / W * 100, y / H * 100] for x, y in poly], "polygonlabels": ["car"]}}  # fmt: skip
    tasks = tmp_path / "poly.json"
    tasks.write_text(json.dumps([{"id": 1, "data": {"image": "a/b/frame1.png"}, "annotations": [{"result": [gt]}]}]))
    folder = tmp_path / "seg"
    folder.mkdir()
    (folder / "frame1.txt").write_text("0 " + " ".join(f"{x / W} {y / H}" for x, y in poly) + " 0.7\n")
    out = tmp_path / "poly_out.json"
    assert run(capsys, tasks, "--yolo", folder, "--names", "car,person", "-o", out)[0] == 0
    assert evaluate(str(out), "iou", 0.999).tasks[0].score == pytest.approx(1.0)

    # oriented boxes: 8 normalized corner coordinates and a confidence on a rectangle control
    cx, cy, w, h, t = 200, 100, 80, 40, math.radians(25)
    c, s = math.cos(t), math.sin(t)
    corners = [
        (cx + c * dx - s * dy, cy + s * dx + c * dy)
        for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
    ]
    p0 = corners[0]
    rgt = ls_box("car", p0[0], p0[1], w, h, "r")
    rgt["value"]["rotation"] = 25.0
    tasks = tmp_path / "obb.json"
    tasks.write_text(json.dumps([{"id": 2, "data": {"image": "frame2.jpg"}, "annotations": [{"result": [rgt]}]}]))
    folder = tmp_path / "obb"
    folder.mkdir()
    (folder / "frame2.txt").write_text("0 " + " ".join(f"{x / W} {y / H}" for x, y in corners) + " 0.9\n")
    out = tmp_path / "obb_out.json"
    assert run(capsys, tasks, "--yolo", folder, "--names", "car,person", "-o", out)[0] == 0
    assert evaluate(str(out), "iou", 0.999).tasks[0].score == pytest.approx(1.0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--coco", "RESULTS", "--yolo", "FOLDER"], "not allowed with argument"),
        (["--yolo", "NOWHERE"], "not a folder of YOLO .txt predictions"),
        (["--coco", "RESULTS"], "class ids need --names"),  # no --coco-gt: category ids have no names
    ],
)
def test_usage_and_input_errors_exit_2_without_traceback(tmp_path, capsys, args, message):
    tasks, (results, _) = write_tasks(tmp_path), write_coco(tmp_path)
    args = [str(results) if a == "RESULTS" else str(tmp_path / "nowhere") if a == "NOWHERE" else a for a in args]
    # without --coco-gt the image ids cannot name files: name the results by the stems instead
    data = json.loads(results.read_text())
    for d in data:
        d["image_id"] = f"street_{101 + d['image_id']}" if d["image_id"] != 99 else "x"
    results.write_text(json.dumps(data))
    code, _, stderr = run(capsys, tasks, *args, "-o", tmp_path / "o.json")
    assert code == 2 and message in stderr and "Traceback" not in stderr


def test_nothing_matching_is_an_error_showing_both_sides(tmp_path, capsys):
    tasks, folder = write_tasks(tmp_path), tmp_path / "other"
    folder.mkdir()
    (folder / "IMG_0001.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    code, _, stderr = run(capsys, tasks, "--yolo", folder, "--names", "car,person")
    assert code == 2
    assert (
        "no prediction matched a task image by file name (predictions: IMG_0001; tasks: 1a2b3c4d-street_101" in stderr
    )


def test_the_installed_command_dispatches_import(tmp_path):
    tasks, folder = write_tasks(tmp_path), write_yolo(tmp_path)
    r = subprocess.run([sys.executable, "-m", "ml_test", "import", str(tasks), "--yolo", str(folder), "--names",
                        str(folder / "classes.txt"), "-o", str(tmp_path / "t.json")], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "t.json").exists()
    r = subprocess.run([sys.executable, "-m", "ml_test", "import", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--coco" in r.stdout


@pytest.mark.parametrize(
    "value, keys",
    [
        ("/data/upload/3/1a2b3c4d-street_101.jpg", ["1a2b3c4d-street_101", "street_101"]),
        ("/data/local-files/?d=images%2Fstreet%20102.jpg", ["street 102"]),
        ("s3://bucket/raw/street_103.jpg", ["street_103"]),
        ("C:\\data\\frame.png", ["frame"]),
        (None, []),
    ],
)
def test_image_keys(value, keys):
    assert image_keys(value) == keys


@pytest.mark.parametrize("without_pyyaml", [False, True])
def test_read_names_formats(tmp_path, monkeypatch, without_pyyaml):
    if without_pyyaml:  # PyYAML is not a dependency: the fallback reads the usual data.yaml layouts
        monkeypatch.setitem(sys.modules, "yaml", None)
    (tmp_path / "data.yaml").write_text("path: x\nnames:\n  0: car\n  1: person\n")
    (tmp_path / "list.yaml").write_text("names: [car, person]\n")
    (tmp_path / "dash.yaml").write_text("names:\n  - car\n  - 'person'\nnc: 2\n")
    (tmp_path / "flush.yaml").write_text("names:\n- car\n- person\n")
    (tmp_path / "names.json").write_text(json.dumps({"categories": [{"id": 3, "name": "car"}]}))
    (tmp_path / "classes.txt").write_text("car\n\nperson\n")
    assert read_names("car,person") == {0: "car", 1: "person"}
    for name in ("data.yaml", "list.yaml", "dash.yaml", "flush.yaml", "classes.txt"):
        assert read_names(str(tmp_path / name)) == {0: "car", 1: "person"}, name
    assert read_names(str(tmp_path / "names.json")) == {3: "car"}
