"""The bundled knowledge base: the shipped files load and validate, a broken entry is
rejected with a message naming the file and the entry, and the service attaches the entries
that cover the installed version."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from depaudit.models import KnownLeakKind, LeakClass
from depaudit.services.interface import PackageRef
from depaudit.services.knowledge_base import (
    KNOWN_LEAKS_FILE,
    LEAK_PRONE_FILE,
    KnowledgeBaseError,
    KnowledgeBaseService,
    load_knowledge_base,
    parse_known_leaks,
    parse_leak_prone,
)


def _shipped(name: str) -> Any:
    return yaml.safe_load(resources.files("depaudit.data").joinpath(name).read_text("utf-8"))


def test_shipped_files_load_and_validate() -> None:
    kb = load_knowledge_base()
    assert len(kb.entries) == 85
    kinds = {k: sum(e.kind is k for e in kb.entries) for k in KnownLeakKind}
    assert kinds == {
        KnownLeakKind.ADVISORY: 28,
        KnownLeakKind.BUG: 52,
        KnownLeakKind.DEPRECATION: 5,
    }
    assert all(e.references for e in kb.entries)
    assert sum(e.verified is not None for e in kb.entries) >= 20
    categories = {c.id for c in kb.leak_prone.categories}
    assert categories == {
        "pools-and-db-drivers",
        "pubsub-and-cluster-adapters",
        "emitters",
        "caches-and-session-stores",
        "logger-transports",
        "http-agents",
        "websocket-servers",
    }


def test_socket_io_redis_history_and_rename() -> None:
    kb = load_knowledge_base()
    leak = next(e for e in kb.entries if e.id == "socket-io-redis-requests-map-leak")
    assert (leak.affected, leak.fixed, leak.confidence) == (">=2.0.0 <5.1.0", "5.1.0", "high")
    assert "https://github.com/socketio/socket.io-redis-adapter/pull/225" in leak.references
    assert leak.leak_class is LeakClass.LEAK
    rename = next(e for e in kb.entries if e.id == "socket-io-redis-renamed")
    assert rename.successor == "@socket.io/redis-adapter"
    assert [e.id for e in kb.matching("socket.io-redis", "5.0.1")] == [
        "socket-io-redis-requests-map-leak",
        "socket-io-redis-renamed",
    ]
    assert [e.id for e in kb.matching("socket.io-redis", "5.1.0")] == ["socket-io-redis-renamed"]
    assert kb.leak_prone.host_of("socket.io-redis") == "socket.io"
    assert kb.leak_prone.host_of("connect-redis") == "express-session"


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("socket.io", "2.4.1", ["socket-io-rooms-join-after-disconnect"]),
        ("socket.io", "2.5.0", []),
        ("socket.io", "4.5.2", []),
        ("request", "2.88.2", ["request-deprecated"]),
        (
            "multer",
            "1.4.5-lts.1",
            ["multer-unclosed-busboy-streams-2025", "multer-incomplete-cleanup-2026"],
        ),
        ("multer", "2.0.2", ["multer-incomplete-cleanup-2026"]),
        # every release before the fix 1.2.3 (introduced-0 convention)
        ("grpc", "1.2.0", ["grpc-native-leak-1-2", "grpc-native-deprecated"]),
        # ranges settled on 2026-11-27 from the published code of each release
        ("bull", "3.13.0", ["bull-shared-client-error-listener"]),
        ("bull", "3.14.0", []),
        ("rxjs", "5.4.3", []),  # 5.4.x shareReplay was still reference-counted
        ("rxjs", "5.5.12", ["rxjs-sharereplay-source-subscription"]),
        ("rxjs", "6.3.3", ["rxjs-sharereplay-source-subscription"]),
        ("rxjs", "6.4.0", []),
        ("memory-cache", "0.1.1", []),
        ("memory-cache", "0.1.4", ["memory-cache-expiry-race"]),
        ("memory-cache", "0.1.5", []),
        ("mongodb-core", "3.1.8", ["mongodb-core-mongos-pool-outage"]),
        ("iterall", "1.1.1", ["iterall-foreach-recursion-leak"]),
        ("iterall", "1.1.2", []),
        ("iterall", "1.0.3", []),
        ("grpc", "1.24.0", ["grpc-native-deprecated"]),
        ("left-pad", "1.3.0", []),
    ],
)
def test_matching(name: str, version: str, expected: list[str]) -> None:
    assert [e.id for e in load_knowledge_base().matching(name, version)] == expected


@pytest.mark.parametrize(
    ("version", "writebuffer", "caller_stack"),
    [
        ("1.7.0", False, False),
        ("1.7.3", False, True),
        ("1.8.0", True, True),
        ("1.8.10", True, True),
        ("1.8.11", False, True),
        ("1.8.14", False, True),
        ("1.8.15", False, False),
    ],
)
def test_grpc_js_retry_and_caller_stack_ranges(
    version: str, writebuffer: bool, caller_stack: bool
) -> None:
    ids = {e.id for e in load_knowledge_base().matching("@grpc/grpc-js", version)}
    assert ("grpc-js-retrying-call-writebuffer" in ids) is writebuffer
    assert ("grpc-js-caller-stack-error-retention" in ids) is caller_stack


def test_leak_prone_categories_and_patterns() -> None:
    lp = load_knowledge_base().leak_prone
    assert [c.id for c in lp.categories_of("@socket.io/postgres-adapter")] == [
        "pubsub-and-cluster-adapters"
    ]
    assert [c.id for c in lp.categories_of("winston-loggly-bulk")] == ["logger-transports"]
    assert [c.id for c in lp.categories_of("express-session")] == ["caches-and-session-stores"]
    assert lp.categories_of("left-pad") == ()


def _valid() -> dict[str, Any]:
    data = _shipped(KNOWN_LEAKS_FILE)
    return {"version": 1, "entries": copy.deepcopy(data["entries"][:3])}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(affected="<<1.0"), "is not an npm range"),
        (lambda e: e.update(fixed="2.0.0", affected="<3.0.0"), "is inside"),
        (lambda e: e.update(references=[]), "references is required"),
        (lambda e: e.update(references=["http://example.invalid/x"]), "https://"),
        (lambda e: e.update(ghsa="GHSA-nope"), "not a GHSA id"),
        (lambda e: e.update(kind="rumour"), "kind must be one of"),
        (lambda e: e.update(confidence="medium"), "confidence must be high or low"),
        (lambda e: e.update(cwes=["401"]), "CWE-<number>"),
        (lambda e: e.update(colour="red"), "unknown field(s) colour"),
        (lambda e: e.update(package="Not A Name"), "not an npm package name"),
        (lambda e: e.pop("summary"), "summary is required"),
    ],
)
def test_broken_entry_is_rejected(mutate: Any, message: str) -> None:
    data = _valid()
    mutate(data["entries"][1])
    with pytest.raises(KnowledgeBaseError) as info:
        parse_known_leaks(data)
    assert info.value.message.startswith(f"{KNOWN_LEAKS_FILE}: entry 2")
    assert message in info.value.message


def test_severity_on_a_bug_and_duplicate_ids_are_rejected() -> None:
    data = _valid()
    bug = next(e for e in _shipped(KNOWN_LEAKS_FILE)["entries"] if e["kind"] == "bug")
    data["entries"].append({**bug, "severity": "high"})
    with pytest.raises(KnowledgeBaseError, match="kind: advisory only"):
        parse_known_leaks(data)
    data = _valid()
    data["entries"].append(copy.deepcopy(data["entries"][0]))
    with pytest.raises(KnowledgeBaseError, match="duplicate id"):
        parse_known_leaks(data)


def test_broken_leak_prone_is_rejected() -> None:
    ids = [e.id for e in load_knowledge_base().entries]
    data = _shipped(LEAK_PRONE_FILE)
    data["categories"][0]["example"] = "no-such-entry"
    with pytest.raises(KnowledgeBaseError, match="is not in known-leaks.yaml"):
        parse_leak_prone(data, ids)
    data = _shipped(LEAK_PRONE_FILE)
    data["companions"].append({"package": "socket.io-redis", "host": "socket.io"})
    with pytest.raises(KnowledgeBaseError, match="listed twice"):
        parse_leak_prone(data, ids)


def test_service_attaches_covering_entries_only() -> None:
    refs = [
        PackageRef("socket.io-redis", "5.0.0"),
        PackageRef("socket.io-redis", "5.4.0"),
        PackageRef("left-pad", "1.3.0"),
    ]
    result = KnowledgeBaseService().enrich_all(refs)
    assert set(result.facts) == {"socket.io-redis@5.0.0", "socket.io-redis@5.4.0"}
    assert [k.id for k in result.facts["socket.io-redis@5.4.0"].known_leaks] == [
        "socket-io-redis-renamed"
    ]
    assert len(result.facts["socket.io-redis@5.0.0"].known_leaks) == 2
    assert result.consulted.startswith("knowledge base: 85 entries, 2 of 3 packages")
    assert not result.failed and not result.warnings


def test_entries_of_a_package_are_found_by_name_in_file_order() -> None:
    kb = load_knowledge_base()
    for name in {e.package for e in kb.entries}:
        assert kb.for_package(name) == tuple(e for e in kb.entries if e.package == name)
    assert kb.for_package("no-such-package-anywhere") == ()
