"""The JSON report: ``Report.to_dict()`` with a schema version, written atomically."""

from __future__ import annotations

import json
import os

from ..results import Report

__all__ = ["write_json"]


def write_json(report: Report, path: str | os.PathLike) -> None:
    """Write the report as JSON (NaN never appears: undefined values are null)."""
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report.to_dict(), f, indent=1, allow_nan=False, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
