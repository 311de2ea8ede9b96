"""``python -m depaudit``."""

import sys

from depaudit.cli import main

if __name__ == "__main__":
    sys.exit(main())
