"""tree.walk: the edges npm installs, how a dependent is named, ancestor chains."""

from __future__ import annotations

from small_trees import make_tree, pkg

from depaudit.models import Dependency, DepType, Importer
from depaudit.tree.walk import Ancestors, installed_edges, parent_info


def test_installed_edges_are_the_importers_all_and_the_packages_but_dev() -> None:
    a = pkg(
        "a",
        "1.0.0",
        ("a",),
        Dependency("b", "1", DepType.PROD, None),
        Dependency("t", "1", DepType.DEV, None),
    )
    root = Importer("root", "1.0.0", "", (Dependency("d", "1", DepType.DEV, None),))
    edges = [(parent.name, dep.name) for parent, dep in installed_edges(make_tree([a], [root]))]
    assert edges == [("root", "d"), ("a", "b")]


def test_parent_info_names_the_root_a_workspace_and_a_package() -> None:
    assert parent_info(Importer("app", None, "")) == ("the root project", ())
    assert parent_info(Importer("ws", None, "packages/ws")) == ("workspace ws", ("ws",))
    assert parent_info(pkg("a", "1.0.0", ("x", "a"))) == ("a@1.0.0", ("x", "a"))


def test_ancestor_chain_follows_the_first_path_and_skips_dev_edges() -> None:
    c = pkg("c", "3.0.0", ("a", "b", "c"))
    b = pkg("b", "2.0.0", ("a", "b"), Dependency("c", "3", DepType.PROD, c.location))
    a = pkg("a", "1.0.0", ("a",), Dependency("b", "2", DepType.PROD, b.location))
    lone = pkg("lone", "1.0.0", ())
    dev_only = pkg("d", "1.0.0", ("a", "d"))
    a = pkg(
        "a",
        "1.0.0",
        ("a",),
        Dependency("b", "2", DepType.PROD, b.location),
        Dependency("d", "1", DepType.DEV, dev_only.location),
    )
    ws = Importer("ws", "0.1.0", "packages/ws", (Dependency("a", "1", DepType.PROD, a.location),))
    chains = Ancestors(make_tree([a, b, c, lone, dev_only], [ws]))
    assert chains.chain(c.location) == (
        ("ws", "0.1.0"),
        ("a", "1.0.0"),
        ("b", "2.0.0"),
        ("c", "3.0.0"),
    )
    assert chains.chain(lone.location) is None
    assert chains.chain(dev_only.location) is None
