"""Markdown for PR comments: counts per tier, top table, collapsible rest, size limit,
and no markup injection from package names or registry / advisory texts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt

from depaudit.formats.markdown import GITHUB_LIMIT, escape, render_markdown
from depaudit.formats.registry import get_format
from depaudit.models import (
    DependencyTree,
    Package,
    ProblemKind,
    Report,
    Signal,
    SourceInfo,
    Suspect,
    Tier,
    TreeProblem,
)

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def report(suspects, problems=(), packages=None, warnings=(), ignored=()):
    if packages is None:
        packages = tuple(
            Package(s.name, s.version, f"node_modules/{s.name}", (s.name,)) for s in suspects
        )
    tree = DependencyTree(
        SourceInfo("package-lock", "package-lock.json", 3), "app", "1.0.0", packages
    )
    return Report(
        tool_version="0.1.0",
        generated_at=NOW,
        tree=tree,
        problems=tuple(problems),
        suspects=tuple(suspects),
        warnings=tuple(warnings),
        ignored=tuple(ignored),
    )


def suspect(name, score=70.0, tier=Tier.HIGH, evidence="deprecated", url=None, n=1):
    signals = tuple(
        Signal("deprecated" if i == 0 else f"rule-{i}", score / n, evidence, url) for i in range(n)
    )
    return Suspect(name, "1.0.0", score, tier, signals, ((name,),))


def html_and_links(text):
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    found = {"html": [], "links": [], "images": []}

    def walk(items):
        for token in items:
            if token.type in ("html_inline", "html_block"):
                found["html"].append(token.content.strip())
            if token.type == "link_open":
                found["links"].append(token.attrGet("href"))
            if token.type == "image":
                found["images"].append(token.attrGet("src"))
            if token.children:
                walk(token.children)

    walk(tokens)
    return found


def test_headline_counts_per_tier_and_top_table():
    text = render_markdown(
        report(
            [
                suspect("socket.io-redis", 98, Tier.HIGH, url="https://example.invalid/a"),
                suspect("request", 45, Tier.MEDIUM),
                suspect("mysql", 20, Tier.LOW),
            ]
        )
    )
    assert "## depaudit: 3 leak suspects" in text
    assert "**1 high** · **1 medium** · **1 low**" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1 |")]
    assert rows and "`socket.io-redis@1.0.0`" in rows[0] and "| 98 | high |" in rows[0]
    assert "[ref](https://example.invalid/a)" in rows[0]
    assert text.startswith("<!-- depaudit -->")


HOSTILE_NAMES = [
    "evil](https://attacker.example)",
    "<img src=x onerror=alert(1)>",
    "@octocat",
    "x`|<script>alert(1)</script>|`",
    "a\n# heading\n<details open>",
]
HOSTILE_TEXT = (
    "**bold** [click](https://attacker.example) <script>alert(1)</script> @admin "
    "www.attacker.example http://attacker.example/x ![img](https://attacker.example/i.png) "
    "| --- | \n## new heading\n<!-- comment -->"
)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_and_texts_cannot_inject_markup(name):
    bad = Suspect(
        name,
        "1.0.0",
        70,
        Tier.HIGH,
        (
            Signal("deprecated", 40, HOSTILE_TEXT, "javascript:alert(1)"),
            Signal("stale", 30, HOSTILE_TEXT, "https://ok.example/ref (x)"),
        ),
        ((name, HOSTILE_TEXT),),
    )
    problem = TreeProblem(ProblemKind.INVALID, name, "1.0.0", (name,), detail=HOSTILE_TEXT)
    rest = [suspect(f"pkg{i}", 20, Tier.LOW, evidence=HOSTILE_TEXT) for i in range(12)]
    text = render_markdown(
        report([bad, *rest], [problem], warnings=[HOSTILE_TEXT], ignored=[HOSTILE_TEXT])
    )
    found = html_and_links(text)
    # the only HTML is ours, the only links are our escaped references
    allowed_html = {"<!-- depaudit -->", "<br>", "<details>", "</details>", "<sub>", "</sub>"}
    for block in found["html"]:
        for line in block.splitlines():
            assert line in allowed_html or re.fullmatch(r"<summary>[\w ()]+</summary>", line)
    assert found["links"] == ["https://ok.example/ref%20%28x%29"]
    assert found["images"] == []
    # outside code spans (where GitHub forms neither), no mention and no autolink
    prose = re.sub(r"`[^`\n]*`", "", text)
    assert not re.search(r"@[A-Za-z]", prose)
    assert not re.search(r"(?i)www\.|https?://attacker", prose)
    assert "javascript:" not in text
    # no heading or table row injected: every line is one of ours
    for line in text.splitlines():
        assert not line.startswith("# ") and not line.startswith("## new")


def test_escape_keeps_plain_text_readable():
    assert escape("socket.io-redis") == "socket.io-redis"
    assert escape("[x](y) *b* _i_ `c` |") == "\\[x\\]\\(y\\) \\*b\\* \\_i\\_ \\`c\\` \\|"
    assert escape("a < b & c") == "a &lt; b &amp; c"
    assert "\n" not in escape("one\ntwo")


def test_a_2000_package_report_stays_under_the_limit_and_keeps_the_top():
    evidence = "deprecated: " + "this package is no longer maintained, use the successor " * 8
    suspects = [
        suspect(
            f"package-number-{i:04d}",
            2000 - i / 10,
            Tier.HIGH if i < 50 else Tier.LOW,
            evidence=evidence,
            url=f"https://example.invalid/{i}",
            n=5,
        )
        for i in range(2000)
    ]
    problems = [
        TreeProblem(ProblemKind.EXTRANEOUS, f"x{i}", "1.0.0", ("a", "b", f"x{i}"), detail=evidence)
        for i in range(2000)
    ]
    text = get_format("markdown").render(
        report(suspects, problems, warnings=["registry: 3 packages could not be fetched"])
    )
    assert len(text) < GITHUB_LIMIT
    for i in range(10):
        assert f"package-number-{i:04d}@1.0.0" in text
    assert "**50 high** · **0 medium** · **1950 low**" in text
    assert "more not shown" in text
    assert "registry: 3 packages could not be fetched" in text
    assert text.count("<details>") == text.count("</details>")


def test_no_suspects_says_so():
    text = render_markdown(report([]))
    assert "No leak suspects found." in text and "**0 high**" in text


def test_a_huge_name_in_many_problem_rows_is_cut_and_only_rows_that_fit_are_made() -> None:
    name = "n" * 30_000
    problems = [
        TreeProblem(ProblemKind.MISSING, name, "1.0.0", (f"p{i}", name), wanted="^1")
        for i in range(500)
    ]
    text = render_markdown(report([], problems))
    assert name not in text and "n" * 213 + "…" in text
    assert len(text) <= GITHUB_LIMIT
    kept = text.count("| missing |")
    assert 0 < kept < 500
    assert f"*{500 - kept} more not shown" in text
    # JSON keeps the name whole
    assert name in get_format("json").render(report([], problems[:1]))
