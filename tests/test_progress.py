"""The progress bar: drawn on a terminal, never in CI logs or pipes."""

from __future__ import annotations

import io

from ml_test.progress import Progress, wants_progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_only_an_interactive_terminal_outside_ci_gets_a_bar():
    assert wants_progress(_Tty(), {}) is True
    assert wants_progress(io.StringIO(), {}) is False
    assert wants_progress(_Tty(), {"CI": "true"}) is False
    assert wants_progress(_Tty(), {"GITHUB_ACTIONS": "true"}) is False


def test_bar_draws_progress_and_clears_itself():
    out = _Tty()
    with Progress(4, enabled=True, stream=out) as bar:
        bar.advance(2)
        assert "2/4 tasks" in out.getvalue()
        bar.advance(2)
        assert "4/4 tasks" in out.getvalue() and "#" * 30 in out.getvalue()
    assert out.getvalue().endswith("\r")
    quiet = io.StringIO()
    with Progress(4, enabled=False, stream=quiet) as bar:
        bar.advance(4)
    assert quiet.getvalue() == ""
