"""Compatibility modes: reproduce another tool's metric semantics so numbers can be compared.

``evaluate_evalme`` reproduces label-studio-evalme (the agreement metrics behind Label Studio
Enterprise); see ``docs/evalme.md`` for where and why its semantics differ from ml_test's.
"""

from __future__ import annotations

from .evalme import EVALME_METRICS, EvalmeMetric, get_evalme_metric
from .evalme_apply import apply as evalme_apply
from .evalme_report import evaluate_evalme

__all__ = ["evaluate_evalme", "evalme_apply", "EVALME_METRICS", "EvalmeMetric", "get_evalme_metric"]
