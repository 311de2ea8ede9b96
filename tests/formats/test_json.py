"""The JSON report: orjson's fast path writes exactly what json.dumps would."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from depaudit.audit import Auditor
from depaudit.formats.json import JsonFormat, report_to_dict
from depaudit.models import DependencyTree, Package, PackageFacts, Report, SourceInfo
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
    per ``ENTRIES_PER_PIECE`` packages, a tail, whose text is ``render``'s; a piece orjson
    refuses (an integer over 64 bits) is written by json.dumps alone, the same bytes."""
    from depaudit.formats.json import ENTRIES_PER_PIECE, _dumped

    lock = REPO / "examples" / "express-app" / "package-lock.json"
    tree = source_for(lock).load(lock)
    report = Auditor(tree=tree, services=[KnowledgeBaseService()], scorer=LeakScorer()).run()
    pieces = list(JsonFormat().render_chunks(report))
    packages = len({(p.name, p.version) for p in report.tree.packages})
    assert packages > 2 * ENTRIES_PER_PIECE  # (more than one piece, and one part-filled)
    assert len(pieces) == -(-packages // ENTRIES_PER_PIECE) + 2
    assert "".join(pieces) == JsonFormat().render(report) == _slow(report)
    data = {"n": 2**70, "name": "x\u2028", "nested": [{"k": 1.5}]}
    assert _dumped(data) == json.dumps(data, indent=2, ensure_ascii=False)


_OFFSETS = (
    st.none()
    | st.just(UTC)
    | st.builds(lambda s: timezone(timedelta(seconds=s)), st.integers(-86399, 86399))
)
_DATES = st.none() | st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=_OFFSETS
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_DATES, _DATES, _DATES, _DATES), min_size=1, max_size=4))
def test_package_dates_in_any_zone_are_written_as_isoformat(
    dates: list[tuple[datetime | None, ...]],
) -> None:
    """The dates of a package's facts: UTC ones are left to orjson, others (naive, an
    offset with seconds, which orjson would round to minutes) written by ``isoformat``; the
    text is json.dumps' either way, and so is the fallback of a piece orjson refuses."""
    source = SourceInfo(kind="package-lock", path="x/package-lock.json", lockfile_version=3)
    packages = tuple(
        Package(name=f"p{i}", version="1.0.0", location=f"node_modules/p{i}", path=(f"p{i}",))
        for i in range(len(dates))
    )
    tree = DependencyTree(source=source, root_name="app", root_version="1.0.0", packages=packages)
    facts = {
        f"p{i}@1.0.0": PackageFacts(
            name=f"p{i}",
            version="1.0.0",
            installed_published=a,
            latest_published=b,
            last_release=c,
            created=d,
        )
        for i, (a, b, c, d) in enumerate(dates)
    }
    report = replace(Auditor(tree=tree).run(), facts=facts)
    text = JsonFormat().render(report)
    assert text == _slow(report)
    written = json.loads(text)["packages"]
    for entry, four in zip(written, dates, strict=True):
        shown = [entry["facts"][k] for k in ("installed_published", "latest_published")]
        shown += [entry["facts"][k] for k in ("last_release", "created")]
        assert shown == [d.isoformat() if d is not None else None for d in four]
    huge = replace(report, tree=replace(tree, source=replace(source, lockfile_version=2**70)))
    assert JsonFormat().render(huge) == _slow(huge)


def test_a_piece_orjson_refuses_writes_its_dates_as_isoformat() -> None:
    from depaudit.formats.json import _dumped

    when = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    data = {"n": 2**70, "dates": [when, None]}
    text = json.dumps({"n": 2**70, "dates": [when.isoformat(), None]}, indent=2)
    assert _dumped(data) == text
    with pytest.raises(TypeError):
        _dumped({"n": 2**70, "other": object()})
