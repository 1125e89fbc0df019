"""This repository's own pytest configuration.

``pytest --test-data FILE`` in a clone of this repository runs the tasks of FILE only, as the
project's manual flow promises; the repository's own suite (``tests/``, the doctests in
``ml_test/``) runs when no test data is given. In a user's project nothing of this applies: the
plugin's data tests join whatever else is collected there.
"""

from pathlib import Path

_OWN_SUITE = [Path(__file__).parent / "tests", Path(__file__).parent / "ml_test"]


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """Leave the repository's own tests out when pytest is asked to run test data."""
    if config.getoption("ml_test_data", default=None) and any(
        collection_path == p or p in collection_path.parents for p in _OWN_SUITE
    ):
        return True
    return None
