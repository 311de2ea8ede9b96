"""tree.lock_drift: package.json against the lockfile, per importer, once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from small_trees import lock_problems

from conftest import ASSETS
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    DriftReported,
    Importer,
    ProblemKind,
    SourceInfo,
)
from depaudit.tree import find_problems
from depaudit.tree.lock_drift import drift, install_command

PROJECTS = ASSETS / "projects"


def test_lockfile_only_broken_project_shows_drift() -> None:
    problems = lock_problems(PROJECTS / "broken")
    drift = [p for p in problems if p.kind is ProblemKind.LOCKED_NOT_DECLARED]
    assert [(p.name, p.version, p.path) for p in drift] == [
        ("picocolors", "1.1.1", ("picocolors",))
    ]


def test_drift_per_workspace(tmp_path: Path) -> None:
    project = tmp_path / "ws"
    shutil.copytree(PROJECTS / "workspace", project)
    manifest = project / "packages" / "ws-a" / "package.json"
    data = json.loads(manifest.read_text())
    data["dependencies"] = {"ms": "^3.0.0", "left-pad": "^1.3.0"}  # picocolors dropped
    manifest.write_text(json.dumps(data))
    root = json.loads((project / "package.json").read_text())
    root["dependencies"]["kleur"] = "^4.0.0"
    (project / "package.json").write_text(json.dumps(root))
    problems = {
        (p.kind, p.path, p.wanted, p.found)
        for p in lock_problems(project)
        if p.kind.value.startswith(("declared", "locked"))
    }
    assert problems == {
        (ProblemKind.DECLARED_NOT_LOCKED, ("kleur",), "^4.0.0", None),
        (ProblemKind.DECLARED_NOT_LOCKED, ("ws-a", "left-pad"), "^1.3.0", None),
        (ProblemKind.LOCKED_NOT_DECLARED, ("ws-a", "picocolors"), None, "1.1.1"),
        (ProblemKind.LOCKED_OUT_OF_RANGE, ("ws-a", "ms"), "^3.0.0", "2.1.3"),
    }


def test_pnpm_auto_installed_peers_are_not_drift(tmp_path: Path) -> None:
    """Real pnpm 11 (autoInstallPeers): ws-a's peer ms is locked as a dependency of ws-a."""
    from depaudit.sources import source_for

    project = tmp_path / "p"
    shutil.copytree(ASSETS / "projects-pm" / "pnpm11", project)
    lock = project / "pnpm-lock.yaml"
    assert find_problems(source_for(lock).load(lock)) == [
        p for p in find_problems(source_for(lock).load(lock)) if p.kind.value == "deduped"
    ]
    # a real drift: the hint names pnpm, not npm
    manifest = project / "packages" / "ws-a" / "package.json"
    data = json.loads(manifest.read_text())
    del data["dependencies"]
    manifest.write_text(json.dumps(data))
    drifts = [p for p in find_problems(source_for(lock).load(lock)) if p.kind.value != "deduped"]
    assert [(p.kind.value, p.name) for p in drifts] == [("locked-not-declared", "debug")]
    assert drifts[0].detail.endswith("(run pnpm install)")


def test_install_command_follows_the_source_kind() -> None:
    assert install_command("yarn-berry") == "yarn install"
    assert install_command("pnpm") == "pnpm install"
    assert install_command("bun") == "bun install"
    assert install_command("npm-ls+package-lock") == "npm install"


def test_importers_whose_drift_was_reported_are_not_compared_again() -> None:
    declared = (Dependency("left-pad", "^1", DepType.PROD),)
    importers = (
        Importer("root", "1.0.0", "", (), declared),
        Importer("ws", "1.0.0", "packages/ws", (), declared),
    )
    tree = DependencyTree(SourceInfo("yarn-classic", "yarn.lock"), "root", "1.0.0", (), importers)
    assert [(p.kind, p.path) for p in drift(tree)] == [
        (ProblemKind.DECLARED_NOT_LOCKED, ("left-pad",)),
        (ProblemKind.DECLARED_NOT_LOCKED, ("ws", "left-pad")),
    ]
    handed = DependencyTree(
        tree.source,
        "root",
        "1.0.0",
        (),
        importers,
        drift_reported=DriftReported("package-lock.json", ("",)),
    )
    assert [p.path for p in drift(handed)] == [("ws", "left-pad")]
