"""`depaudit code` on a generated TypeScript monorepo: cold (empty cache) and warm runs.

    python -m benchmarks.code_monorepo [--files 5000] [--runs 3] [--work DIR]

Generates ``--files`` TypeScript files (workspaces of 50 files: express routers, services,
repositories with a pg pool, socket handlers, utilities; 40 to 160 lines each, seeded, so
every run reads the same code) and times whole ``depaudit code`` processes: cold with an
empty cache folder, then warm against the cache the cold run filled. Runs are interleaved
(cold, warm, cold, warm, ...) and the medians printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTER = """import {{ Router, Request, Response }} from 'express';
import {{ {service} }} from '../services/{service_file}';

export const {name}Router = Router();
const service = new {service}();

{name}Router.get('/{name}/:id', async (req: Request, res: Response) => {{
  const item = await service.find(req.params.id);
  if (!item) {{
    return res.status(404).json({{ error: 'not found' }});
  }}
  res.json(item);
}});

{name}Router.post('/{name}', async (req: Request, res: Response) => {{
  const created = await service.create(req.body);
  res.status(201).json(created);
}});
"""

SERVICE = """import {{ pool }} from '../db';
import type {{ PoolClient }} from 'pg';

export interface {entity} {{
  id: string;
  name: string;
  createdAt: Date;
{fields}
}}

export class {service} {{
  private readonly table = '{table}';

  async find(id: string): Promise<{entity} | undefined> {{
    const {{ rows }} = await pool.query(`SELECT * FROM ${{this.table}} WHERE id = $1`, [id]);
    return rows[0];
  }}

  async create(input: Partial<{entity}>): Promise<{entity}> {{
    const client: PoolClient = await pool.connect();
    try {{
      await client.query('BEGIN');
      const {{ rows }} = await client.query(
        `INSERT INTO ${{this.table}}(name) VALUES ($1) RETURNING *`,
        [input.name],
      );
      await client.query('COMMIT');
      return rows[0];
    }} catch (err) {{
      await client.query('ROLLBACK');
      throw err;
    }} finally {{
      client.release();
    }}
  }}
{methods}
}}
"""

METHOD = """
  async {verb}{suffix}(id: string, value: number): Promise<number> {{
    const total = [value, value * 2, value * 3].reduce((a, b) => a + b, 0);
    if (total > {limit}) {{
      throw new Error(`{verb}{suffix} over limit for ${{id}}`);
    }}
    return total;
  }}
"""

SOCKET = """import type {{ Server, Socket }} from 'socket.io';

export function register{name}(io: Server): void {{
  io.on('connection', (socket: Socket) => {{
    const timer = setInterval(() => socket.emit('{name}:tick', Date.now()), 30000);
    socket.on('{name}:join', (room: string) => socket.join(room));
    socket.on('disconnect', () => clearInterval(timer));
  }});
}}
"""

UTIL = """export type {name}Options = {{
  retries: number;
  delayMs: number;
}};

export function {name}<T>(items: readonly T[], size: number): T[][] {{
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {{
    out.push(items.slice(i, i + size));
  }}
  return out;
}}

export const {name}Defaults: {name}Options = {{ retries: {n}, delayMs: {d} }};
"""


def generate(root: Path, files: int, seed: int = 15) -> None:
    rng = random.Random(seed)
    count = 0
    workspace = 0
    while count < files:
        pkg = root / "packages" / f"pkg-{workspace:03d}" / "src"
        (pkg / "routes").mkdir(parents=True, exist_ok=True)
        (pkg / "services").mkdir(exist_ok=True)
        (pkg / "sockets").mkdir(exist_ok=True)
        (pkg / "utils").mkdir(exist_ok=True)
        (pkg / "db.ts").write_text(
            "import { Pool } from 'pg';\nexport const pool = new Pool({ max: 10 });\n"
        )
        count += 1
        for i in range(49):
            if count >= files:
                break
            kind = i % 4
            name = f"e{workspace}x{i}"
            entity = f"Entity{workspace}x{i}"
            service = f"{entity}Service"
            if kind == 0:
                text = ROUTER.format(name=name, service=service, service_file=f"s{i + 1}")
                (pkg / "routes" / f"r{i}.ts").write_text(text)
            elif kind == 1:
                fields = "\n".join(f"  field{j}: string;" for j in range(rng.randint(2, 12)))
                methods = "".join(
                    METHOD.format(
                        verb=rng.choice(["sum", "score", "rank"]),
                        suffix=j,
                        limit=rng.randint(10, 1000),
                    )
                    for j in range(rng.randint(1, 6))
                )
                text = SERVICE.format(
                    entity=entity, service=service, table=name, fields=fields, methods=methods
                )
                (pkg / "services" / f"s{i}.ts").write_text(text)
            elif kind == 2:
                (pkg / "sockets" / f"k{i}.ts").write_text(SOCKET.format(name=name))
            else:
                text = UTIL.format(name=f"chunk{name}", n=rng.randint(1, 5), d=rng.randint(10, 900))
                (pkg / "utils" / f"u{i}.ts").write_text(text)
            count += 1
        workspace += 1


def timed(argv: list[str]) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, CPU seconds of the process and its workers, the JSON report)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.exit(f"depaudit failed: {done.stderr.strip()}")
    return elapsed, cpu, json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="code-monorepo-"))
    repo = work / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    generate(repo, args.files)
    depaudit = [sys.executable, "-m", "depaudit", "code", str(repo), "--format", "json"]
    cold: list[float] = []
    warm: list[float] = []
    cold_cpu: list[float] = []
    warm_cpu: list[float] = []
    summary: dict[str, object] = {}
    for run in range(args.runs):
        cache = work / f"cache-{run}"
        shutil.rmtree(cache, ignore_errors=True)
        seconds, cpu, data = timed([*depaudit, "--cache-dir", str(cache)])
        cold.append(seconds)
        cold_cpu.append(cpu)
        summary = data["summary"]  # type: ignore[assignment]
        seconds, cpu, data = timed([*depaudit, "--cache-dir", str(cache)])
        warm.append(seconds)
        warm_cpu.append(cpu)
        assert data["summary"]["cached"] == data["summary"]["files"]  # type: ignore[index]
    print(f"files: {summary['files']}, findings: {summary['findings']}")
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs")
    print("| run | median wall s | median CPU s | runs (wall s) |")
    print("|---|---:|---:|---|")
    rows = (
        ("cold (empty cache)", cold, cold_cpu),
        ("warm (cache by content hash)", warm, warm_cpu),
    )
    for label, values, cpus in rows:
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"| {label} | {statistics.median(values):.2f} | {statistics.median(cpus):.2f} "
            f"| {runs} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
