"""``python -m depaudit``."""

from depaudit.cli import run

if __name__ == "__main__":
    run()
