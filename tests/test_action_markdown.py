"""The job summary and PR comment Markdown: content, escaping of user text (rendered with GitHub's cmark-gfm), budgets."""

from __future__ import annotations

import html
import re

import pytest

from conftest import rect, task
from ml_test import evaluate
from ml_test.action.links import task_url
from ml_test.report.markdown import COMMENT_TASKS, escape_markdown, render_comment, render_error, render_summary

HOSTILE_LABELS = [
    "<img src=x onerror=alert(1)>",
    "[click](https://evil.example)",
    "https://evil.example/x",
    "www.evil.example",
    "a|b",
    "@octocat",
    "**bold** `code` $x$ :smile:",
    "line\nbreak",
    "&lt;script&gt;",
]


def gfm(markdown: str) -> str:
    """HTML as GitHub renders it (cmark-gfm, raw HTML allowed as in a job summary)."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def hostile_report():
    tasks = [task(i + 1, [rect(10, 10, 20, 20, label)], []) for i, label in enumerate(HOSTILE_LABELS)]
    tasks.append(task("<b>id</b>", [rect(10, 10, 20, 20, "ok")], [rect(10, 10, 20, 20, "ok", 0.9)]))
    return evaluate(tasks, "mAP", 0.5)


def test_user_text_cannot_add_html_links_or_cells():
    report = hostile_report()
    link = lambda t: task_url("https://ls.example.com/projects/1", t.id)  # noqa: E731
    summary = render_summary(report, data_path="data/<evil>.json", link=link)
    comment = render_comment(report, data_path="data/<evil>.json", marker="<!-- m -->", link=link)
    for markdown in (summary, comment):
        rendered = gfm(markdown)
        tags = set(re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", rendered))
        assert tags <= {
            "h2",
            "h4",
            "h3",
            "p",
            "strong",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "a",
            "br",
            "details",
            "summary",
            "code",
        }
        hrefs = re.findall(r'href="([^"]*)"', rendered)
        assert hrefs and all(h.startswith("https://ls.example.com/projects/1/data?task=") for h in hrefs)
        assert "mailto:" not in rendered and "<img" not in rendered and "<b>" not in rendered
        text = html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\u200b", "")
        for label in HOSTILE_LABELS[:7]:
            assert label in text  # shown literally, not interpreted
    assert "line break" in html.unescape(gfm(summary))


def test_each_failing_row_keeps_its_label_in_its_own_cell():
    # GFM drops cells beyond the header's count, so an unescaped '|' would push the reason out of the row
    rendered = gfm(render_summary(hostile_report(), data_path="t.json"))
    failing = rendered.split("Failing tasks")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", failing, flags=re.S)[1:]
    assert len(rows) == len(HOSTILE_LABELS)
    for row, label in zip(
        sorted(rows, key=lambda r: int(re.search(r"<td>(\d+)", r).group(1))), HOSTILE_LABELS, strict=True
    ):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)).replace("\u200b", "")
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        assert cells[3].startswith("missed " + label.replace("\n", " ") + " at ")


def test_escape_markdown_examples():
    assert escape_markdown("a|b") == "a\\|b"
    assert escape_markdown("<x>&") == "&lt;x&gt;&amp;"
    assert escape_markdown("@me") == "@\u200bme"
    assert escape_markdown("1.5\n2") == "1\\.5 2"


def example_report(tmp_path, n_fail=2, n_pass=3, label="Car"):
    tasks = [task(i, [rect(10, 10, 20, 20, label)], [rect(10, 10, 20, 20, label, 0.9)]) for i in range(1, n_pass + 1)]
    tasks += [task(100 + i, [rect(10, 10, 20, 20, label)], [rect(60, 60, 5, 5, label, 0.9)]) for i in range(n_fail)]
    return evaluate(tasks, "mAP", 0.5)


def test_summary_sections_and_verdicts(tmp_path):
    report = example_report(tmp_path)
    summary = render_summary(
        report, data_path="data/tasks.json", link=lambda t: task_url("https://ls.example.com/projects/2", t.id)
    )
    assert summary.startswith("## ❌ ML unit tests: 2 of 5 tasks failed")
    assert "metric **mAP**" in summary and "score ≥ 0.5" in summary
    assert "| 3 | 2 | 0 | 5 | 60.0% |" in summary
    for section in (
        "### Failing tasks, worst first",
        "### Dataset metrics",
        "### Per label",
        "<details><summary>All 5 tasks</summary>",
    ):
        assert section in summary
    assert "| [100](https://ls.example.com/projects/2/data?task=100) | " in summary
    assert (
        summary.index("Failing tasks")
        < summary.index("Dataset metrics")
        < summary.index("Per label")
        < summary.index("<details>")
    )
    relaxed = render_summary(report, data_path="d.json", fail_on="none")
    assert relaxed.startswith("## ⚠️ ML unit tests: 2 of 5 tasks failed (not failing the job: `fail-on: none`)")
    passing = render_summary(example_report(tmp_path, n_fail=0), data_path="d.json")
    assert passing.startswith("## ✅ ML unit tests: all 3 tasks passed") and "Failing tasks" not in passing
    empty = evaluate(
        [{"id": 1, "data": {}, "annotations": [{"was_cancelled": True, "result": []}]}]
        + [task(2, [rect(1, 1, 5, 5, "A")], [rect(1, 1, 5, 5, "A", 0.9)])],
        "mAP",
        0.5,
    )
    assert "all 1 tasks passed" in render_summary(empty, data_path="d.json")


def test_failing_tasks_are_listed_worst_first(tmp_path):
    tasks = [
        task(1, [rect(10, 10, 20, 20, "A"), rect(50, 50, 20, 20, "A")], [rect(10, 10, 20, 20, "A", 0.9)]),  # half found
        task(2, [rect(10, 10, 20, 20, "A")], []),  # nothing found
    ]
    report = evaluate(tasks, "mAP", 0.9)
    summary = render_summary(report, data_path="d.json")
    failing = summary.split("### Failing tasks")[1].split("###")[0]
    assert failing.index("| 2 |") < failing.index("| 1 |")


def test_lists_are_cut_to_the_budget_with_a_pointer_to_the_report(tmp_path):
    report = example_report(tmp_path, n_fail=300, n_pass=300)
    for budget in (10_000, 25_000):
        summary = render_summary(report, data_path="d.json", budget=budget, report_note="see report.json.")
        assert len(summary.encode()) <= budget
        failing = summary.split("### Failing tasks")[1].split("### Dataset")[0]
        rows = re.findall(r"^\| \d+ \| ", failing, flags=re.M)
        omitted = int(re.search(r"… (\d+) more failing tasks not listed; see report\.json\.", summary).group(1))
        assert rows and len(rows) + omitted == report.failed
        assert re.search(r"… \d+ more tasks not listed; see report\.json\.", summary)
        assert summary.rstrip().endswith("</details>")


def test_comment_is_a_digest_with_the_marker_last(tmp_path):
    report = example_report(tmp_path, n_fail=COMMENT_TASKS + 5)
    body = render_comment(
        report, data_path="d.json", marker="<!-- marker -->", run_url="https://github.com/o/r/actions/runs/1"
    )
    assert body.startswith("### ❌ ML unit tests") and body.endswith("<!-- marker -->")
    assert len(re.findall(r"^\| 1\d\d \| ", body, flags=re.M)) == COMMENT_TASKS
    assert "… 5 more failing tasks not listed; see the [job summary](https://github.com/o/r/actions/runs/1)." in body
    assert "<details>" not in body


def test_error_summary_escapes_the_message():
    text = render_error("data/x.json: task 3 (line 9): label <img src=x> is bad\nsecond line", "data/<x>.json")
    rendered = gfm(text)
    assert "<img" not in rendered and "could not run" in rendered and "second line" in rendered
