"""Renderers of a Report: terminal text, JSON and JUnit XML. They present; they never compute."""

from .json_report import write_json
from .junit import write_junit
from .terminal import render_terminal

__all__ = ["render_terminal", "write_json", "write_junit"]
