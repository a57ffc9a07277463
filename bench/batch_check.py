"""Batch checking of submissions, against openpyxl loading the same files.

    python bench/batch_check.py [--n 500] [--jobs 2] [--mix 0.2] [--keep DIR] [--single-runs 5]

1. Generates N realistic filled submissions (default 500: 80 % small departments like the built-in example,
   20 % large ones with 150 function 项, 60 economic 款 and 80 projects), in parallel processes. With
   ``--keep DIR`` they are written there and reused by the next run.
2. Runs ``xlbudget check --jobs J --format json -o REPORT FILE...`` as a subprocess: wall time, submissions
   per second, and the peak RSS of its processes (every process of its tree is polled in /proc for VmHWM;
   the whole tree's maximum also comes from ``wait4``).
3. Baseline, same files, same run: openpyxl ``load_workbook`` in its default mode on every file with a
   ``multiprocessing.Pool(J)``: wall time, submissions per second and the peak RSS of a worker.
4. One typical (small) submission checked from the command line, process start included
   (``xlbudget check FILE``), median of ``--single-runs``, against the 1 s target.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine, submission_plan, verdict, write_submissions  # noqa: E402

SINGLE_TARGET_S = 1.0


# --- the command line ------------------------------------------------------------------------------------
def xlbudget_cmd() -> list[str]:
    """The installed ``xlbudget`` script next to this interpreter (no shell shims), else ``python -m``."""
    exe = Path(sys.executable).parent / "xlbudget"
    if exe.is_file() and os.access(exe, os.X_OK):
        return [str(exe)]
    return [sys.executable, "-m", "xlbudget.cli"]


def has_check() -> bool:
    try:
        import xlbudget.check  # noqa: F401
        import xlbudget.commands.check  # noqa: F401
    except ImportError:
        return False
    return True


def _children(pid: int) -> list[int]:
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            out = [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(cmd: list[str], cwd: str | None = None, interval: float = 0.02) -> dict:
    """Run ``cmd``; wall time, exit code, peak RSS (VmHWM) of the main process and of each descendant."""
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", str(ROOT))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peaks: dict[int, int] = {}
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def drain(stream, sink):
        for chunk in iter(lambda: stream.read(65536), b""):
            sink.append(chunk)

    threads = [threading.Thread(target=drain, args=(p.stdout, out_chunks), daemon=True),
               threading.Thread(target=drain, args=(p.stderr, err_chunks), daemon=True)]
    for th in threads:
        th.start()
    ru = None
    status = 0
    while True:
        stack = [p.pid]
        while stack:
            pid = stack.pop()
            peaks[pid] = max(peaks.get(pid, 0), _hwm_kb(pid))
            stack.extend(_children(pid))
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(interval)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    for th in threads:
        th.join()
    workers = {k: v for k, v in peaks.items() if k != p.pid and v}
    return {"wall": wall, "rc": p.returncode, "main_kb": peaks.get(p.pid, 0),
            "worker_kb": max(workers.values(), default=0), "n_workers": len(workers),
            "tree_kb": ru.ru_maxrss if ru else 0,
            "stdout": b"".join(out_chunks).decode("utf-8", "replace"),
            "stderr": b"".join(err_chunks).decode("utf-8", "replace")}


def summarize_report(path: Path) -> str:
    """A short description of the JSON report, whatever its exact shape."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"report not readable ({e})"
    parts = []
    if isinstance(data, dict):
        for key in ("files", "submissions", "results"):
            if isinstance(data.get(key), list):
                parts.append(f"{len(data[key])} {key}")
        for key in ("counts", "summary", "totals"):
            if isinstance(data.get(key), dict):
                parts.append(f"{key} {json.dumps(data[key], ensure_ascii=False)[:200]}")
        if not parts:
            parts.append("keys " + ", ".join(list(data)[:10]))
    elif isinstance(data, list):
        parts.append(f"{len(data)} entries")
    return "; ".join(parts)


# --- openpyxl baseline ----------------------------------------------------------------------------------
def _openpyxl_load(path: str) -> tuple[int, int]:
    import openpyxl

    wb = openpyxl.load_workbook(path)  # default mode: formulas as text, styles, merges, validations
    n = sum(ws.max_row * ws.max_column for ws in wb.worksheets)
    wb.close()
    return n, _hwm_kb(os.getpid())


def openpyxl_baseline(paths: list[Path], jobs: int) -> dict:
    import openpyxl  # noqa: F401  (imported once here; the forked workers inherit it)

    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        res = pool.map(_openpyxl_load, [str(p) for p in paths], chunksize=4)
    wall = time.perf_counter() - t0
    return {"wall": wall, "worker_kb": max(kb for _, kb in res)}


# --- main -------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500, help="number of submissions (default 500)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for check and for the baseline")
    ap.add_argument("--mix", type=float, default=0.2, help="share of large departments (default 0.2)")
    ap.add_argument("--keep", metavar="DIR", help="write the submissions here and keep them (reused next time)")
    ap.add_argument("--single-runs", type=int, default=5, help="runs of the one-file command line timing")
    ap.add_argument("--skip-baseline", action="store_true")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xlbudget-bench-"))
    subdir = Path(a.keep) if a.keep else work / "submissions"
    try:
        print(f"machine: {machine()}")
        kinds = submission_plan(a.n, a.mix)
        t0 = time.perf_counter()
        paths = write_submissions(subdir, a.n, a.mix, jobs=a.jobs, kinds=kinds)
        gen = time.perf_counter() - t0
        n_large = kinds.count("large")
        size = sum(p.stat().st_size for p in paths)
        print(f"submissions: {len(paths)} ({len(paths) - n_large} small, {n_large} large), "
              f"{size / 1e6:.1f} MB on disk; generated/reused in {gen:.1f} s")

        check_rate = None
        if has_check():
            report = work / "report.json"
            cmd = xlbudget_cmd() + ["check", "--jobs", str(a.jobs), "--format", "json", "-o", str(report)] + \
                [str(p) for p in paths]
            r = run_measured(cmd)
            check_rate = len(paths) / r["wall"]
            print(f"xlbudget check --jobs {a.jobs}: {r['wall']:.2f} s wall, {check_rate:.1f} submissions/s, "
                  f"exit code {r['rc']}")
            print(f"  peak RSS: worker {r['worker_kb'] / 1024:.0f} MB ({r['n_workers']} worker processes seen), "
                  f"main process {r['main_kb'] / 1024:.0f} MB, whole tree (wait4) {r['tree_kb'] / 1024:.0f} MB")
            print(f"  report: {summarize_report(report)}")
            if r["rc"] not in (0, 1) or not report.exists():
                print("  stderr: " + r["stderr"][-2000:])
        else:
            print("xlbudget check: NOT AVAILABLE yet (xlbudget.check / xlbudget.commands.check missing); skipped")

        if not a.skip_baseline:
            b = openpyxl_baseline(paths, a.jobs)
            base_rate = len(paths) / b["wall"]
            print(f"baseline openpyxl load_workbook (default mode), Pool({a.jobs}): {b['wall']:.2f} s wall, "
                  f"{base_rate:.1f} submissions/s, peak RSS of a worker {b['worker_kb'] / 1024:.0f} MB")
            if check_rate is not None:
                print(f"ratio check / openpyxl baseline: {check_rate / base_rate:.2f}x the throughput")

        if has_check():
            typical = next((p for p, k in zip(paths, kinds) if k == "small"), paths[0])
            large = next((p for p, k in zip(paths, kinds) if k == "large"), None)
            for label, f in (("typical (small)", typical), ("large", large)):
                if f is None:
                    continue
                times = []
                for _ in range(a.single_runs):
                    r = run_measured(xlbudget_cmd() + ["check", str(f)], interval=0.01)
                    times.append(r["wall"])
                med = statistics.median(times)
                line = f"one {label} submission, `xlbudget check FILE` incl. process start: median {med * 1000:.0f} ms " \
                       f"of {a.single_runs} (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}), exit code {r['rc']}"
                if label.startswith("typical"):
                    line += f"   {verdict(med, SINGLE_TARGET_S)}"
                print(line)
            t = []
            for _ in range(a.single_runs):
                t0 = time.perf_counter()
                subprocess.run(xlbudget_cmd() + ["--version"], capture_output=True)
                t.append(time.perf_counter() - t0)
            print(f"  for scale: `xlbudget --version` (start + CLI import only): median {statistics.median(t) * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
