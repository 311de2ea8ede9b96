"""The build step (setup.py): a wheel ships the bundled data's fast forms, named as a run names
them, so the first scan of an installation reads no YAML and writes no form into its cache.

The wheel is built from a copy of the project, without the network (``--no-build-isolation``,
no index: the test environment has the build's requirements), then unpacked and imported
ahead of the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ASSETS, REPO
from depaudit import bundled

SCAN = """
import contextlib, io, json, sys
import depaudit, depaudit.bundled, depaudit.cli
depaudit.bundled._read_shipped = {shipped}
with contextlib.redirect_stdout(io.StringIO()):
    code = depaudit.cli.main(sys.argv[1:])
print(json.dumps({{"exit": code, "from": depaudit.__file__, "yaml": "yaml" in sys.modules}}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of its sources and unpacked: the folder to
    import ``depaudit`` from."""
    work = tmp_path_factory.mktemp("build")
    project = work / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "_forms")
    for name in ("src", "data"):
        shutil.copytree(REPO / name, project / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, project / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "DEPAUDIT_"))}
    env["PIP_NO_INDEX"] = "1"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q"]
        + ["-w", str(work / "dist"), str(project)],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    (built,) = (work / "dist").glob("depaudit-*.whl")
    unpacked = work / "site"
    with zipfile.ZipFile(built) as archive:
        archive.extractall(unpacked)
    return unpacked


def _scan(site: Path, cache: Path, output: Path, *, shipped: bool) -> dict[str, object]:
    lock = ASSETS / "projects" / "broken" / "package-lock.json"
    argv = ["scan", "--lockfile", str(lock), "--offline", "--no-npm", "--format", "json"]
    argv += ["--cache-dir", str(cache), "--output", str(output)]
    env = dict(os.environ, PYTHONPATH=str(site))
    done = subprocess.run(
        [sys.executable, "-c", SCAN.format(shipped=shipped), *argv],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_wheel_ships_a_form_for_every_loader(wheel: Path) -> None:
    forms = sorted(p.name for p in (wheel / "depaudit" / bundled.SHIPPED).iterdir())
    kinds = sorted(name.rsplit("-", 1)[0] for name in forms)
    assert kinds == ["knowledge-base", "yaml-leak-cwes.yaml", "yaml-scoring.yaml"]
    assert len(bundled.FORM_LOADERS) == 3
    for name in forms:
        stored = json.loads((wheel / "depaudit" / bundled.SHIPPED / name).read_bytes())
        assert name == f"{name.rsplit('-', 1)[0]}-{stored['key']}.json"


def test_the_first_scan_of_an_installed_wheel_reads_its_shipped_forms(
    wheel: Path, tmp_path: Path
) -> None:
    """An empty cache folder: no YAML parsed, no form written; the report is the one the
    forms built from data/ give."""
    shipped = _scan(wheel, tmp_path / "cache-a", tmp_path / "a.json", shipped=True)
    assert str(shipped["from"]).startswith(str(wheel))
    assert shipped["exit"] in (0, 1)
    assert shipped["yaml"] is False
    assert not (tmp_path / "cache-a" / "bundled").exists()

    built = _scan(wheel, tmp_path / "cache-b", tmp_path / "b.json", shipped=False)
    assert built["yaml"] is True and (tmp_path / "cache-b" / "bundled").is_dir()
    same = sorted(p.name for p in (tmp_path / "cache-b" / "bundled").iterdir())
    assert same == sorted(p.name for p in (wheel / "depaudit" / bundled.SHIPPED).iterdir())

    def report(path: Path) -> object:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("generated_at", None)
        return data

    assert report(tmp_path / "a.json") == report(tmp_path / "b.json")
