"""Hostile text (package names, versions, deprecation messages, advisory titles carrying
markdown, HTML, @mentions, backticks, newlines, ANSI escapes, right-to-left marks) is inert in
every format: the table strips control characters, markdown escapes, JSON and SARIF are valid
JSON with the text as data. Error lines on stderr are one line without escapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.audit import Auditor
from depaudit.cli import main
from depaudit.formats.registry import FormatName, get_format
from depaudit.models import Advisory, LeakClass, PackageFacts, Report
from depaudit.scoring import LeakScorer
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef
from depaudit.sources.package_lock import PackageLockSource
from depaudit.text import terminal_safe

NOW = datetime(2026, 11, 25, tzinfo=UTC)
ANSI = "\x1b[31m\x1b]8;;http://evil.invalid\x07\x9b32m"
RLO = "\u202e"
PAYLOAD = (
    f"{ANSI}red{RLO}gnp.exe\r\n# INJECTED heading\n"
    "<img src=x onerror=alert(1)> <script>alert(2)</script> @octocat cc @org/team "
    "```\n| a | b |\n[click](javascript:alert(3)) `code` **bold** <!-- hidden -->"
)
#: names npm accepts (lowercase, URL-safe) but that still mean something in markdown/HTML
NAMES = ["evil_-_name_", "x~`~y", "@org/team", "javascript:alert(1)"]


def hostile_lock(tmp_path: Path) -> Path:
    packages: dict[str, object] = {
        "": {"name": "app", "version": "1.0.0", "dependencies": dict.fromkeys(NAMES, "*")},
    }
    for name in NAMES:
        packages[f"node_modules/{name}"] = {"version": "1.0.0"}
    # names and versions npm would never write: kept (skipped or placed) but never rendered raw
    packages[f"node_modules/{PAYLOAD}"] = {"version": "1.0.0"}
    packages["node_modules/plain"] = {"version": f"1.0.0-{PAYLOAD}"}
    lock = tmp_path / "package-lock.json"
    lock.write_text(json.dumps({"name": "app", "lockfileVersion": 3, "packages": packages}))
    return lock


class HostileService(EnrichmentService):
    """Registry-like facts whose every text field is the payload."""

    name = "hostile"

    def enrich_all(self, packages: list[PackageRef]) -> EnrichmentResult:  # type: ignore[override]
        facts = {}
        for ref in packages:
            advisory = Advisory(
                id=f"GHSA-{PAYLOAD[:20]}",
                source="github",
                package=ref.name,
                affected="*",
                title=PAYLOAD,
                leak_class=LeakClass.LEAK,
                cwes=("CWE-401",),
                severity="high",
                url=f"https://github.invalid/advisories/{PAYLOAD}",
            )
            facts[ref.key] = PackageFacts(
                name=ref.name,
                version=ref.version,
                in_registry=True,
                latest="9.0.0",
                deprecated=PAYLOAD,
                deprecation_known=True,
                repository=f"https://github.invalid/{PAYLOAD}",
                advisories=(advisory,),
            )
        return EnrichmentResult(facts=facts, warnings=(f"hostile warning {PAYLOAD}",))


@pytest.fixture
def report(tmp_path: Path) -> Report:
    tree = PackageLockSource().load(hostile_lock(tmp_path))
    report = Auditor(
        tree=tree,
        services=[HostileService()],
        scorer=LeakScorer(clock=lambda: NOW),
        clock=lambda: NOW,
    ).run()
    assert report.suspects, "the payload must reach the suspects' evidence"
    assert any(PAYLOAD[:5] in s.evidence for x in report.suspects for s in x.signals)
    return report


C0_C1 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _no_controls(text: str) -> None:
    found = CONTROL.findall(text)
    assert not found, sorted(set(found))


def test_table_strips_control_and_bidi_characters(report: Report) -> None:
    text = get_format(FormatName.TABLE).render(report)
    _no_controls(text)
    assert "red" in text  # the text is kept, its escapes are not
    assert not any(line.lstrip().startswith("# INJECTED") for line in text.splitlines())


def test_markdown_is_inert(report: Report) -> None:
    text = get_format(FormatName.MARKDOWN).render(report)
    _no_controls(text)
    assert (
        "<img" not in text
        and "<script" not in text
        and "<!--" not in text.replace("<!-- depaudit", "")
    )
    assert not re.search(r"(?<![\w`\\])@octocat", text), "a live @mention"
    assert "](javascript:" not in text  # no live link
    assert not any(line.startswith("# INJECTED") for line in text.splitlines())
    # fences stay balanced: the payload's ``` cannot open a code block
    assert text.count("```") % 2 == 0


@pytest.mark.parametrize("fmt", [FormatName.JSON, FormatName.SARIF])
def test_json_formats_carry_the_text_as_data(report: Report, fmt: FormatName) -> None:
    text = get_format(fmt).render(report)
    # JSON is JSON: the text is data (bidi marks may stay), but no raw C0 / C1 control
    assert not C0_C1.findall(text), sorted(set(C0_C1.findall(text)))
    data = json.loads(text)
    strings: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(key)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    assert any("INJECTED" in s for s in strings)
    if fmt == FormatName.SARIF:
        for run in data["runs"]:
            for result in run["results"]:
                message = result["message"]
                assert "<script" not in message.get("markdown", "")
                for field in ("text", "markdown"):
                    _no_controls(message.get(field, ""))


def test_terminal_safe_removes_everything_dangerous() -> None:
    cleaned = terminal_safe(PAYLOAD)
    _no_controls(cleaned)
    assert "\n" not in cleaned and "\x1b" not in cleaned
    assert "red" in cleaned and "INJECTED" in cleaned


def test_scan_through_main_writes_clean_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = hostile_lock(tmp_path)
    main(["scan", "--lockfile", str(lock), "--format", "table"])
    out, err = capsys.readouterr()
    _no_controls(out)
    _no_controls(err)


def test_error_line_from_a_hostile_lockfile_is_one_clean_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An InputError quoting a hostile key (found by the parser fuzzer: a yarn.lock entry
    whose key holds a newline and an ANSI escape) is printed as one line without escapes."""
    lock = tmp_path / "yarn.lock"
    key = "evil\x1b[2J\x1b[31m\nline two\u202e"
    lock.write_text(f'__metadata:\n  version: 8\n\n"{key}":\n  version: 1.0.0\n')
    assert main(["scan", "--lockfile", str(lock)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("depaudit: error: ") and str(lock) in err
    _no_controls(err)


def test_format_characters_are_every_cf_of_this_python() -> None:
    """terminal_safe strips Unicode category Cf with one regex; it must cover every Cf
    character this Python knows (a newer Unicode adds some: extend the class)."""
    import sys
    import unicodedata

    from depaudit.text import format_chars

    cf = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    assert format_chars().sub("", cf) == ""
    assert format_chars().sub("", "aé\u00e9x\u2028") == "aé\u00e9x\u2028"  # not Cf: kept
