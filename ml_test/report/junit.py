"""JUnit XML: one test case per task, so any CI that reads JUnit shows the verdicts."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from ..results import Report
from .format import score_text

__all__ = ["write_junit"]


def write_junit(report: Report, path: str | os.PathLike) -> None:
    """Write a JUnit XML file with a ``testcase`` per task and the score as a property."""
    suite = ET.Element(
        "testsuite",
        name=f"ml-test {report.metric}",
        tests=str(report.total),
        failures=str(report.failed),
        skipped=str(report.skipped),
        errors="0",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (("metric", report.metric), ("threshold", report.threshold), ("score", report.score)):
        ET.SubElement(props, "property", name=key, value=str(value))
    for t in report.tasks:
        case = ET.SubElement(suite, "testcase", classname=report.source, name=f"task-{t.name}", file=report.source, line=str(t.line))
        cprops = ET.SubElement(case, "properties")
        ET.SubElement(cprops, "property", name="score", value=score_text(t.score, t.threshold))
        ET.SubElement(cprops, "property", name="threshold", value=str(t.threshold))
        if t.status == "failed":
            failure = ET.SubElement(
                case, "failure", message=f"{report.metric} {score_text(t.score, t.threshold)} fails {report.comparator} {t.threshold:g}"
            )
            failure.text = "\n".join(t.reasons)
        elif t.status == "skipped":
            ET.SubElement(case, "skipped", message="; ".join(t.reasons))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
