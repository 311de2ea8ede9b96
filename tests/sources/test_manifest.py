"""sources/manifest.py: the one package.json reader and the one reading of what it declares
(npm's precedence, shared by the yarn, pnpm and bun readers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.models import DepType
from depaudit.sources.manifest import declared_edges, read_manifest


def test_a_dependency_also_in_dev_dependencies_is_a_production_dependency() -> None:
    """The two readers used to disagree: here devDependencies overrode dependencies."""
    manifest = {
        "dependencies": {"x": "^1.0.0", "y": "^2.0.0"},
        "devDependencies": {"x": "^1.1.0", "z": "^3.0.0"},
        "optionalDependencies": {"y": "^2.1.0"},
    }
    edges = {d.name: (d.spec, d.type) for d in declared_edges(manifest, "package.json")}
    assert edges == {
        "x": ("^1.0.0", DepType.PROD),
        "y": ("^2.1.0", DepType.OPTIONAL),  # npm: optionalDependencies override
        "z": ("^3.0.0", DepType.DEV),
    }


def test_peers_count_only_when_not_declared_otherwise() -> None:
    manifest = {"peerDependencies": {"p": "^1", "q": "^2"}, "devDependencies": {"p": "1.5.0"}}
    plain = {d.name for d in declared_edges(manifest, "package.json")}
    with_peers = {d.name: d.type for d in declared_edges(manifest, "package.json", peers=True)}
    assert plain == {"p"}
    assert with_peers == {"p": DepType.DEV, "q": DepType.PEER}


def test_a_section_of_the_wrong_type_is_one_input_error() -> None:
    with pytest.raises(InputError, match="dependencies is a list"):
        declared_edges({"dependencies": ["x"]}, "package.json")


def test_read_manifest_stays_inside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "package.json").write_text('{"name": "p"}')
    (tmp_path / "package.json").write_text('{"name": "outside"}')
    assert read_manifest(project / "package.json") == {"name": "p"}
    assert read_manifest(project / ".." / "package.json", root=project) is None
    assert read_manifest(project / "missing" / "package.json") is None
    (project / "bad.json").write_text("{")
    with pytest.raises(InputError):
        read_manifest(project / "bad.json")


def test_manifests_in_a_root_read_as_read_manifest_does(tmp_path: Path) -> None:
    """The workspaces' reader (the root resolved once) keeps every rule of read_manifest:
    inside only, a symlink out of the project refused, a root that cannot be resolved
    holds nothing."""
    from depaudit.sources.manifest import manifests_in

    project = tmp_path / "p"
    (project / "packages" / "a").mkdir(parents=True)
    (project / "packages" / "a" / "package.json").write_text('{"name": "a"}')
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "package.json").write_text('{"name": "elsewhere"}')
    (project / "packages" / "out").symlink_to(tmp_path / "elsewhere")
    (project / "link").symlink_to(project / "packages")  # a symlink inside: still inside
    read = manifests_in(project)
    expected = {
        project / "packages" / "a" / "package.json": {"name": "a"},
        project / "link" / "a" / "package.json": {"name": "a"},
        project / "packages" / "out" / "package.json": None,  # resolves out of the project
        project / ".." / "elsewhere" / "package.json": None,
        project / "packages" / "missing" / "package.json": None,
    }
    for path, manifest in expected.items():
        assert read(path) == manifest, path
        assert read_manifest(path, root=project) == manifest, path
    assert read_manifest(project / "packages" / "out" / "package.json") == {"name": "elsewhere"}
    assert manifests_in(Path("p\x00q"))(project / "packages" / "a" / "package.json") is None
