"""The terminal table: problems by severity, duplicates summarised, lines within the width
(issue 16.13)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.cli import main
from depaudit.formats.table import TOP_SUSPECTS, TableFormat, summary_line
from depaudit.models import (
    DependencyTree,
    Package,
    PackageFacts,
    ProblemKind,
    Report,
    Signal,
    SourceInfo,
    Suspect,
    Tier,
    TreeProblem,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "express-app"


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["scan", *argv, "--offline", "--no-npm"]) in (0, 1)
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("columns", [60, 80, 100, 132])
def test_every_line_fits_the_terminal(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    for target in (EXAMPLE, ASSETS / "projects" / "broken", ASSETS / "projects" / "peer-invalid"):
        lines = _scan(capsys, str(target))
        # warnings and the summary line stay one line each, whatever their length
        tables = [line for line in lines if not line.startswith("warning: ") and line != lines[-1]]
        assert max(len(line) for line in tables) <= max(columns, 80), target
    assert any("…" in line for line in _scan(capsys, str(EXAMPLE)))


def test_real_problems_come_before_duplicates_which_are_summarised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real npm 11 lock of the broken project (invalid, missing, extraneous) next to the
    express example's duplicates: severity order, and one paragraph for the duplicates."""
    monkeypatch.setenv("COLUMNS", "100")
    project = tmp_path / "p"
    shutil.copytree(ASSETS / "projects" / "broken", project)
    lines = _scan(capsys, str(project))
    kinds = [
        line.split()[0]
        for line in lines
        if line.split()
        and line.split()[0]
        in (
            "missing",
            "invalid",
            "peer-invalid",
            "peer-missing",
            "extraneous",
            "locked-not-declared",
            "declared-not-locked",
            "locked-out-of-range",
        )
    ]
    order = [
        "missing",
        "peer-missing",
        "invalid",
        "peer-invalid",
        "locked-out-of-range",
        "declared-not-locked",
        "locked-not-declared",
        "extraneous",
    ]
    assert kinds and kinds == sorted(kinds, key=order.index)
    example = _scan(capsys, str(EXAMPLE))
    assert not any(line.startswith("duplicate-versions  ") for line in example)  # no rows
    start = next(i for i, line in enumerate(example) if line.startswith("duplicate-versions: "))
    paragraph = " ".join(example[start : start + 4])
    assert "9 names installed at several versions: debug (2.6.9, 3.1.0, 4.1.1)" in paragraph


# -- the renderer on hand-made reports ---------------------------------------------


NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _tree(*names: str) -> DependencyTree:
    return DependencyTree(
        source=SourceInfo(kind="package-lock", path="app/package-lock.json", lockfile_version=3),
        root_name="app",
        root_version="1.0.0",
        packages=tuple(
            Package(name=n, version="1.0.0", location=f"node_modules/{n}") for n in names
        ),
    )


def _suspect(name: str, score: float, signals: int = 1) -> Suspect:
    return Suspect(
        name=name,
        version="1.0.0",
        score=score,
        tier=Tier.HIGH if score >= 50 else Tier.LOW,
        signals=tuple(
            Signal(rule=f"rule{i}", points=10.0, evidence=f"evidence {i} of {name}")
            for i in range(signals)
        ),
        paths=((name,),),
    )


def _report(**kw: object) -> Report:
    fields: dict[str, object] = {
        "tool_version": "0",
        "generated_at": NOW,
        "tree": _tree("a", "b"),
        "problems": (),
    }
    fields.update(kw)
    return Report(**fields)  # type: ignore[arg-type]


def test_suspects_with_their_two_strongest_reasons_and_the_rest_counted() -> None:
    text = TableFormat().render(_report(suspects=(_suspect("a", 60, signals=3),)))
    assert "a@1.0.0" in text and "high" in text
    assert "rule0 +10: evidence 0 of a" in text and "rule1 +10" in text
    assert "rule2" not in text and "(+1 more; depaudit explain a)" in text


def test_only_the_top_suspects_are_listed() -> None:
    many = tuple(_suspect(f"p{i:02d}", 100 - i) for i in range(TOP_SUSPECTS + 3))
    text = TableFormat().render(_report(suspects=many))
    assert f"p{TOP_SUSPECTS - 1:02d}@" in text and f"p{TOP_SUSPECTS:02d}@" not in text
    assert "... and 3 more suspects" in text


def test_problems_are_listed_but_deduped_placements_only_counted() -> None:
    problems = (
        TreeProblem(ProblemKind.MISSING, "gone", None, ("a", "gone"), detail="not here"),
        TreeProblem(ProblemKind.DEDUPED, "b", "1.0.0", ("a", "b"), detail="shared"),
    )
    report = _report(problems=problems)
    text = TableFormat().render(report)
    assert "missing" in text and "gone" in text and "not here" in text
    assert "shared" not in text
    assert "1 deduped" in summary_line(report) and "1 missing" in summary_line(report)


def test_registry_tables_show_the_oldest_and_the_furthest_behind() -> None:
    facts = {
        "a@1.0.0": PackageFacts(
            name="a", version="1.0.0", age_days=3 * 365.25, latest="9.0.0", libyears=2.5
        )
    }
    text = TableFormat().render(_report(facts=facts))
    assert "oldest installed" in text and "3.0y" in text
    assert "furthest behind" in text and " 2.5 " in text and "9.0.0" in text


def test_hostile_names_cannot_move_the_cursor_or_reorder_text() -> None:
    hostile = "evil\x1b[2J\u202ename"
    text = TableFormat().render(_report(tree=_tree(hostile), suspects=(_suspect(hostile, 60),)))
    assert "\x1b" not in text and "\u202e" not in text


def test_an_empty_report_says_there_are_no_tree_problems() -> None:
    assert "no tree problems" in summary_line(_report())
    assert "\x1b" not in TableFormat().render(_report())


def test_a_huge_name_in_many_problem_rows_is_shown_cut_not_rows_times_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 30 KB name in 200 problem rows (one hostile lockfile key) made the table grow with
    rows x name length; it shows each name cut at npm's 214-character maximum."""
    monkeypatch.setenv("COLUMNS", "100000")  # no width fitting: the cut alone bounds it
    name = "n" * 30_000
    problems = tuple(
        TreeProblem(ProblemKind.MISSING, name, "1.0.0", (f"p{i}", name), wanted="^1")
        for i in range(200)
    )
    text = TableFormat().render(_report(problems=problems))
    assert name not in text
    assert "n" * 213 + "…" in text
    assert len(text) < 200 * 2_000
