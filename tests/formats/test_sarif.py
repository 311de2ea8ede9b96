"""SARIF 2.1.0: valid against the official schema, one rule per signal kind, results at the
package's line in the lockfile, stable fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from depaudit.audit import Auditor
from depaudit.formats.registry import get_format
from depaudit.formats.sarif import FINGERPRINT_KEY, artifact_uri
from depaudit.models import KnownLeak, KnownLeakKind, PackageFacts, SourceLine, SourceLines
from depaudit.scoring import RULES, Knowledge, LeakScorer
from depaudit.services.interface import EnrichmentResult, EnrichmentService
from depaudit.sources.lines import with_lines
from depaudit.sources.package_lock import PackageLockSource

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "fixtures"
NESTED = CORPUS / "snyk" / "npm-lock-v2" / "nested-bundled-deps" / "package-lock.json"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def schema():
    return json.loads((ASSETS / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


class Facts(EnrichmentService):
    name = "fake"

    def __init__(self, facts):
        self.facts = facts

    def enrich_all(self, packages):
        return EnrichmentResult(facts={f.key: f for f in self.facts})


def leak(package):
    return KnownLeak(
        id=f"{package}-leak",
        package=package,
        kind=KnownLeakKind.BUG,
        affected="<99.0.0",
        fixed="99.0.0",
        summary="keeps every entry",
        references=("https://example.invalid/1",),
        confidence="high",
    )


@pytest.fixture
def sarif(monkeypatch):
    monkeypatch.chdir(NESTED.parent)
    tree = with_lines(PackageLockSource().load(Path("package-lock.json")))
    lru = next(p for p in tree.packages if p.name == "lru-cache")
    facts = [
        PackageFacts("lru-cache", lru.version, known_leaks=(leak("lru-cache"),), majors_behind=3),
        PackageFacts("yallist", "4.0.0", in_registry=False),
    ]
    scorer = LeakScorer(knowledge=Knowledge(categories={"lru-cache": "cache"}), clock=lambda: NOW)
    report = Auditor(tree=tree, services=[Facts(facts)], scorer=scorer, clock=lambda: NOW).run()
    assert report.suspects, "the fixture must produce suspects"
    return report, json.loads(get_format("sarif").render(report))


def test_sarif_validates_against_the_official_schema(sarif):
    _, log = sarif
    jsonschema.Draft4Validator(schema()).validate(log)
    assert log["version"] == "2.1.0"


def test_one_rule_per_signal_kind_with_security_severity(sarif):
    _, log = sarif
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.id for rule in RULES]
    for rule in rules:
        assert 0.1 <= float(rule["properties"]["security-severity"]) <= 10.0
        assert rule["shortDescription"]["text"] and rule["help"]["text"]


def test_results_point_at_the_package_entry_line(sarif):
    report, log = sarif
    lines = NESTED.read_text(encoding="utf-8").splitlines()
    results = log["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert set(by_rule) >= {"known-leak", "far-behind", "leak-prone", "not-in-registry"}
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "package-lock.json"
        line = lines[location["region"]["startLine"] - 1]
        name = result["locations"][0]["logicalLocations"][0]["name"].rsplit("@", 1)[0]
        assert line.strip().startswith('"node_modules/') and line.rstrip().endswith(
            f'/node_modules/{name}": {{'
        )
    assert by_rule["known-leak"]["level"] == "warning"  # 45 x 0.6 (transitive) + 8 + 12: medium


def test_fingerprints_are_stable_and_distinct(sarif):
    report, log = sarif
    again = json.loads(get_format("sarif").render(report))
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]
    assert prints == [
        r["partialFingerprints"][FINGERPRINT_KEY] for r in again["runs"][0]["results"]
    ]
    assert len(set(prints)) == len(prints)


def test_artifact_uri_is_relative_and_never_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert artifact_uri(str(tmp_path / "app" / "package-lock.json")) == "app/package-lock.json"
    assert artifact_uri("-") == "package.json"
    assert artifact_uri("/elsewhere/pnpm-lock.yaml") == "pnpm-lock.yaml"


def test_installed_tree_results_point_into_the_lockfile(monkeypatch):
    """A scan of a folder with node_modules reports npm ls's tree with the lockfile as its
    source: results must still land on each package's lockfile entry, not on line 1."""
    from depaudit.sources.loader import combine
    from depaudit.sources.npm_ls import NpmLsSource

    project = ASSETS / "projects" / "clean"
    monkeypatch.chdir(project)
    installed = NpmLsSource().load(project / "npm-ls-long.json")
    tree = with_lines(combine(installed, PackageLockSource().load(Path("package-lock.json"))))
    facts = [PackageFacts(p.name, p.version, in_registry=False) for p in tree.packages]
    report = Auditor(
        tree=tree, services=[Facts(facts)], scorer=LeakScorer(clock=lambda: NOW), clock=lambda: NOW
    ).run()
    results = json.loads(get_format("sarif").render(report))["runs"][0]["results"]
    lines = (project / "package-lock.json").read_text(encoding="utf-8").splitlines()
    assert {r["locations"][0]["logicalLocations"][0]["name"] for r in results} == {
        f"{p.name}@{p.version}" for p in tree.packages
    }
    for result in results:
        name = result["locations"][0]["logicalLocations"][0]["name"].rsplit("@", 1)[0]
        line = lines[result["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
        assert line.strip().startswith('"node_modules/'), line
        assert line.rstrip().endswith(f'node_modules/{name}": {{'), line


def test_results_point_at_line_1_when_the_tree_has_no_lines(sarif):
    """stdin, or a tree loaded without asking for lines: line 1, and no file is read."""
    report, _ = sarif
    bare = replace(report, tree=replace(report.tree, lines=None))
    for result in json.loads(get_format("sarif").render(bare))["runs"][0]["results"]:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["endColumn"]) == (1, 2)


def test_results_point_at_the_lines_the_tree_carries(sarif):
    """The renderer takes the lines from the tree and reads nothing: a tree whose lines say
    otherwise than the file is rendered as the tree says."""
    report, log = sarif
    placements = {location: SourceLine(7, 30) for location in report.tree.lines.placements}
    moved = replace(
        report, tree=report.tree.evolve(lines=SourceLines(SourceLine(1, 1), placements))
    )
    results = json.loads(get_format("sarif").render(moved))["runs"][0]["results"]
    assert len(results) == len(log["runs"][0]["results"])
    for result in results:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["endColumn"]) == (7, 31)


def test_rule_severities_come_with_the_report(sarif):
    """SARIF renders the severities of the weights that scored the report; a report scored
    without weights has rules without ``security-severity`` (formats load no bundled data)."""
    import dataclasses

    report, log = sarif
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["properties"]["security-severity"] for r in rules} == dict(report.severities)
    unscored = dataclasses.replace(report, severities={})
    bare = json.loads(get_format("sarif").render(unscored))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in bare] == [r["id"] for r in rules]
    assert not any("security-severity" in r["properties"] for r in bare)
