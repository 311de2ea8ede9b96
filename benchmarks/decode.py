"""The cold scan's decoding: the old path against :func:`packument_body.pack_body`, paired.

Over the recorded packuments of a lockfile (``benchmarks/recordings/packuments/``, made by
``benchmarks/record.py``; theia's by default), each round runs both paths over every body,
in alternating order, and prints their CPU seconds and the ratio (and, for scale, the CPU of
the msgspec decode that ``pack_body`` starts with, alone); a last pass checks that both
give the same result for every body. The old path is rebuilt here as it was before
``pack_body`` (msgspec's slim decoder with GC-tracked version structs, ``metrics.extract``,
``metrics.pack``), so the ratio stays against it. ``_stable_key``'s cache, which both use, is
emptied before every run: each run starts as cold as a scan does.

``python -m benchmarks.decode [--rounds N] [LOCKFILE_DIR]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import orjson

from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.replay import PACKUMENTS, packument_path
from depaudit.services import metrics, packument_body
from depaudit.services.packument_body import pack_body

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "real"
DEFAULT = CORPUS / "npm-lock-v3-theia-workspaces-large"


def old_path() -> Callable[[bytes], dict[str, Any]]:
    """``metrics.pack(metrics.extract_body(body))`` as it was before ``pack_body``."""
    version = msgspec.defstruct(
        "_OldSlimVersion", [("deprecated", Any, None), ("repository", Any, None)]
    )
    packument = msgspec.defstruct(
        "_OldSlimPackument",
        [
            ("time", Any, None),
            ("versions", dict[str, version] | None, None),  # type: ignore[valid-type]
            ("dist_tags", Any, None),
            ("repository", Any, None),
        ],
        rename={"dist_tags": "dist-tags"},
    )
    decoder = msgspec.json.Decoder(packument)

    def decode(body: bytes) -> dict[str, Any]:
        try:
            slim = decoder.decode(body)
        except msgspec.DecodeError:
            return metrics.pack(metrics.extract(orjson.loads(body)))
        doc: dict[str, Any] = {
            "time": slim.time,
            "dist-tags": slim.dist_tags,
            "repository": slim.repository,
        }
        if slim.versions is not None:
            doc["versions"] = {
                v: {"deprecated": m.deprecated, "repository": m.repository}
                for v, m in slim.versions.items()
            }
        return metrics.pack(metrics.extract(doc))

    return decode


def slim_decode(body: bytes) -> Any:
    """The msgspec decode ``pack_body`` starts with, alone: the floor of its route."""
    decoder, _ = metrics._slim_decoder()
    return decoder.decode(body)


def outcome(decode: Callable[[bytes], Any], body: bytes) -> Any:
    try:
        return decode(body)
    except ValueError:  # msgspec.DecodeError is one too
        return "ValueError"


def cpu_run(decode: Callable[[bytes], Any], bodies: list[bytes]) -> float:
    metrics._stable_key.cache_clear()
    packument_body._stable_int.cache_clear()
    start = time.process_time()
    for body in bodies:
        outcome(decode, body)
    return time.process_time() - start


def peak_bytes(decode: Callable[[bytes], Any], body: bytes) -> int:
    tracemalloc.start()
    try:
        outcome(decode, body)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def recorded_bodies(project: Path, recordings: Path = PACKUMENTS) -> list[bytes]:
    """The recorded packuments of the names ``project``'s lockfile asks the registry for (a
    line saying how many and how large is printed); SystemExit where there are none."""
    lock = lockfile_in(project)
    if lock is None:
        raise SystemExit(f"{project}: no lockfile")
    paths = [packument_path(n, recordings) for n in sorted(registry_names(lock))]
    bodies = [p.read_bytes() for p in paths if p.is_file()]
    if not bodies:
        raise SystemExit("no recorded packuments: run python -m benchmarks.record first")
    print(f"{len(bodies)} bodies, {sum(map(len, bodies)) / 1e6:.0f} MB")
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--recordings", type=Path, default=PACKUMENTS)
    args = parser.parse_args()
    bodies = recorded_bodies(args.project, args.recordings)
    old = old_path()
    ratios = []
    for n in range(args.rounds):
        order = [("old", old), ("new", pack_body), ("floor", slim_decode)]
        if n % 2:
            order.reverse()
        cpu = {name: cpu_run(decode, bodies) for name, decode in order}
        ratios.append(cpu["old"] / cpu["new"])
        print(
            f"round {n + 1}: old {cpu['old']:.3f} s, new {cpu['new']:.3f} s, "
            f"ratio {ratios[-1]:.2f} (the msgspec decode alone: {cpu['floor']:.3f} s)"
        )
    ratios.sort()
    print(
        f"ratio old/new: median {ratios[len(ratios) // 2]:.2f} "
        f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f})"
    )
    differ = sum(outcome(old, b) != outcome(pack_body, b) for b in bodies)
    print(f"bodies whose results differ: {differ}")
    largest = max(bodies, key=len)
    print(
        f"peak traced memory decoding the largest body ({len(largest) / 1e6:.1f} MB): "
        f"old {peak_bytes(old, largest) / 2**20:.1f} MiB, "
        f"new {peak_bytes(pack_body, largest) / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
