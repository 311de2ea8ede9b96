"""The JSON report: orjson's fast path writes exactly what json.dumps would."""

from __future__ import annotations

import json

from conftest import REPO
from depaudit.audit import Auditor
from depaudit.formats.json import JsonFormat, report_to_dict
from depaudit.models import DependencyTree, Package, Report, SourceInfo
from depaudit.scoring import LeakScorer
from depaudit.services.knowledge_base import KnowledgeBaseService
from depaudit.sources import source_for
from depaudit.text import json_text_safe


def _slow(report: Report) -> str:
    text = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False)
    return json_text_safe(text) + "\n"


def test_fast_path_is_byte_identical_to_json_dumps_on_the_example() -> None:
    lock = REPO / "examples" / "express-app" / "package-lock.json"
    tree = source_for(lock).load(lock)
    report = Auditor(tree=tree, services=[KnowledgeBaseService()], scorer=LeakScorer()).run()
    assert report.suspects  # the comparison covers suspects, signals and floats
    assert JsonFormat().render(report) == _slow(report)


def test_hostile_text_and_huge_numbers_still_render() -> None:
    tree = DependencyTree(
        source=SourceInfo(kind="package-lock", path="x/package-lock.json", lockfile_version=3),
        root_name="app\u202e",
        root_version="1.0.0",
        packages=(Package(name="a\x85b", version="1.0.0", location="node_modules/a\x85b"),),
    )
    report = Auditor(tree=tree).run()
    text = JsonFormat().render(report)
    assert text == _slow(report)
    assert "\\u0085" in text and "\\u202e" in text
    assert json.loads(text)["packages"][0]["name"] == "a\x85b"
    # a value orjson refuses (an integer over 64 bits) falls back to json.dumps
    huge = Auditor(
        tree=DependencyTree(
            **{
                **_fields(tree),
                "source": SourceInfo(kind="package-lock", path="x", lockfile_version=2**70),
            }
        )
    ).run()
    assert JsonFormat().render(huge) == _slow(huge)
    assert str(2**70) in JsonFormat().render(huge)


def _fields(tree: DependencyTree) -> dict[str, object]:
    return {n: getattr(tree, n) for n in ("source", "root_name", "root_version", "packages")}


def test_the_package_list_written_entry_by_entry_is_json_dumps_at_every_size() -> None:
    """The package list is written one entry at a time (peak memory): no package, one, and
    several, with names that need escaping and a line break inside a string."""
    source = SourceInfo(kind="package-lock", path="x/package-lock.json", lockfile_version=3)
    names = ["a", 'q"uote', "line\nbreak", "@s/b\u00e9", "z"]
    for count in (0, 1, 2, len(names)):
        packages = tuple(
            Package(name=n, version=f"1.0.{i}", location=f"node_modules/{n}", path=(n,))
            for i, n in enumerate(names[:count])
        )
        tree = DependencyTree(
            source=source, root_name="app", root_version="1.0.0", packages=packages
        )
        report = Auditor(tree=tree, scorer=LeakScorer()).run()
        text = JsonFormat().render(report)
        assert text == _slow(report)
        assert len(json.loads(text)["packages"]) == len({(p.name, p.version) for p in packages})


def test_the_report_is_made_in_pieces_that_are_the_whole_text() -> None:
    """The scan writes the JSON report as it is made (``render_chunks``): a head, one piece
    per package, a tail, whose text is ``render``'s; a piece orjson refuses (an integer over
    64 bits) is written by json.dumps alone, the same bytes."""
    from depaudit.formats.json import _dumped

    lock = REPO / "examples" / "express-app" / "package-lock.json"
    tree = source_for(lock).load(lock)
    report = Auditor(tree=tree, services=[KnowledgeBaseService()], scorer=LeakScorer()).run()
    pieces = list(JsonFormat().render_chunks(report))
    assert len(pieces) == len({(p.name, p.version) for p in report.tree.packages}) + 2
    assert "".join(pieces) == JsonFormat().render(report) == _slow(report)
    data = {"n": 2**70, "name": "x\u2028", "nested": [{"k": 1.5}]}
    assert _dumped(data) == json.dumps(data, indent=2, ensure_ascii=False)
