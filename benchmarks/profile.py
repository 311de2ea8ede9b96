"""Profile depaudit's parse, cold scan and warm scan with pyinstrument (``pip install
pyinstrument``): ``python -m benchmarks.profile [TARGET]``. Writes text and HTML profiles to
``benchmarks/.work/profile-<case>.{txt,html}`` and prints the text ones.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.lockinfo import lockfile_in
from benchmarks.replay import PACKUMENTS, ReplayServer
from benchmarks.run import CORPUS, WORK


def profile_main(case: str, argv: list[str]) -> str:
    from pyinstrument import Profiler

    from depaudit.cli import main

    profiler = Profiler(interval=0.001)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        profiler.start()
        code = main(argv)
        profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    (WORK / f"profile-{case}.txt").write_text(f"exit {code}\n{text}")
    (WORK / f"profile-{case}.html").write_text(profiler.output_html())
    return f"== {case} (exit {code})\n{text}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="npm-lock-v3-theia-workspaces-large")
    parser.add_argument("--jobs", type=int)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    lock = lockfile_in(CORPUS / args.target)
    assert lock is not None
    cache = Path(tempfile.mkdtemp(prefix="profile-cache-", dir=WORK))
    base = ["scan", "--lockfile", str(lock), "--format", "json", "--no-npm"]
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    out = [profile_main("parse", [*base, "--no-registry", "--offline", "--cache-dir", str(cache)])]
    with ReplayServer(PACKUMENTS) as server:
        url = server.url
        cold = [*base, "--registry", url, "--cache-dir", str(cache), *jobs]
        out.append(profile_main("cold", cold))
    out.append(profile_main("warm", cold))  # server stopped
    shutil.rmtree(cache, ignore_errors=True)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
