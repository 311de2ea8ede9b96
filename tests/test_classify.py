"""The leak classifier on real advisory texts (titles and summaries quoted from the GitHub
Advisory Database records named in each case, as rendered by osv.dev / github.com/advisories),
and a broken rules file is rejected."""

from __future__ import annotations

import pytest

from depaudit.classify import classify, normalize_cwe, parse_rules
from depaudit.errors import ConfigError
from depaudit.models import LeakClass

MULTER_TITLE = "Multer vulnerable to Denial of Service via memory leaks from unclosed streams"
MULTER_TEXT = (
    "Multer <2.0.0 is vulnerable to a resource exhaustion and memory leak issue due to "
    "improper stream handling. When the HTTP request stream emits an error, the internal "
    "busboy stream is not closed, violating Node.js stream safety guidance."
)
UNDICI_TEXT = (
    "Applications that use undici to implement a webhook-like system are vulnerable. If the "
    "attacker set up a server with an invalid certificate, and they can force the application "
    "to call the webhook repeatedly, then they can cause a memory leak."
)
GRPC_TITLE = "@grpc/grpc-js can allocate memory for incoming messages well above configured limits"
JOSE_TITLE = (
    "jose vulnerable to resource exhaustion via specifically crafted JWE with compressed plaintext"
)
JOSE_IMPACT = (
    "Under certain conditions it is possible to have the user's environment consume "
    "unreasonable amount of CPU time or memory during JWE Decryption operations."
)
BODY_PARSER_TITLE = "body-parser vulnerable to denial of service when url encoding is enabled"
SEMVER_REGEX_TITLE = "semver-regex Regular Expression Denial of Service (ReDOS)"
SEMVER_REGEX_TEXT = "npm semver-regex is vulnerable to Inefficient Regular Expression Complexity"
JOSE_PBES2_IMPACT = (
    "Under certain conditions (see below) it is possible to have the user's environment "
    "consume unreasonable amount of CPU time."
)


@pytest.mark.parametrize(
    ("case", "cwes", "texts", "expected"),
    [
        # GHSA-44fp-w29j-9vj5 (multer), CWE-401
        ("multer", ["CWE-401"], [MULTER_TITLE, MULTER_TEXT], LeakClass.LEAK),
        # the same advisory as the npm bulk endpoint may send it: title only, no CWE
        ("multer-title-only", [], [MULTER_TITLE], LeakClass.LEAK),
        # ... and the summary alone ("stream is not closed")
        ("multer-text-no-cwe", [], [MULTER_TEXT.replace("memory leak", "x")], LeakClass.LEAK),
        # GHSA-cxrh-j4jr-qwg3 (undici), CWE-401; its text without the CWE still says leak
        (
            "undici",
            ["CWE-401"],
            ["undici Denial of Service attack via bad certificate data"],
            LeakClass.LEAK,
        ),
        ("undici-text", [], [UNDICI_TEXT], LeakClass.LEAK),
        # GHSA-r635-g3xr-vw7x (engine.io, per the knowledge base), CWE-404
        ("engine.io", ["CWE-404"], ["engine.io polling connection exhaustion"], LeakClass.LEAK),
        # GHSA-xf7r-hgr6-v32p (multer 2026), CWE-459 incomplete cleanup
        ("multer-cleanup", ["CWE-459"], ["Multer incomplete cleanup"], LeakClass.LEAK),
        # GHSA-7v5v-9h63-cj86 (@grpc/grpc-js), CWE-789
        ("grpc-js", ["CWE-789"], [GRPC_TITLE], LeakClass.EXHAUSTION),
        # GHSA-hhhv-q57g-882q (jose), CWE-400, "CPU time or memory", decompression
        ("jose-jwe", ["CWE-400"], [JOSE_TITLE, JOSE_IMPACT], LeakClass.EXHAUSTION),
        # npm bulk shape: "cwe": ["CWE-789"] and only the title
        ("grpc-js-bulk", ["CWE-789"], [GRPC_TITLE], LeakClass.EXHAUSTION),
        # a resource-consumption CWE with a text about memory
        ("grpc-js-as-400", ["CWE-400"], [GRPC_TITLE], LeakClass.EXHAUSTION),
        # GHSA-qwcr-r2fm-qrc7 (body-parser), CWE-405: amplification, not memory
        ("body-parser", ["CWE-405"], [BODY_PARSER_TITLE], LeakClass.OTHER),
        # GHSA-44c6-4v22-4mhx (semver-regex): CWE-1333 *and* CWE-400 -> ReDoS wins
        (
            "semver-regex",
            ["CWE-1333", "CWE-400"],
            [SEMVER_REGEX_TITLE, SEMVER_REGEX_TEXT],
            LeakClass.OTHER,
        ),
        # GHSA-jv3g-j58f-9mq9 (jose PBES2 count), texts from the record; its CWE was not
        # read, CWE-400 stands in for "resource consumption that is CPU only"
        (
            "jose-pbes2",
            ["CWE-400"],
            [
                "JOSE vulnerable to resource exhaustion via specifically crafted JWE",
                JOSE_PBES2_IMPACT,
            ],
            LeakClass.OTHER,
        ),
    ],
)
def test_real_advisories(case: str, cwes: list[str], texts: list[str], expected: LeakClass) -> None:
    assert classify(cwes, *texts) is expected, case


def test_closed_properly_is_not_a_leak() -> None:
    assert classify([], "Connections are closed properly after each request") is LeakClass.OTHER


def test_cwe_spellings() -> None:
    assert normalize_cwe("CWE-401") == "CWE-401"
    assert normalize_cwe("cwe-0401") == "CWE-401"
    assert normalize_cwe("401") == "CWE-401"
    assert normalize_cwe("NVD-CWE-Other") is None


@pytest.mark.parametrize(
    "broken",
    [
        None,
        {"version": 2},
        {"version": 1, "leak": {"cwes": ["CWE-401"]}, "other": {}},  # no exhaustion
        {"version": 1, "leak": {"cwes": ["not-a-cwe"]}, "other": {}, "exhaustion": {}},
        {
            "version": 1,
            "leak": {"cwes": [], "patterns": ["(unbalanced"]},
            "other": {},
            "exhaustion": {"cwes": [], "topic_patterns": []},
        },
    ],
)
def test_broken_rules_are_rejected(broken: object) -> None:
    with pytest.raises(ConfigError, match="leak-cwes.yaml"):
        parse_rules(broken)
