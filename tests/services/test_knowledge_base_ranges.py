"""Which versions each knowledge-base entry covers: real cases established from the
references (and, where stated, from the published packages' own code and changelogs).

A false positive on a current release costs the user's trust, so every case below pins a
version the entry must NOT cover next to one it must. Each case names its evidence.
"""

from __future__ import annotations

import pytest

from depaudit.models import KnownLeak
from depaudit.services.knowledge_base import applies, load_knowledge_base

# (entry id, package version, covered?)
CASES: list[tuple[str, str, bool]] = [
    # debug: the global instances array came with 3.0.0 (debug-js/debug#484), removed in 4.3.0
    # (debug-js/debug#740); 2.x keeps no registry.
    ("debug-instances-array-leak", "2.6.9", False),
    ("debug-instances-array-leak", "3.1.0", True),
    ("debug-instances-array-leak", "4.1.1", True),
    ("debug-instances-array-leak", "4.3.0", False),
    # ws: permessage-deflate arrived in 0.6.0; zlib objects closed from 0.8.1
    # (https://github.com/websockets/ws/pull/608, merged 2015-11-02).
    ("ws-permessage-deflate-zlib-not-closed", "0.5.0", False),
    ("ws-permessage-deflate-zlib-not-closed", "0.6.0", True),
    ("ws-permessage-deflate-zlib-not-closed", "0.8.0", True),
    ("ws-permessage-deflate-zlib-not-closed", "0.8.1", False),
    ("ws-permessage-deflate-zlib-not-closed", "7.5.14", False),
    ("ws-permessage-deflate-zlib-not-closed", "8.18.0", False),
    # ws: concurrencyLimit (global zlib limiter) first in 3.2.0
    # (https://github.com/websockets/ws/issues/1202); no zlib use before 0.6.0.
    ("ws-zlib-concurrency-fragmentation", "0.5.0", False),
    ("ws-zlib-concurrency-fragmentation", "3.1.0", True),
    ("ws-zlib-concurrency-fragmentation", "3.2.0", False),
    ("ws-zlib-concurrency-fragmentation", "7.5.14", False),
    # engine.io: perMessageDeflate on by default from 1.6.0 to 3.4.x; off from 3.5.0
    # (https://github.com/socketio/engine.io/commit/5ad273601eb66c7b318542f87026837bf9dddd21).
    ("engine-io-permessage-deflate-memory", "1.5.4", False),
    ("engine-io-permessage-deflate-memory", "3.4.2", True),
    ("engine-io-permessage-deflate-memory", "3.5.0", False),
    ("engine-io-permessage-deflate-memory", "3.6.2", False),
    ("engine-io-permessage-deflate-memory", "4.1.2", False),
    # socket.io-redis: the requests map came with 2.0.0
    # (https://github.com/socketio/socket.io-redis-adapter/pull/146), fixed in 5.1.0
    # (https://github.com/socketio/socket.io-redis-adapter/pull/225: "Released as 5.1.0").
    ("socket-io-redis-requests-map-leak", "1.1.1", False),
    ("socket-io-redis-requests-map-leak", "2.0.0", True),
    ("socket-io-redis-requests-map-leak", "5.0.0", True),
    ("socket-io-redis-requests-map-leak", "5.1.0", False),
    ("socket-io-redis-requests-map-leak", "5.4.0", False),
    # redis: "Fix a memory leak on reconnect" in v2.0.0 (https://github.com/redis/node-redis/pull/854)
    ("node-redis-reconnect-leak-2015", "0.12.1", True),
    ("node-redis-reconnect-leak-2015", "2.0.0", False),
    ("node-redis-reconnect-leak-2015", "3.1.2", False),
    # mysql: pool ejection after changeUser came in 2.3.0 (#806) and leaked until 2.3.2
    # (https://github.com/mysqljs/mysql/issues/833, Changes.md).
    ("mysql-pool-changeuser-connection-leak", "2.2.0", False),
    ("mysql-pool-changeuser-connection-leak", "2.3.1", True),
    ("mysql-pool-changeuser-connection-leak", "2.3.2", False),
    ("mysql-pool-changeuser-connection-leak", "2.18.1", False),
    # mongoose: $__.$versionError from 5.4.18 (#7570) until 5.7.11
    # (https://github.com/Automattic/mongoose/pull/8326).
    ("mongoose-version-error-retained", "5.4.17", False),
    ("mongoose-version-error-retained", "5.6.3", True),
    ("mongoose-version-error-retained", "5.7.10", True),
    ("mongoose-version-error-retained", "5.7.11", False),
    # pg-pool: release closure inside _acquireClient from 2.0.7; _releaseOnce in 3.1.1
    # (https://github.com/brianc/node-postgres/pull/2164).
    ("pg-pool-release-closure-retains-pending", "2.0.6", False),
    ("pg-pool-release-closure-retains-pending", "2.0.9", True),
    ("pg-pool-release-closure-retains-pending", "3.1.1", False),
    # keyv: prefixes from 0.4.0 made the expiry delete miss; fixed in 4.0.1
    # (https://github.com/jaredwray/keyv/issues/108, PR #107).
    ("keyv-map-store-ttl-not-deleted", "0.3.1", False),
    ("keyv-map-store-ttl-not-deleted", "4.0.0", True),
    ("keyv-map-store-ttl-not-deleted", "4.0.1", False),
    # follow-redirects: socket leak fixed by PR #157, first in 1.14.0
    # (https://github.com/follow-redirects/follow-redirects/pull/157).
    ("follow-redirects-abort-socket-leak", "1.13.3", True),
    ("follow-redirects-abort-socket-leak", "1.14.0", False),
    ("follow-redirects-abort-socket-leak", "1.15.6", False),
    # sharp: reduced default concurrency on glibc without jemalloc in 0.28.0
    # (https://github.com/lovell/sharp/issues/2607).
    ("sharp-glibc-fragmentation", "0.27.2", True),
    ("sharp-glibc-fragmentation", "0.28.0", False),
    ("sharp-glibc-fragmentation", "0.33.5", False),
    # undici: response finalization leak 6.16.0 .. 6.19.5 (https://github.com/nodejs/undici/pull/3445)
    ("undici-finalization-leak-6-16", "5.28.4", False),
    ("undici-finalization-leak-6-16", "6.15.0", False),
    ("undici-finalization-leak-6-16", "6.16.0", True),
    ("undici-finalization-leak-6-16", "6.19.5", True),
    ("undici-finalization-leak-6-16", "6.19.6", False),
    ("undici-finalization-leak-6-16", "7.0.0", False),
    # typeorm: SELECT VERSION() runner never released, 0.2.44 .. 0.3.3
    # (https://github.com/typeorm/typeorm/pull/8803).
    ("typeorm-mysql-version-query-runner", "0.2.43", False),
    ("typeorm-mysql-version-query-runner", "0.2.45", True),
    ("typeorm-mysql-version-query-runner", "0.3.3", True),
    ("typeorm-mysql-version-query-runner", "0.3.4", False),
    # typeorm: postgres stream() regression 0.2.26 .. 0.2.29
    # (https://github.com/typeorm/typeorm/issues/7109, fixed by #7185 in 0.2.30).
    ("typeorm-stream-connection-not-released", "0.2.25", False),
    ("typeorm-stream-connection-not-released", "0.2.26", True),
    ("typeorm-stream-connection-not-released", "0.2.30", False),
    # graphql-subscriptions: lazy subscribe on first next() from 1.1.0
    # (https://github.com/apollographql/graphql-subscriptions/pull/148).
    ("graphql-subscriptions-asynciterator-dangling", "1.0.0", True),
    ("graphql-subscriptions-asynciterator-dangling", "1.1.0", False),
    # winston: createLogger/piped transports are winston 3; 2.x is not affected
    # (https://github.com/winstonjs/winston/issues/1334, #2548: "worked in v2.4.7").
    ("winston-createlogger-listeners", "2.4.7", False),
    ("winston-createlogger-listeners", "3.0.0-rc5", True),
    ("winston-createlogger-listeners", "3.17.0", True),
    ("winston-http-transport-leak", "2.4.7", False),
    ("winston-http-transport-leak", "3.17.0", True),
    # engine.io GHSA-r635-g3xr-vw7x: the unclosed "invalid content" path is in 4.1.0 .. 6.6.6
    # (https://github.com/socketio/socket.io/commit/fc11285e14964c2132d122164bf130c355f60671).
    ("engine-io-polling-connection-exhaustion-2026", "3.6.2", False),
    ("engine-io-polling-connection-exhaustion-2026", "4.0.6", False),
    ("engine-io-polling-connection-exhaustion-2026", "4.1.0", True),
    ("engine-io-polling-connection-exhaustion-2026", "6.6.6", True),
    ("engine-io-polling-connection-exhaustion-2026", "6.6.7", False),
    # @hono/node-server: "From 2.0.0 until 2.0.10" (https://www.cve.org/CVERecord?id=CVE-2026-73565)
    ("hono-node-server-ws-handshake-leak-2026", "1.19.0", False),
    ("hono-node-server-ws-handshake-leak-2026", "2.0.8", True),
    ("hono-node-server-ws-handshake-leak-2026", "2.0.10", False),
    # next: fixed in 15.6.0-canary.61 and 16.1.5 (https://github.com/advisories/GHSA-5f7q-jpqc-wp7h)
    ("nextjs-ppr-resume-memory-2026", "15.5.4", True),
    ("nextjs-ppr-resume-memory-2026", "15.6.0-canary.61", False),
    ("nextjs-ppr-resume-memory-2026", "16.1.4", True),
    ("nextjs-ppr-resume-memory-2026", "16.1.5", False),
    ("nextjs-ppr-resume-memory-2026", "16.2.0", False),
    # lru-cache: ttlAutopurge arrived in 7.1.0; fixed in 11.2.7
    # (https://github.com/isaacs/node-lru-cache/pull/392).
    ("lru-cache-autopurge-updateageonget", "6.0.0", False),
    ("lru-cache-autopurge-updateageonget", "7.0.0", False),
    ("lru-cache-autopurge-updateageonget", "7.1.0", True),
    ("lru-cache-autopurge-updateageonget", "11.2.7", False),
    # pg-pool: idleListener from the 2.0.0 rewrite; fixed in 2.0.6
    # (https://github.com/brianc/node-pg-pool/pull/83).
    ("pg-pool-idle-listener-retains", "1.8.0", False),
    ("pg-pool-idle-listener-retains", "2.0.5", True),
    ("pg-pool-idle-listener-retains", "2.0.6", False),
    # design properties present in every release (no fix; the summary names the mitigation)
    ("ioredis-offline-queue-unbounded", "6.0.0", True),
    ("node-redis-offline-queue-unbounded", "0.12.1", True),
    ("express-session-memorystore", "1.19.0", True),
]


def _entry(entry_id: str) -> KnownLeak:
    return next(e for e in load_knowledge_base().entries if e.id == entry_id)


@pytest.mark.parametrize(("entry_id", "version", "covered"), CASES)
def test_entry_covers_exactly_the_established_versions(
    entry_id: str, version: str, covered: bool
) -> None:
    assert applies(_entry(entry_id), version) is covered


def test_every_pinned_entry_has_a_verified_note() -> None:
    for entry_id in {c[0] for c in CASES}:
        entry = _entry(entry_id)
        assert entry.affected != "unknown", entry_id
        assert entry.verified or entry_id == "debug-instances-array-leak", entry_id


def test_express_app_versions_no_longer_carry_stale_bugs() -> None:
    """The example app's installed versions (examples/express-app/package-lock.json): none of
    these long-fixed (or later-introduced) bugs may attach to them."""
    kb = load_knowledge_base()
    installed = {
        "ws": "7.5.14",
        "engine.io": "3.6.2",
        "socket.io-redis": "5.4.0",
        "redis": "3.1.2",
        "mysql": "2.18.1",
        "debug": "2.6.9",
        "winston": "2.4.7",
    }
    stale = {
        "ws-permessage-deflate-zlib-not-closed",
        "ws-zlib-concurrency-fragmentation",
        "engine-io-permessage-deflate-memory",
        "engine-io-polling-connection-exhaustion-2026",
        "socket-io-redis-requests-map-leak",
        "node-redis-reconnect-leak-2015",
        "mysql-pool-changeuser-connection-leak",
        "debug-instances-array-leak",
        "winston-createlogger-listeners",
        "winston-http-transport-leak",
    }
    found = {e.id for name, version in installed.items() for e in kb.matching(name, version)}
    assert not found & stale


def test_unknown_range_stops_at_the_newest_fix_of_every_release_line() -> None:
    from dataclasses import replace

    base = _entry("ws-permessage-deflate-zlib-not-closed")
    several = replace(base, affected="unknown", fixed="5.29.0, 6.21.2, 7.5.0")
    assert applies(several, "5.28.4") is True  # below a line's fix: may be affected
    assert applies(several, "6.0.0") is True  # the line's own fix is not known to cover it
    assert applies(several, "7.5.0") is False  # at or above every fix
    assert applies(several, "8.1.0") is False
    nothing_known = replace(base, affected="unknown", fixed=None)
    assert applies(nothing_known, "99.0.0") is True  # no fix known: cannot rule it out
