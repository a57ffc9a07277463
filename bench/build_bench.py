"""Consolidation: ``xlbudget build`` over many unit submissions.

    python bench/build_bench.py [--n 200] [--keep DIR] [--runs 1] [--profile]

Generates N filled submissions of small units (like the built-in example, codes and projects varying a
little), then times ``xlbudget build FILE... -o OUT`` as a subprocess, process start included, and the
library call ``build(paths, out, force=True)`` in this process. Target: under 10 s for 200 units.
The package's bytecode is compiled first (as ``pip install`` does), unless ``--no-compile``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_check import run_measured, xlbudget_cmd  # noqa: E402
from common import compile_bytecode, machine, verdict, write_submissions  # noqa: E402

TARGET_S = 10.0


def has_build() -> bool:
    try:
        import xlbudget.build  # noqa: F401
    except ImportError:
        return False
    return True


def build_cli(paths: list[Path], out: Path, jobs: int = 1) -> list[str] | None:
    """The ``xlbudget build`` command line, with the options its --help offers."""
    h = subprocess.run(xlbudget_cmd() + ["build", "--help"], capture_output=True, text=True)
    if h.returncode != 0:
        return None
    text = h.stdout
    cmd = xlbudget_cmd() + ["build"]
    if "--force" in text:
        cmd.append("--force")
    if "--jobs" in text and jobs > 1:
        cmd += ["--jobs", str(jobs)]
    if "--output" in text or "-o," in text or "-o " in text:
        cmd += ["-o", str(out)] + [str(p) for p in paths]
    else:  # OUT as the last positional argument
        cmd += [str(p) for p in paths] + [str(out)]
    return cmd


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its ended children (the wall time of a shared machine varies with
    its other work; the CPU time much less)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="number of unit submissions (default 200)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="processes used to generate the submissions and by the build (--jobs, default 2)")
    ap.add_argument("--keep", metavar="DIR", help="write the submissions here and keep them (reused next time)")
    ap.add_argument("--runs", type=int, default=1, help="timed runs of each form (median reported)")
    ap.add_argument("--profile", action="store_true", help="print the cProfile hot spots of one library build")
    ap.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xlbudget-bench-"))
    subdir = Path(a.keep) if a.keep else work / "units"
    try:
        print(f"machine: {machine()}")
        if not a.no_compile:
            print(f"bytecode: {compile_bytecode()}")
        t0 = time.perf_counter()
        paths = write_submissions(subdir, a.n, 0.0, jobs=a.jobs, seed=7)
        size = sum(p.stat().st_size for p in paths)
        print(f"unit submissions: {len(paths)} small units, {size / 1e6:.1f} MB; generated/reused in "
              f"{time.perf_counter() - t0:.1f} s")
        if not has_build():
            print("xlbudget build: NOT AVAILABLE yet (xlbudget.build missing); skipped")
            return
        out = work / "disclosure.xlsx"
        cmd = build_cli(paths, out, a.jobs)
        if cmd is None:
            print("xlbudget build: the command line has no `build` command yet; CLI timing skipped")
        else:
            walls, cpus = [], []
            for _ in range(a.runs):
                out.unlink(missing_ok=True)
                r = run_measured(cmd)
                walls.append(r["wall"])
                cpus.append(r["cpu"])
            med = statistics.median(walls)
            print(f"xlbudget build ({len(paths)} units), command line incl. process start: {med:.2f} s "
                  f"(median of {a.runs}; CPU of the process tree {statistics.median(cpus):.2f} s), "
                  f"exit code {r['rc']}, peak RSS {r['tree_kb'] / 1024:.0f} MB, "
                  f"output {'%d KB' % (out.stat().st_size // 1024) if out.exists() else 'MISSING'}   "
                  f"{verdict(med, TARGET_S)}")
            if r["rc"] != 0:
                print("  stderr: " + r["stderr"][-2000:])
        import inspect

        from xlbudget.build import build

        jobs_arg = {"jobs": a.jobs} if "jobs" in inspect.signature(build).parameters else {}
        walls, cpus = [], []
        for _ in range(a.runs):
            out.unlink(missing_ok=True)
            t0, c0 = time.perf_counter(), _cpu()
            build(paths, out, force=True, **jobs_arg)
            walls.append(time.perf_counter() - t0)
            cpus.append(tuple(b - a_ for a_, b in zip(c0, _cpu())))
        med = statistics.median(walls)
        own = statistics.median(c[0] for c in cpus)
        kids = statistics.median(c[1] for c in cpus)
        print(f"library build(paths, out, force=True{', jobs=%d' % a.jobs if jobs_arg else ''}): {med:.2f} s (median of {a.runs}), "
              f"{med / len(paths) * 1000:.0f} ms per unit; CPU {own:.2f} s in this process, {kids:.2f} s in "
              f"its workers   {verdict(med, TARGET_S)}")
        if a.profile:
            import cProfile
            import pstats

            pr = cProfile.Profile()
            pr.enable()
            build(paths, out, force=True)
            pr.disable()  # one process: the profile of the workers would be lost
            st = pstats.Stats(pr)
            st.sort_stats("cumulative").print_stats(25)
            st.sort_stats("tottime").print_stats(20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
