"""The desk against the command line, measured in the same run.

    python bench/desk_bench.py [--n 300] [--mix 0.2] [--jobs 2] [--keep DIR] [--renders 5]

1. Generates N realistic filled submissions of N distinct departments (as ``batch_check.py``; ``--keep DIR``
   keeps them for the next run).
2. Baseline: ``xlbudget check --jobs J --format json -o REPORT FILE...`` as a subprocess: submissions/s.
3. The desk: ``xlbudget serve --jobs J`` on a fresh SQLite archive and data folder; all N files in ONE
   ``POST /api/submissions``; the clock runs from the request until the last check is in the archive
   (upload, hashing, storing and the archive's writes included). Target: at least 80 % of the baseline's rate.
4. The overview page (``GET /``) with the N departments: median of ``--renders`` requests, server time
   included, against 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_check import xlbudget_cmd  # noqa: E402
from common import machine, write_submissions  # noqa: E402

RATE_TARGET = 0.80
RENDER_TARGET_S = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(files: list[Path]) -> tuple[bytes, str]:
    boundary = "xlbudget-" + uuid.uuid4().hex
    parts = []
    for f in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{f.name}\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + f.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def run_cli(files: list[Path], jobs: int, work: Path) -> float:
    env = {**os.environ, "XLBUDGET_HOME": str(work / "cli-home")}
    start = time.perf_counter()
    r = subprocess.run(xlbudget_cmd() + ["check", "--jobs", str(jobs), "--format", "json", "-o",
                                         str(work / "cli.json")] + [str(f) for f in files],
                       env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if r.returncode not in (0, 1):
        raise SystemExit(f"xlbudget check failed: {r.stderr}")
    return seconds


def run_desk(files: list[Path], jobs: int, work: Path, renders: int) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "XLBUDGET_HOME": str(work / "desk-home")}
    proc = subprocess.Popen(xlbudget_cmd() + ["serve", "--port", str(port), "--jobs", str(jobs), "--data",
                                              str(work / "desk-data")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                get(url + "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        body, ctype = multipart(files)
        start = time.perf_counter()
        req = urllib.request.Request(url + "/api/submissions", data=body, method="POST",
                                     headers={"Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=600) as r:
            batch = json.loads(r.read())
        uploaded = time.perf_counter() - start
        while True:
            p = json.loads(get(url + batch["progress"]))
            if p["finished"]:
                break
            time.sleep(0.5)                 # as the page polls
        seconds = time.perf_counter() - start
        print(f"desk      one POST of {batch['accepted']} files, all checked: {seconds:.1f} s "
              f"(upload and storing {uploaded:.1f} s), {batch['accepted'] / seconds:.2f} submissions/s; "
              f"status {p['status']}", flush=True)
        overview = json.loads(get(url + "/api/overview"))
        times = []
        for _ in range(renders + 1):
            t = time.perf_counter()
            html = get(url + "/")
            times.append(time.perf_counter() - t)
        return {"seconds": seconds, "uploaded": uploaded, "accepted": batch["accepted"], "status": p["status"],
                "departments": len(overview["departments"]), "render": statistics.median(times[1:]),
                "html_kb": len(html) / 1024}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--mix", type=float, default=0.2, help="share of large departments")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated submissions here")
    ap.add_argument("--renders", type=int, default=5)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xlbudget-desk-bench-"))
    try:
        folder = a.keep or work / "submissions"
        t = time.perf_counter()
        files = write_submissions(folder, a.n, a.mix)
        size = sum(f.stat().st_size for f in files) / 1024 / 1024
        print(f"{machine()}")
        print(f"{len(files)} submissions ({a.mix:.0%} large, {size:.1f} MB) ready in {time.perf_counter() - t:.1f} s",
              flush=True)
        cli = run_cli(files, a.jobs, work)
        cli_rate = len(files) / cli
        print(f"baseline  xlbudget check --jobs {a.jobs}: {cli:.1f} s, {cli_rate:.2f} submissions/s", flush=True)
        desk = run_desk(files, a.jobs, work, a.renders)
        rate = desk["accepted"] / desk["seconds"]
        ratio = rate / cli_rate
        print(f"          rate / baseline = {ratio:.2f}  "
              f"{'OK' if ratio >= RATE_TARGET else 'MISSED'} (target ≥ {RATE_TARGET:.2f})")
        print(f"overview  {desk['departments']} departments, {desk['html_kb']:.0f} KB: median {desk['render']*1000:.0f} ms "
              f"over {a.renders} requests  {'OK' if desk['render'] < RENDER_TARGET_S else 'MISSED'} "
              f"(under {RENDER_TARGET_S} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
