"""``python -m ml_test``: the same as the ``ml-test`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
