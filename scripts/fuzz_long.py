"""The long parser fuzz run: the suite's property (``tests/property/test_fuzz_parsers.py``)
for many more examples per parser, in several processes.

    python scripts/fuzz_long.py                       # 100,000 examples per parser, 2 processes
    python scripts/fuzz_long.py --examples 5000 --parsers yarn pnpm --processes 4

Each process runs hypothesis in chunks (a different seed per chunk, no shrinking, no example
database) and counts the outcomes: ``tree`` (every report format rendered it: table, JSON,
markdown, SARIF), ``input-error``, and ``failure`` (anything else: a bug, or an example over
the per-example budget of 1 s CPU / 100 MB, measured here by peak RSS growth).
``--max-seconds`` starts no chunk after that time, so a run sized to a deadline still ends
with exact counts. Failing inputs are saved under ``--failures`` (default: a temporary folder) with
their traceback. Prints one line per parser and a JSON summary; exits 1 when any failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TEST_MODULE = REPO / "tests" / "property" / "test_fuzz_parsers.py"
CHUNK = 500


def _load_module() -> Any:
    spec = importlib.util.spec_from_file_location("fuzz_parsers", TEST_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_parsers"] = module
    spec.loader.exec_module(module)
    return module


_WORKER: dict[str, Any] = {}


def _worker_module() -> Any:
    """The test module, loaded once per worker process, its one-time costs (lazy imports, the
    knowledge base, the seeds) paid outside the per-example budget, as the suite does."""
    if "fuzz" not in _WORKER:
        os.environ.setdefault("DEPAUDIT_FUZZ_MEMORY", "rss")  # the cheaper memory probe
        fuzz = _load_module()
        with tempfile.TemporaryDirectory(prefix="depaudit-fuzz-warm-") as work:
            for name in fuzz.PARSERS:
                for raw in fuzz.seeds()[name]:
                    fuzz.check(name, raw, Path(work), budget=False)
        _WORKER["fuzz"] = fuzz
    return _WORKER["fuzz"]


def run_chunk(parser: str, examples: int, seed: int, failures: str) -> dict[str, Any]:
    """``examples`` hypothesis examples of ``parser``; returns the outcome counts."""
    fuzz = _worker_module()
    # the parsers read their input from a file: one work folder per chunk, removed after it
    with tempfile.TemporaryDirectory(prefix=f"depaudit-fuzz-{parser}-") as work:
        return _run_chunk(fuzz, parser, examples, seed, Path(work), Path(failures))


def _run_chunk(
    fuzz: Any, parser: str, examples: int, seed: int, folder: Path, out: Path
) -> dict[str, Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed

    counts: Counter[str] = Counter()

    @hyp_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(raw=fuzz.inputs(parser))
    def prop(raw: bytes) -> None:
        try:
            counts[fuzz.check(parser, raw, folder)] += 1
        except Exception:
            counts["failure"] += 1
            out.mkdir(parents=True, exist_ok=True)
            stem = out / f"{parser}-{seed}-{counts['failure']}"
            stem.with_suffix(".input").write_bytes(raw)
            stem.with_suffix(".txt").write_text(traceback.format_exc())

    started, cpu = time.perf_counter(), time.process_time()
    prop()
    return {
        "parser": parser,
        "counts": dict(counts),
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def _commit() -> str | None:
    """The checkout's commit, for the record (None outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="per parser")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--parsers", nargs="*", default=None, help="default: all five")
    parser.add_argument("--failures", default=str(Path(tempfile.gettempdir()) / "depaudit-fuzz"))
    parser.add_argument("--seed", type=int, default=0, help="first chunk's seed")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="start no chunk after this many seconds; the summary counts the finished ones",
    )
    args = parser.parse_args(argv)
    fuzz = _load_module()
    parsers = args.parsers or list(fuzz.PARSERS)
    jobs = []  # round robin over the parsers, so a run cut short is balanced
    for chunk_no, start in enumerate(range(0, args.examples, CHUNK)):
        size = min(CHUNK, args.examples - start)
        jobs.extend((name, size, args.seed + chunk_no, args.failures) for name in parsers)
    totals: dict[str, Counter[str]] = {p: Counter() for p in parsers}
    cpu: dict[str, float] = dict.fromkeys(parsers, 0.0)
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    cut_short = False
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        futures = [pool.submit(run_chunk, *job) for job in jobs]
        for done, future in enumerate(as_completed(futures), 1):
            if args.max_seconds is not None and time.perf_counter() - started > args.max_seconds:
                cancelled = [f.cancel() for f in futures]  # every pending one, not the first
                cut_short = cut_short or any(cancelled)
            if future.cancelled():
                continue
            result = future.result()
            totals[result["parser"]].update(result["counts"])
            cpu[result["parser"]] += result["cpu"]
            print(
                f"[{done}/{len(jobs)}] {result['parser']}: {result['counts']} "
                f"({result['seconds']:.0f} s, {result['cpu']:.0f} s CPU)",
                file=sys.stderr,
                flush=True,
            )
    wall = time.perf_counter() - started
    summary = {
        "commit": _commit(),
        "load_average_at_start_and_end": [round(x, 1) for x in load_at_start + os.getloadavg()],
        "examples_per_parser": args.examples,
        "cut_short_by_max_seconds": cut_short,
        "formats_per_tree": ["table", "json", "markdown", "sarif"],
        "processes": args.processes,
        "wall_seconds": round(wall),
        "parsers": {
            p: {
                "examples": sum(totals[p].values()),
                "tree": totals[p]["tree"],
                "input_error": totals[p]["input-error"],
                "failure": totals[p]["failure"],
                "cpu_seconds": round(cpu[p]),
            }
            for p in parsers
        },
    }
    for p, row in summary["parsers"].items():  # type: ignore[attr-defined]
        print(
            f"{p:13} {row['examples']:>8} examples  {row['tree']:>7} trees  "
            f"{row['input_error']:>7} input errors  {row['failure']:>3} failures  "
            f"{row['cpu_seconds']:>6} s"
        )
    print(json.dumps(summary, indent=2))
    return 1 if any(t["failure"] for t in totals.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
