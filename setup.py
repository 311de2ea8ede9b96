"""The build step that ships the bundled data's fast forms (everything else is in pyproject.toml).

``build_py`` builds the package as usual, then runs ``depaudit.bundled.build_forms`` in a
fresh interpreter over a copy of the sources and ``data/`` as they will be installed, and puts
the fast forms it made in ``depaudit/_forms/``: in the wheel, or in ``src/depaudit/_forms/``
for an editable install (git ignores it). They are named by the hash of the data and code
they were built from, so a run reads them only while both are unchanged; ``data/`` stays the
one source. Needs PyYAML and node-semver at build time (``build-system.requires``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: run as ``python -c BUILD TREE TARGET``: depaudit imported from TREE, its forms into TARGET
BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import depaudit
from depaudit.bundled import build_forms
assert Path(depaudit.__file__).parent == Path(sys.argv[1]) / "depaudit", depaudit.__file__
build_forms(Path(sys.argv[2]))
"""


def ship_forms(project: Path, target: Path) -> None:
    """Build the fast forms of ``project``'s ``src/depaudit`` and ``data/`` into ``target``
    (emptied first: forms of older data or code are never read again). Also run by the
    benchmarks for the checkout they measure (``benchmarks.measure.compile_sources``)."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_forms")
        shutil.copytree(project / "src" / "depaudit", tree / "depaudit", ignore=ignore)
        shutil.copytree(project / "data", tree / "depaudit" / "data", ignore=ignore)
        if target.is_dir():
            shutil.rmtree(target)
        # (the build environment's own PYTHONPATH kept: pip's isolation may use it)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEPAUDIT_")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        subprocess.run(
            [sys.executable, "-c", BUILD, str(tree), str(target)],
            check=True,
            cwd=scratch,
            env=env,
        )


class BuildWithFastForms(build_py):
    """``build_py``, then the fast forms (see the module's docstring)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            target = HERE / "src" / "depaudit" / "_forms"
        else:
            target = Path(self.build_lib).resolve() / "depaudit" / "_forms"
        ship_forms(HERE, target)


if __name__ == "__main__":  # (as setuptools runs it; the benchmarks import ship_forms)
    setup(cmdclass={"build_py": BuildWithFastForms})
