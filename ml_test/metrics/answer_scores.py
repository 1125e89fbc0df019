"""Pure kernels for per-task answers: taxonomy path match and ranking NDCG.

``path_match`` is the hierarchical F1 of Kiritchenko et al. (2005): each selected path stands
for itself and all its ancestors (``A/B/C`` for ``A``, ``A/B``, ``A/B/C``); with ``G`` and ``P``
those node sets of the ground truth and the prediction, ``hP = |G & P| / |P|``,
``hR = |G & P| / |G|`` and ``path_match = 2 |G & P| / (|G| + |P|)``. For one path on each side
this is the shared prefix over the mean path length, ``2 s / (len(g) + len(p))``, and for paths
of equal length the shared prefix over the path length. A too general answer (``A`` for ``A/B``)
and a too specific one (``A/B/C`` for ``A/B``) both get partial credit. Both empty: 1.0; one
side empty: 0.0.

``ndcg`` scores each ranked list of the ground truth (the ``ranker`` value is ``{list name:
[item ids]}``; the older flat list is the list named ``""``) against the prediction's list of
the same name, and averages over the ground-truth lists. Relevance is graded by ground-truth
rank: in a list of ``n`` items the first has relevance ``n``, the last ``1``; items the ground
truth does not list have relevance 0. ``DCG = sum(rel(item at k) / log2(k + 2))`` over the
predicted positions ``k`` (0-based; a repeated item counts once), normalised by the DCG of the
ground-truth order. An item the prediction leaves out adds nothing. Both sides empty: 1.0;
ground truth empty but items predicted: 0.0.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

__all__ = ["path_nodes", "path_match", "list_ndcg", "ndcg"]


def path_nodes(paths: Iterable[Sequence[str]]) -> set[tuple[str, ...]]:
    """Every node named by the paths, ancestors included, as path prefixes."""
    return {tuple(p[: k + 1]) for p in paths for k in range(len(p))}


def path_match(gt_paths: Iterable[Sequence[str]], pred_paths: Iterable[Sequence[str]]) -> float:
    """Hierarchical F1 of two sets of taxonomy paths (1.0 when both are empty)."""
    g, p = path_nodes(gt_paths), path_nodes(pred_paths)
    if not g and not p:
        return 1.0
    return 2.0 * len(g & p) / (len(g) + len(p))


def list_ndcg(gt_order: Sequence[str], pred_order: Sequence[str]) -> float:
    """NDCG of a predicted order against the ground-truth order, relevance graded by ground-truth rank."""
    n = len(gt_order)
    if n == 0:
        return 0.0 if pred_order else 1.0
    relevance = {}
    for i, item in enumerate(gt_order):
        relevance.setdefault(item, n - i)
    seen: set[str] = set()
    dcg, k = 0.0, 0
    for item in pred_order:
        if item in seen:
            continue
        seen.add(item)
        dcg += relevance.get(item, 0) / math.log2(k + 2)
        k += 1
    ideal = sum(rel / math.log2(k + 2) for k, rel in enumerate(sorted(relevance.values(), reverse=True)))
    return dcg / ideal


def ndcg(gt_lists: Mapping[str, Sequence[str]], pred_lists: Mapping[str, Sequence[str]]) -> float:
    """Mean NDCG over the ground truth's lists, each against the predicted list of the same name."""
    if not gt_lists:
        return 0.0 if any(pred_lists.values()) else 1.0
    return sum(list_ndcg(order, pred_lists.get(name, ())) for name, order in gt_lists.items()) / len(gt_lists)
