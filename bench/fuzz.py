"""Hostile-input fuzzing of the command line: thousands of generated submissions, and what broke.

    python bench/fuzz.py --cases 3000 [--seed 1] [--jobs 2] [--variants 24] [--keep DIR]

Cases come from tests/hostile/generate.py: openpyxl variants of the built-in example (cleared formulas,
inserted and deleted rows and columns, merges, renamed and removed sheets, odd strings and huge numbers,
mangled embedded specs), each mutated again at the zip/XML level. Each case runs ``xlbudget check`` (every
fourth ``xlbudget read``) in-process, in a forked child so that an abort is counted, not fatal; one case in 50
runs as a real process instead, where an abort shows as a signal exit. Printed: the counts of tracebacks (or
exception names in the output), hangs (over 5 s), modified inputs and exit codes other than 0, 1 and 2, then
the first few of each. Exit code 1 when any count is not 0.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:  # run from a checkout without installing
        sys.path.insert(0, str(extra))

from hostile.generate import EXCEPTION_NAME, Outcome, base_workbook, mutate, run_case, sha, variants  # noqa: E402

LIMIT = 5.0
KINDS = ("traceback", "hang", "input modified", "exit code")


def _subprocess_case(path: Path, name: str, command: str) -> Outcome:
    before = sha(path)
    args = [sys.executable, "-m", "xlbudget.cli", command, str(path)]
    if command == "read":
        args += ["-o", str(path) + ".json"]
    start = time.perf_counter()
    try:
        run = subprocess.run(args, capture_output=True, text=True, timeout=60)
        code, text = run.returncode, run.stdout + run.stderr
    except subprocess.TimeoutExpired:
        code, text = -1, ""
    out = Outcome(name, command + " (process)", code, time.perf_counter() - start)
    if code == -1 or out.seconds > LIMIT * 3:  # a process pays its start-up too
        out.problems.append(f"hang: {out.seconds:.1f} s")
    if code not in (0, 1, 2, -1):
        out.problems.append(f"exit code {code}")
    if "Traceback" in text or EXCEPTION_NAME.search(text) or "memory allocation" in text:
        out.problems.append("traceback: in the output of the process")
    if sha(path) != before:
        out.problems.append("input modified")
    return out


def _worker(args: tuple[int, int, int, str]) -> list[tuple[str, str, int, float, list[str]]]:
    start_index, count, seed, folder = args
    pool = sorted(Path(folder).glob("*.xlsx"))
    rng = random.Random(seed * 1_000_003 + start_index)
    work = Path(tempfile.mkdtemp(prefix="fuzz-", dir=folder))
    results = []
    for k in range(start_index, start_index + count):
        src = rng.choice(pool)
        path, name = mutate(src, work / f"case{k:05d}.xlsx", rng)
        command = "read" if k % 4 == 0 else "check"
        out = _subprocess_case(path, name, command) if k % 50 == 0 else run_case(path, name, command, LIMIT)
        results.append((f"{k} {name}", out.command, out.exit_code, out.seconds, out.problems))
        for p in (path, Path(str(path) + ".json")):
            p.unlink(missing_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--variants", type=int, default=24, help="openpyxl variants the cases start from")
    ap.add_argument("--keep", type=Path, default=None, help="keep the variants in this folder")
    a = ap.parse_args()
    folder = a.keep or Path(tempfile.mkdtemp(prefix="xlbudget-fuzz-"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    base = base_workbook(folder)
    pool = variants(base, folder, random.Random(a.seed), a.variants)
    made = time.perf_counter() - t0
    rows = []
    for v in pool:  # the variants themselves are cases too
        for command in ("check", "read"):
            out = run_case(v, v.name, command, LIMIT)
            rows.append((v.name, command, out.exit_code, out.seconds, out.problems))
    n = max(a.cases - len(rows), 0)
    jobs = max(1, a.jobs)
    share = [(i * n // jobs, (i + 1) * n // jobs - i * n // jobs, a.seed, str(folder)) for i in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        for part in ex.map(_worker, share):
            rows.extend(part)
    seconds = time.perf_counter() - t0
    counts = Counter()
    first: dict[str, list[str]] = {k: [] for k in KINDS}
    codes = Counter(r[2] for r in rows)
    for name, command, code, secs, problems in rows:
        for p in problems:
            kind = next(k for k in KINDS if p.startswith(k.split()[0]))
            counts[kind] += 1
            if len(first[kind]) < 5:
                first[kind].append(f"{name} [{command}] {p}")
    slowest = max(rows, key=lambda r: r[3])
    print(f"xlbudget fuzz: {len(rows)} cases ({len(pool)} openpyxl variants, made in {made:.0f} s), seed {a.seed}, "
          f"{seconds:.0f} s in all")
    print(f"  tracebacks:       {counts['traceback']}")
    print(f"  hangs (> {LIMIT:.0f} s):   {counts['hang']}")
    print(f"  modified inputs:  {counts['input modified']}")
    print(f"  other exit codes: {counts['exit code']}")
    print("  exit codes seen:  " + ", ".join(f"{c}: {k}" for c, k in sorted(codes.items())))
    print(f"  slowest case:     {slowest[3]:.2f} s ({slowest[0]}, {slowest[1]})")
    for kind in KINDS:
        for line in first[kind]:
            print(f"    {kind}: {line}")
    if a.keep is None:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if sum(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
