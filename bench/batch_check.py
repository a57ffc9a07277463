"""Batch checking of submissions, against openpyxl loading the same files.

    python bench/batch_check.py [--n 500] [--jobs 2] [--large-share 0.2] [--mix ours] [--keep DIR]
                                [--check-runs 5] [--warmup 1] [--single-runs 5] [--memory 500,2000]
                                [--skip-baseline]

1. Generates N realistic filled submissions (default 500: 80 % small departments like the built-in example,
   20 % large ones with 150 function 项, 60 economic 款 and 80 projects, 97 sheets), in parallel processes.
   With ``--keep DIR`` they are written there and reused by the next run.
2. Runs ``xlbudget check --jobs J --format json -o REPORT FILE...`` as a subprocess: wall time, submissions
   per second, and the peak RSS of its processes (every process of its tree is polled in /proc for VmHWM;
   the whole tree's maximum, ru_maxrss, also comes from ``wait4``).
3. Baseline, same files, same run: openpyxl ``load_workbook`` in its default mode on every file with a
   ``multiprocessing.Pool(J)``: wall time, submissions per second and the peak RSS of a worker. The ratio
   of the two throughputs is the figure of the issue (target 20; 15 with official-format workbooks in the mix).
   The check takes seconds and the baseline minutes, and a shared virtual machine's speed changes from
   minute to minute (a fixed loop of Python, timed as ``speed probe`` before and after each part, moves by
   up to 60 %): the check runs ``--check-runs`` times, and the baseline in as many slices, one after each
   check run, each slice every k-th file of each kind (the same mix). The ratio is the median throughput of
   the check runs against the baseline's over all the files, as before; beside it, each check run against
   the slice run right after it, in the same minutes of the machine (their median: a figure the drift moves
   less). Before the first check run, ``--warmup`` check runs (default 1) are made and not counted: each
   baseline slice follows a check run, with the machine busy, while the first check run would follow the
   generation or a quiet spell, and this VM's first seconds of work after one are often its slowest (in
   three of four runs of one day, the speed probe read 50-58 ms before the first check run and 30-35 ms
   after it, and that run was the slowest of the three). With more than one kind
   in the mix, a table by kind: one file's time in the check (its report's ``seconds``) and in openpyxl's
   load, each kind's share of both, and the ratio the batch would have if that kind's checks took no time.
4. One submission of each kind in the batch (small and large, and in a mix their official forms too) checked
   from the command line, process start included (``xlbudget check FILE``), median of ``--single-runs``
   (target 0.3 s each).
5. ``--memory 500,2000``: the worker's peak RSS when checking N = 500 and N = 2000 files (the generated
   files, hard-linked over and over to reach N: every path is a file of its own to the checker).

``--mix`` names what the submissions are: ``ours`` (workbooks written from our templates), ``official``
(the same kind of documents written in an official layout: plain numbers, no formulas, no identity), or
both (``ours,official``: every other submission in an official layout); the run says which kinds it measured.

Before timing, the package's bytecode is compiled (as ``pip install`` does), unless ``--no-compile``:
an editable install run with PYTHONDONTWRITEBYTECODE would otherwise compile every module in every process.
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

from common import ROOT, compile_bytecode, machine, submission_plan, verdict, write_submissions  # noqa: E402

SINGLE_TARGET_S = 0.3
RATIO_TARGET = 20.0           # our templates only
RATIO_TARGET_OFFICIAL = 15.0  # with official-format workbooks in the mix
MIX_KINDS = {"ours": "workbooks written from our templates",
             "official": "the same documents in an official layout (tests/officialgen.py)"}


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


def run_measured(cmd: list[str], cwd: str | None = None, interval: float = 0.2) -> dict:
    """Run ``cmd``; wall time, exit code, peak RSS (VmHWM) of the main process and of each descendant.

    VmHWM is a high-water mark, so a poll every ``interval`` seconds finds each process's peak as long as it
    lives that long (a batch's workers live as long as the batch); polling every 20 ms took 2.3 % of a core,
    which the command measured, and not the baseline, paid."""
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
            "tree_kb": ru.ru_maxrss if ru else 0, "cpu": (ru.ru_utime + ru.ru_stime) if ru else 0.0,
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


def file_seconds(path: Path) -> dict[str, float]:
    """Each file's time in the check (the report's ``seconds`` of the file, measured where it was checked)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {f["path"]: float(f["seconds"]) for f in data["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def by_kind(paths: list[Path], kinds: list[str], check_runs: list[dict[str, float]],
            baseline: dict[str, float]) -> list[str]:
    """Lines comparing each kind of submission: the time of one file in a worker (the check's as its report
    gives it, the median over the check runs; openpyxl's load), the two ratios, each kind's share of all the
    check's and all the baseline's time, and the ratio the batch would have if that kind's checks took no
    time (how much of the shortfall a kind can make up)."""
    rows: dict[str, list[tuple[float, float]]] = {}
    for p, k in zip(paths, kinds):
        c = [run[str(p)] for run in check_runs if str(p) in run]
        if c and str(p) in baseline:
            rows.setdefault(k, []).append((statistics.median(c), baseline[str(p)]))
    if not rows:
        return []
    check_all = sum(c for v in rows.values() for c, _ in v)
    base_all = sum(b for v in rows.values() for _, b in v)
    out = ["by kind (one file's time where it was checked or loaded; sums over the files, not wall time):"]
    for k, v in rows.items():
        c, b = sum(x for x, _ in v), sum(y for _, y in v)
        without = f"{base_all / (check_all - c):.1f}x" if check_all > c else "-"
        out.append(f"  {k:15s} {len(v):4d} files: check {c / len(v) * 1000:6.1f} ms, openpyxl {b / len(v) * 1000:7.1f} ms,"
                   f" {b / c if c else 0:5.1f}x; {c / check_all * 100:3.0f} % of the check's time, "
                   f"{b / base_all * 100:3.0f} % of the baseline's; the batch with this kind's checks free: {without}")
    out.append(f"  all {sum(map(len, rows.values())):4d} files: {base_all / check_all:.2f}x by these sums")
    return out


# --- openpyxl baseline ----------------------------------------------------------------------------------
def _openpyxl_load(path: str) -> tuple[int, int, float]:
    import openpyxl

    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(path)  # default mode: formulas as text, styles, merges, validations
    n = sum(ws.max_row * ws.max_column for ws in wb.worksheets)
    wb.close()
    return n, _hwm_kb(os.getpid()), time.perf_counter() - t0


def openpyxl_baseline(paths: list[Path], jobs: int) -> dict:
    import resource

    import openpyxl  # noqa: F401  (imported once here; the forked workers inherit it)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        res = pool.map(_openpyxl_load, [str(p) for p in paths], chunksize=4)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, reaped when the pool closed
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "worker_kb": max(kb for _, kb, _ in res), "cpu": cpu,
            "seconds": {str(p): sec for p, (_, _, sec) in zip(paths, res)}}


# --- measurements -----------------------------------------------------------------------------------------
def stratified(paths: list[Path], kinds: list[str], k: int) -> list[list[Path]]:
    """The files in ``k`` slices of the same mix: each kind's files dealt in turn, each kind starting at
    another slice (so that no slice takes the odd file of every kind)."""
    slices: list[list[Path]] = [[] for _ in range(k)]
    dealt: dict[str, int] = {}
    for p, kind in zip(paths, kinds):
        if kind not in dealt:
            dealt[kind] = len(dealt)  # the kind's first slice
        slices[dealt[kind] % k].append(p)
        dealt[kind] += 1
    return [s for s in slices if s]


def check_batch(paths: list[Path], jobs: int, work: Path) -> dict:
    report = work / "report.json"
    report.unlink(missing_ok=True)
    cmd = xlbudget_cmd() + ["check", "--jobs", str(jobs), "--format", "json", "-o", str(report)] + \
        [str(p) for p in paths]
    r = run_measured(cmd)
    r["report"] = report
    r["rate"] = len(paths) / r["wall"]
    return r


def speed_probe() -> float:
    """CPU milliseconds of a fixed loop of Python in this process: the machine's speed at the moment."""
    t = time.process_time()
    s = 0
    for i in range(1_000_000):
        s += i * i
    return (time.process_time() - t) * 1000


def one_file(path: Path, runs: int) -> tuple[float, list[float], int, float]:
    times, cpus, rc = [], [], 0
    for _ in range(runs):
        r = run_measured(xlbudget_cmd() + ["check", str(path)], interval=0.01)
        times.append(r["wall"])
        cpus.append(r["cpu"])
        rc = r["rc"]
    return statistics.median(times), times, rc, statistics.median(cpus)


def linked(paths: list[Path], n: int, directory: Path) -> list[Path]:
    """N paths: the files themselves, then hard links to them (each a file of its own to the checker)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        src = paths[i % len(paths)]
        if i < len(paths):
            out.append(src)
            continue
        dst = directory / f"{i + 1:05d}-{src.name}"
        if not dst.exists():
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
        out.append(dst)
    return out


# --- main -------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500, help="number of submissions (default 500)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for check and for the baseline")
    ap.add_argument("--large-share", type=float, default=0.2, help="share of large departments (default 0.2)")
    ap.add_argument("--mix", default="ours", help="kinds of workbook in the batch, comma-separated (default: ours)")
    ap.add_argument("--keep", metavar="DIR", help="write the submissions here and keep them (reused next time)")
    ap.add_argument("--check-runs", type=int, default=5,
                    help="runs of the batch check, each followed by a slice of the baseline (default 5)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="batch checks run first and not counted (default 1): the machine in the state of the runs")
    ap.add_argument("--single-runs", type=int, default=5, help="runs of the one-file command line timing")
    ap.add_argument("--memory", metavar="N1,N2", default="",
                    help="also check N1 and N2 files (hard links to the generated ones) and print the worker peaks")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    a = ap.parse_args()

    kinds_asked = [k.strip() for k in a.mix.split(",") if k.strip()]
    unknown = [k for k in kinds_asked if k not in MIX_KINDS]
    work = Path(tempfile.mkdtemp(prefix="xlbudget-bench-"))
    subdir = Path(a.keep) if a.keep else work / "submissions"
    try:
        print(f"machine: {machine()}")
        measured = [k for k in kinds_asked if k in MIX_KINDS]
        left_out = [f"{k}: no such kind" for k in unknown] + [f"{k} ({why})" for k, why in MIX_KINDS.items()
                                                                if k not in kinds_asked]
        print("mix: " + "; ".join(f"{k} = {MIX_KINDS[k]}" for k in measured) +
              ("; NOT in this run: " + "; ".join(left_out) if left_out else ""))
        if not measured:
            print("nothing to measure in this mix")
            return
        if not a.no_compile:
            print(f"bytecode: {compile_bytecode()}")
        kinds = submission_plan(a.n, a.large_share)
        if measured == ["official"]:
            kinds = [k + "-official" for k in kinds]
        elif "official" in measured:
            kinds = [k + "-official" if i % 2 else k for i, k in enumerate(kinds)]
        t0 = time.perf_counter()
        paths = write_submissions(subdir, a.n, a.large_share, jobs=a.jobs, kinds=kinds)
        gen = time.perf_counter() - t0
        n_large = sum(k.startswith("large") for k in kinds)
        size = sum(p.stat().st_size for p in paths)
        print(f"submissions: {len(paths)} ({len(paths) - n_large} small, {n_large} large), "
              f"{size / 1e6:.1f} MB on disk; generated/reused in {gen:.1f} s")

        check_rate = check_cpu = None
        runs: list[dict] = []

        def check_once() -> None:
            before = speed_probe()
            r = check_batch(paths, a.jobs, work)
            runs.append(r)
            r["seconds"] = file_seconds(r["report"])
            print(f"xlbudget check --jobs {a.jobs} (run {len(runs)}): {r['wall']:.2f} s wall, {r['rate']:.1f} "
                  f"submissions/s, {r['cpu'] / len(paths) * 1000:.0f} ms CPU per submission (all processes), "
                  f"exit code {r['rc']}; speed probe {before:.0f} ms before, {speed_probe():.0f} ms after")
            if len(runs) == 1:
                print(f"  peak RSS: worker {r['worker_kb'] / 1024:.0f} MB ({r['n_workers']} worker processes seen), "
                      f"main process {r['main_kb'] / 1024:.0f} MB, whole tree (wait4 ru_maxrss) {r['tree_kb'] / 1024:.0f} MB")
                print(f"  report: {summarize_report(r['report'])}")
            if r["rc"] not in (0, 1) or not r["report"].exists():
                print("  stderr: " + r["stderr"][-2000:])

        checking = has_check()
        if not checking:
            print("xlbudget check: NOT AVAILABLE yet (xlbudget.check / xlbudget.commands.check missing); skipped")
        for i in range(a.warmup if checking else 0):  # (not counted: see the docstring, 3.)
            before = speed_probe()
            r = check_batch(paths, a.jobs, work)
            print(f"warm-up check {i + 1} (not counted): {r['wall']:.2f} s wall, exit code {r['rc']}; "
                  f"speed probe {before:.0f} ms before, {speed_probe():.0f} ms after")
        if a.skip_baseline:
            for _ in range(a.check_runs if checking else 0):
                check_once()
        else:
            slices = stratified(paths, kinds, max(a.check_runs, 1))
            parts: list[dict] = []
            for i, part in enumerate(slices):
                if checking and i < a.check_runs:
                    check_once()
                before = speed_probe()
                b = openpyxl_baseline(part, a.jobs)
                parts.append(b)
                print(f"  baseline slice {i + 1} of {len(slices)} ({len(part)} files, the same mix): {b['wall']:.2f} s "
                      f"wall, {len(part) / b['wall']:.1f} submissions/s; speed probe {before:.0f} ms before, "
                      f"{speed_probe():.0f} ms after")
            for _ in range(a.check_runs - len(slices) if checking else 0):  # (fewer files than runs)
                check_once()
            b = {"wall": sum(x["wall"] for x in parts), "cpu": sum(x["cpu"] for x in parts),
                 "worker_kb": max(x["worker_kb"] for x in parts)}
            base_rate = len(paths) / b["wall"]
            print(f"baseline openpyxl load_workbook (default mode), Pool({a.jobs}), all {len(paths)} files: "
                  f"{b['wall']:.2f} s wall, "
                  f"{base_rate:.1f} submissions/s, {b['cpu'] / len(paths) * 1000:.0f} ms CPU per submission, "
                  f"peak RSS of a worker {b['worker_kb'] / 1024:.0f} MB")
            if runs:
                check_rate = statistics.median(r["rate"] for r in runs)
                check_cpu = statistics.median(r["cpu"] for r in runs)
                ratio = check_rate / base_rate
                target = RATIO_TARGET_OFFICIAL if "official" in a.mix.split(",") else RATIO_TARGET
                each = ", ".join(f"{r['rate'] / base_rate:.2f}x" for r in runs)
                print(f"ratio check / openpyxl baseline: {ratio:.2f}x the throughput (median of {len(runs)} check "
                      f"runs; each: {each})   "
                      f"{'OK' if ratio >= target else 'MISSED'} (target {target:g}x)")
                paired = [r["rate"] / (len(part) / x["wall"]) for r, part, x in zip(runs, slices, parts)]
                print(f"  each check run against the baseline slice run right after it (the same minutes of the "
                      f"machine): median {statistics.median(paired):.2f}x (each: "
                      f"{', '.join(f'{x:.2f}x' for x in paired)})")
                if check_cpu and b["cpu"]:  # what a busy machine (other jobs on the cores) distorts less
                    print(f"  in CPU time: {b['cpu'] / check_cpu:.2f}x less CPU per submission than the baseline")
                if len(set(kinds)) > 1:
                    base_seconds = {k: v for x in parts for k, v in x["seconds"].items()}
                    for line in by_kind(paths, kinds, [r["seconds"] for r in runs], base_seconds):
                        print(line)

        if has_check() and a.single_runs > 0:  # (--single-runs 0: no one-file timing)
            first_of: dict[str, Path] = {}  # one submission of each kind, in the order the batch has them
            for p, k in zip(paths, kinds):
                first_of.setdefault(k, p)
            for label, f in first_of.items():
                with_sheets = ""
                try:
                    import zipfile

                    with zipfile.ZipFile(f) as z:
                        with_sheets = f", {sum(n.startswith('xl/worksheets/sheet') for n in z.namelist())} sheets"
                except (OSError, zipfile.BadZipFile):
                    pass
                med, times, rc, cpu = one_file(f, a.single_runs)
                print(f"one {label} submission{with_sheets}, `xlbudget check FILE` incl. process start: "
                      f"median {med * 1000:.0f} ms of {a.single_runs} (min {min(times) * 1000:.0f}, "
                      f"max {max(times) * 1000:.0f}; CPU {cpu * 1000:.0f} ms), exit code {rc}   "
                      f"{verdict(med, SINGLE_TARGET_S)}")
            t = []
            for _ in range(a.single_runs):
                t0 = time.perf_counter()
                subprocess.run(xlbudget_cmd() + ["--version"], capture_output=True)
                t.append(time.perf_counter() - t0)
            print(f"  for scale: `xlbudget --version` (start + CLI import only): median {statistics.median(t) * 1000:.0f} ms")

        if a.memory and has_check():
            sizes = [int(x) for x in a.memory.split(",") if x.strip()]
            peaks = []
            for n in sizes:
                batch = linked(paths, n, (subdir if a.keep else work) / "links")
                r = check_batch(batch, a.jobs, work)
                peaks.append(r["worker_kb"])
                print(f"memory, N = {n} ({len(paths)} distinct files): worker peak RSS {r['worker_kb'] / 1024:.0f} MB, "
                      f"main process {r['main_kb'] / 1024:.0f} MB, {r['wall']:.1f} s wall, {r['rate']:.1f} submissions/s")
            if len(peaks) > 1 and peaks[0]:
                growth = peaks[-1] / peaks[0] - 1
                print(f"  worker peak from N = {sizes[0]} to N = {sizes[-1]}: {growth * 100:+.0f} %   "
                      f"{'flat' if growth < 0.1 else 'GROWS'} (flat: under +10 %)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
