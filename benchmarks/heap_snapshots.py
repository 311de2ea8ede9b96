"""depaudit heap against memlab on one big snapshot pair, in one run, with floors.

    python -m benchmarks.heap_snapshots --work /tmp/heap-bench [--records 600000] [--delete]

1. ``WORK/app``: a scratch app with debug 3.1.0 installed by npm, and
   ``benchmarks/heap/make_big_snapshots.js`` copied into it, which builds a big heap of
   ordinary objects, writes ``1.heapsnapshot``, leaks through debug 3.1.0 and an app array,
   and writes ``2.heapsnapshot`` (``--records`` sets the size; about 730 bytes per record).
2. ``WORK/memlab``: ``npm i memlab`` (Chrome's download skipped: heap analysis needs none).
3. One after the other, each under GNU time (wall seconds, peak RSS of the process tree):
   depaudit (``depaudit heap 1 2 --tree app --format json``: parse both, dominator tree,
   attribution), memlab (``memlab analyze unbound-object --snapshot-dir``, its closest
   analysis: objects whose retained size grows across the snapshots), and two floors that do
   nothing but parse: ``orjson.loads`` of each file in Python, and node's ``JSON.parse``.
   depaudit's compiled loops are loaded from numba's cache by a warm-up run on the small test
   snapshots first (as on any second use).

Prints a Markdown table and writes ``WORK/results.json``. ``--delete`` removes the snapshots at
the end. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "benchmarks" / "heap" / "make_big_snapshots.js"
SMALL = REPO / "tests" / "assets" / "heap" / "snapshots" / "debug-leak"
NODE_HEAP = "--max-old-space-size=16000"


def timed(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict:
    """Runs ``argv`` under GNU time; wall seconds, peak RSS (MB), exit code, output tail."""
    started = time.time()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
    )
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    try:
        wall, peak_kb = last.split()
        seconds, peak = float(wall), int(peak_kb) / 1024
    except ValueError:
        seconds, peak = time.time() - started, float("nan")
    return {
        "argv": argv,
        "seconds": seconds,
        "peak_mb": round(peak, 1),
        "code": done.returncode,
        "stdout_tail": done.stdout[-3000:],
        "stdout": done.stdout if len(done.stdout) < 200_000 else "",
        "stderr_tail": done.stderr[-2000:],
    }


def prepare(work: Path, records: int) -> tuple[Path, Path, Path]:
    app = work / "app"
    if not (app / "node_modules" / "debug").is_dir():
        app.mkdir(parents=True, exist_ok=True)
        (app / "package.json").write_text(
            json.dumps({"name": "heap-bench", "private": True, "dependencies": {"debug": "3.1.0"}})
        )
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=app, check=True)
    shutil.copy(GENERATOR, app / GENERATOR.name)
    memlab = work / "memlab"
    if not (memlab / "node_modules" / "memlab").is_dir():
        memlab.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1", PUPPETEER_SKIP_CHROMIUM_DOWNLOAD="1")
        subprocess.run(
            ["npm", "install", "memlab", "--no-audit", "--no-fund"], cwd=memlab, env=env, check=True
        )
    snaps = work / "snaps"
    if not (snaps / "2.heapsnapshot").is_file():
        snaps.mkdir(parents=True, exist_ok=True)
        run = timed(["node", NODE_HEAP, GENERATOR.name, str(snaps), str(records)], cwd=app)
        print(f"generated in {run['seconds']:.0f} s: {run['stdout_tail'].strip()}", flush=True)
        if run["code"] != 0:
            sys.exit(f"the generator failed: {run['stderr_tail']}")
    return app, memlab, snaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--records", type=int, default=600_000)
    parser.add_argument("--delete", action="store_true", help="delete the snapshots at the end")
    args = parser.parse_args()
    load_before = os.getloadavg()
    app, memlab, snaps = prepare(args.work, args.records)
    first, second = snaps / "1.heapsnapshot", snaps / "2.heapsnapshot"
    sizes = {p.name: round(p.stat().st_size / 1e6, 1) for p in (first, second)}
    print(f"snapshots: {sizes} MB; load average {load_before}", flush=True)
    py = sys.executable
    # numba's cache: compiled once, then loaded (what any second use of depaudit does)
    subprocess.run(
        [
            py,
            "-m",
            "depaudit",
            "heap",
            str(SMALL / "1.heapsnapshot.gz"),
            str(SMALL / "3.heapsnapshot.gz"),
        ],  # fmt: skip
        capture_output=True,
        check=True,
    )
    memlab_bin = memlab / "node_modules" / "memlab" / "bin" / "memlab"
    runs = {
        "depaudit heap": [
            py,
            "-m",
            "depaudit",
            "heap",
            str(first),
            str(second),
            "--tree",
            str(app),
            "--format",
            "json",
        ],  # fmt: skip
        "memlab analyze unbound-object": [
            "node",
            "--expose-gc",
            NODE_HEAP,
            str(memlab_bin),
            "analyze",
            "unbound-object",
            "--snapshot-dir",
            str(snaps),
        ],  # fmt: skip
        "floor: orjson.loads": [
            py,
            "-c",
            "import orjson, sys\nfor p in sys.argv[1:]:\n    orjson.loads(open(p, 'rb').read())",
            str(first),
            str(second),
        ],  # fmt: skip
        "floor: node JSON.parse": [
            "node",
            NODE_HEAP,
            "-e",
            "const fs = require('fs');"
            "for (const f of process.argv.slice(1))"
            " JSON.parse(fs.readFileSync(f, 'utf8'))",
            str(first),
            str(second),
        ],  # fmt: skip
    }
    results = {}
    for name, argv in runs.items():
        print(f"running {name} ...", flush=True)
        results[name] = timed(argv)
        r = results[name]
        print(f"  {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB, exit {r['code']}", flush=True)
    load_after = os.getloadavg()
    memlab_s = results["memlab analyze unbound-object"]["seconds"]
    larger = max(first.stat().st_size, second.stat().st_size) / (1024 * 1024)
    print()
    print(f"Snapshot pair: {sizes['1.heapsnapshot']} MB + {sizes['2.heapsnapshot']} MB; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after.")  # fmt: skip
    print()
    print("| tool | wall s | peak RSS MB | peak / larger file | time / memlab's | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['peak_mb'] / larger:.2f} | "
            f"{r['seconds'] / memlab_s:.2f} | {r['code']} |"
        )
    top = []
    try:
        owners = json.loads(results["depaudit heap"]["stdout"])["owners"]
        top = [f"{o['kind']} {o['name']}@{o['version']} {o['file']}:{o['line']} "
               f"{o['growth_bytes']} B: {o['retainer_path']}" for o in owners[:3]]  # fmt: skip
    except (ValueError, KeyError):
        pass
    print()
    print("depaudit's top owners:", *top, sep="\n  ")
    document = {
        "sizes_mb": sizes,
        "load_before": load_before,
        "load_after": load_after,
        "results": results,
        "top": top,
    }
    (args.work / "results.json").write_text(json.dumps(document, indent=2))
    if args.delete:
        for p in (first, second):
            p.unlink()
        print("snapshots deleted")


if __name__ == "__main__":
    main()
