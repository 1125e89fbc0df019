"""The runner protocol in ml_test.github, checked against a reading of the log written from the runner's rules.

The helpers below (``scan_log``, ``parse_output_file``) re-implement what the runner does with
a step's output and its GITHUB_OUTPUT file, independently of ml_test.github, and are reused by
the action tests.
"""

from __future__ import annotations

import io
import os

import pytest

from ml_test.github import (
    MAX_ANNOTATIONS_PER_LEVEL,
    SUMMARY_LIMIT_BYTES,
    Runner,
    command,
    escape_data,
    escape_property,
    in_github_actions,
    stop_commands,
    truncate_bytes,
)

# --- the runner's side, written from its rules (ActionCommand.TryParseV2, FileCommandManager) -------


def _unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str) -> tuple[str, dict[str, str], str] | None:
    """(name, properties, message) of a ``::name k=v,...::data`` line, as the runner reads it; else None."""
    s = line.lstrip()
    if not s.startswith("::"):
        return None
    end = s.find("::", 2)
    if end < 0:
        return None
    head, data = s[2:end], s[end + 2 :]
    name, _, props = head.partition(" ")
    properties = {}
    for pair in props.split(","):
        key, _, value = pair.partition("=")
        if key and value:
            properties[key] = _unescape_property(value)
    return name, properties, _unescape_data(data)


def scan_log(text: str) -> tuple[list[tuple[str, dict[str, str], str]], list[str]]:
    """The commands the runner would act on in ``text``, and any legacy ``##[`` lines it would act on.

    Inside ``::stop-commands::TOKEN`` nothing is a command until a line ``::TOKEN::``.
    """
    commands, legacy, token = [], [], None
    for line in text.splitlines():
        if token is not None:
            if line.strip() == f"::{token}::":
                token = None
            continue
        cmd = parse_command(line)
        if cmd is not None:
            if cmd[0] == "stop-commands":
                token = cmd[2]
            commands.append(cmd)
        elif "##[" in line:
            legacy.append(line)
    assert token is None, "a stop-commands block was never closed: every later command would be ignored"
    return commands, legacy


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: ``name=value`` or ``name<<DELIM`` ... ``DELIM``."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out, i = {}, 0
    while i < len(lines):
        line = lines[i]
        eq, heredoc = line.find("="), line.find("<<")
        if heredoc >= 0 and (eq < 0 or heredoc < eq):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            end = lines.index(delimiter, i + 1)  # ValueError: an unterminated value fails the step
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            out[name] = value
            i += 1
    return out


# --- escaping ------------------------------------------------------------------------------------

HOSTILE = ["::error::x", "%0A::set-output name=x::", "##[group]", "a\r\nb", "50%", "a,b:c", "%25%3A%2C", "::"]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_round_trips_through_the_runner(text):
    line = command("error", text, file=f"data/{text}.json", line=3, title=text)
    assert "\n" not in line and "\r" not in line
    name, props, message = parse_command(line)
    assert (name, message) == ("error", text)
    assert props == {"file": f"data/{text}.json", "line": "3", "title": text}


def test_percent_is_escaped_first():
    assert escape_data("%0A\n") == "%250A%0A"
    assert escape_property("%3A:,") == "%253A%3A%2C"
    assert escape_data("a:b,c") == "a:b,c"  # data keeps ':' and ','


def test_empty_properties_are_left_out_and_names_are_checked():
    assert command("notice", "m", file=None, line="", title="t") == "::notice title=t::m"
    assert command("endgroup") == "::endgroup::"
    with pytest.raises(ValueError):
        command("error::x", "m")


def test_truncate_bytes_never_splits_a_character():
    text = "é" * 100
    cut = truncate_bytes(text, 51)
    assert len(cut.encode()) <= 51 and cut.endswith("…") and set(cut[:-1]) == {"é"}
    assert truncate_bytes("short", 10) == "short"


# --- annotations -----------------------------------------------------------------------------------


def test_annotations_are_capped_per_level_and_limited_in_size():
    out = io.StringIO()
    runner = Runner(stream=out)
    results = [runner.error(f"e{i}") for i in range(MAX_ANNOTATIONS_PER_LEVEL + 3)]
    assert runner.notice("n") and runner.warning("w", title="x" * 400)
    assert results.count(True) == MAX_ANNOTATIONS_PER_LEVEL and runner.dropped["error"] == 3
    assert runner.room("error") == 0 and runner.room("notice") == MAX_ANNOTATIONS_PER_LEVEL - 1
    commands, _ = scan_log(out.getvalue())
    assert [c[0] for c in commands].count("error") == MAX_ANNOTATIONS_PER_LEVEL
    warning = next(c for c in commands if c[0] == "warning")
    assert len(warning[1]["title"]) == 255
    big = Runner(stream=io.StringIO())
    big.error("x" * 100_000)
    assert len(parse_command(big.stream.getvalue().rstrip("\n"))[2].encode()) <= 64_000


def test_a_lower_cap_is_honoured_and_a_higher_one_is_not():
    runner = Runner(stream=io.StringIO(), max_per_level=2)
    assert [runner.error("e") for _ in range(3)] == [True, True, False]
    assert Runner(stream=io.StringIO(), max_per_level=50).max_per_level == MAX_ANNOTATIONS_PER_LEVEL


def test_line_is_only_sent_with_a_file():
    out = io.StringIO()
    Runner(stream=out).error("m", line=4)
    assert out.getvalue() == "::error::m\n"


def test_raw_text_cannot_issue_commands():
    out = io.StringIO()
    runner = Runner(stream=out)
    runner.raw("::error::pwned\n##[warning]pwned\n::add-mask::x")
    runner.log("after")
    commands, legacy = scan_log(out.getvalue())
    assert [c[0] for c in commands] == ["stop-commands"] and legacy == []
    assert out.getvalue().splitlines()[-1] == "after"


def test_stop_commands_uses_a_fresh_token_each_time_and_can_be_off():
    out = io.StringIO()
    with stop_commands(True, out):
        out.write("x\n")
    with stop_commands(True, out):
        out.write("y\n")
    lines = out.getvalue().splitlines()
    tokens = [lines[0].split("::")[2], lines[3].split("::")[2]]
    assert tokens[0] != tokens[1] and len(tokens[0]) >= 32
    assert lines[2] == f"::{tokens[0]}::"
    quiet = io.StringIO()
    with stop_commands(False, quiet):
        quiet.write("z\n")
    assert quiet.getvalue() == "z\n"
    assert in_github_actions({"GITHUB_ACTIONS": "true"}) and not in_github_actions({})


def test_group_wraps_the_log():
    out = io.StringIO()
    with Runner(stream=out).group("Results"):
        pass
    assert out.getvalue() == "::group::Results\n::endgroup::\n"


# --- file commands ---------------------------------------------------------------------------------


def test_outputs_are_heredocs_with_random_delimiters(tmp_path):
    path = tmp_path / "output"
    runner = Runner(output_path=str(path))
    hostile = "line1\nEOF\nx=1\nghadelimiter_\nother<<EOF"
    runner.set_output("report", hostile)
    runner.set_output("score", 0.5)
    runner.set_output("empty", None)
    text = path.read_text()
    assert parse_output_file(text) == {"report": hostile, "score": "0.5", "empty": ""}
    delimiters = [line.split("<<")[1] for line in text.splitlines() if line.startswith(("report<<", "score<<"))]
    assert len(set(delimiters)) == 2 and all(d.startswith("ghadelimiter_") for d in delimiters)
    with pytest.raises(ValueError):
        runner.set_output("bad=name", "x")


def test_without_runner_files_nothing_is_written(tmp_path):
    runner = Runner(stream=io.StringIO())
    runner.set_output("x", "1")
    assert runner.append_summary("# hi") is False


def test_summary_is_appended_and_cut_at_one_mebibyte(tmp_path):
    path = tmp_path / "summary"
    path.write_text("x" * 1000 + "\n")  # an earlier write in the same step counts toward the limit
    runner = Runner(summary_path=str(path))
    body = "<details><summary>all</summary>\n\n" + "".join(f"| row {i} | {'é' * 40} |\n" for i in range(40_000))
    assert runner.append_summary(body, overflow_note="The full list is in report.json.") is True
    data = path.read_bytes()
    text = data.decode("utf-8")  # still valid UTF-8
    assert len(data) <= SUMMARY_LIMIT_BYTES
    assert len(data) > SUMMARY_LIMIT_BYTES - 2000  # cut near the limit, not far before it
    assert text.endswith("The full list is in report.json.\n") and "1 MiB" in text
    assert text.count("<details>") == text.count("</details>") == 1
    kept_rows = [line for line in text.splitlines() if line.startswith("| row")]
    assert kept_rows and all(line.endswith("|") for line in kept_rows)  # whole lines only
    small = tmp_path / "small"
    assert Runner(summary_path=str(small)).append_summary("# ok\n") is False
    assert small.read_text() == "# ok\n"


def test_summary_with_no_room_left_gets_only_the_note(tmp_path):
    path = tmp_path / "summary"
    path.write_bytes(b"x" * (SUMMARY_LIMIT_BYTES - 50))
    Runner(summary_path=str(path)).append_summary("y" * 1000)
    assert os.path.getsize(path) <= SUMMARY_LIMIT_BYTES
