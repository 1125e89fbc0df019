"""The ``ml-test`` command: parse options, call ``evaluate``, render the report, return an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

from . import __version__
from .engine import evaluate
from .errors import MLTestError
from .github import in_github_actions, stop_commands
from .metrics import REGISTRY
from .progress import wants_progress
from .report import render_terminal, write_json, write_junit

__all__ = ["main", "run", "Options", "EXIT_OK", "EXIT_TESTS_FAILED", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_TESTS_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Options:
    """Everything the command was asked to do."""

    test_data: str
    metric: str = "mAP"
    threshold: float = 0.5
    iou: float | None = None
    distance: float | None = None
    compat: str | None = None
    controls: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    model_version: str | None = None
    image_size: str | None = None
    json_path: str | None = None
    junit_path: str | None = None
    verbose: int = 0


def _split(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())


def _parser() -> argparse.ArgumentParser:
    metrics = ", ".join(spec.name for spec in REGISTRY.values())
    p = argparse.ArgumentParser(
        prog="ml-test",
        description="Score a model's Label Studio predictions against the ground truth, one unit test per task.",
        epilog=(
            f"metrics: {metrics}. Exit codes: 0 all tasks passed, 1 a task failed, 2 usage or input error. "
            "`ml-test import --help`: merge COCO or YOLO model results into a Label Studio tasks file."
        ),
    )
    p.add_argument("test_data", nargs="?", help="Label Studio export with annotations and predictions (JSON, JSON lines, .gz)")
    p.add_argument("--test-data", "--test_data", dest="test_data_opt", metavar="PATH", help=argparse.SUPPRESS)
    p.add_argument("--metric", "-m", default="mAP", help="metric to score each task with (default: mAP)")
    p.add_argument("--threshold", "-t", type=float, default=0.5,
                   help="a task passes when its score >= this (<= for error metrics such as cer, abs_error; default: 0.5)")
    p.add_argument("--iou", type=float, help="IoU needed to match regions (default 0.5; text spans: exact)")
    p.add_argument("--distance", type=float,
                   help="keypoints: match distance in pixels, or a share of the image diagonal when below 1 (default 0.05)")
    p.add_argument("--compat", choices=["evalme"],
                   help="reproduce label-studio-evalme's semantics and metric names (iou_bboxes, f1_bboxes, naive, ...)")
    p.add_argument("--control", action="append", metavar="NAME", help="score only this control (from_name); repeatable")
    p.add_argument("--labels", action="append", metavar="A,B", help="score only these labels")
    p.add_argument("--model-version", help="test the prediction of this model version (default: the newest)")
    p.add_argument("--image-size", metavar="WxH", help="image size for results without original_width/height")
    p.add_argument("--json", dest="json_path", metavar="PATH", help="write the JSON report here")
    p.add_argument("--junit", dest="junit_path", metavar="PATH", help="write a JUnit XML report here")
    p.add_argument("-v", "--verbose", action="count", default=0, help="list every task's score")
    p.add_argument("-q", "--quiet", action="count", default=0, help="print the summary line only")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def parse_args(argv: Sequence[str] | None) -> Options:
    """Turn command-line arguments into Options (argparse exits with 2 on a usage error)."""
    parser = _parser()
    a = parser.parse_args(argv)
    test_data = a.test_data or a.test_data_opt
    if not test_data:
        parser.error("the test data file is required: ml-test TEST_DATA")
    return Options(
        test_data=test_data,
        metric=a.metric,
        threshold=a.threshold,
        iou=a.iou,
        distance=a.distance,
        compat=a.compat,
        controls=_split(a.control),
        labels=_split(a.labels),
        model_version=a.model_version,
        image_size=a.image_size,
        json_path=a.json_path,
        junit_path=a.junit_path,
        verbose=a.verbose - a.quiet,
    )


def run(options: Options, env: Mapping[str, str] | None = None) -> int:
    """Evaluate, print, write the requested files, and return the exit code."""
    env = os.environ if env is None else env
    guard = in_github_actions(env)
    try:
        report = evaluate(
            options.test_data,
            options.metric,
            options.threshold,
            iou=options.iou,
            distance=options.distance,
            compat=options.compat,
            controls=options.controls or None,
            labels=options.labels or None,
            model_version=options.model_version,
            image_size=options.image_size,
            progress=wants_progress(sys.stderr, env),
        )
        if options.json_path:
            write_json(report, options.json_path)
        if options.junit_path:
            write_junit(report, options.junit_path)
    except MLTestError as e:
        with stop_commands(guard, sys.stderr):
            print(f"ml-test: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"ml-test: error: cannot write the report: {e}", file=sys.stderr)
        return EXIT_USAGE
    color = sys.stdout.isatty() and "NO_COLOR" not in env and not guard
    with stop_commands(guard):
        print(render_terminal(report, verbose=options.verbose, color=color))
    return EXIT_OK if report.ok else EXIT_TESTS_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["import"]:
        from .import_results import main as import_main

        return import_main(args[1:])
    argv = args
    try:
        return run(parse_args(argv))
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: not an error of ours, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
