"""Hostile submissions, generated from a seed: structural mutations of the zip and its XML parts, and
semantic ones made with openpyxl (cleared formulas, inserted and deleted rows and columns, merges, renamed
and removed sheets, odd strings and huge numbers in input cells, mangled embedded specs).

``variants(base, out, rng, n)`` makes ``n`` openpyxl variants of a filled workbook (slow: about a second
each); ``mutate(src, out, rng)`` makes one case from a workbook at the zip/XML level (fast). ``run_case``
runs the command line on a case in this process and says what went wrong, if anything.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

WEIRD_STRINGS = ["", " ", "=1+1", "=HYPERLINK(\"http://x\")", "@SUM(A1)", "-", "１２３．４", "1,234.5", "(12.5)",
                 "nan", "inf", "-inf", "1e26", "1e999999", "-1e-999999", "0x1F", "١٢٣", "\u202e123", "12\u200b3",
                 "万元", "1.5万元", "\x00", "x" * 5000, "一二三", "True", "1" * 60, "0." + "0" * 40 + "1",
                 "9" * 28 + ".5", "<script>", "'; DROP TABLE", "\ud7ff", "😀" * 10]
HUGE_NUMBERS = [1e26, -1e26, 1e308, 1e-308, 9.999999999999999e14, 1e15, 2 ** 63, -(2 ** 63), 1e-30, 123456789.123456]
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]+(Error|Exception|Interrupt|PoolExecutor|ProcessPool)\b|Traceback \(")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


# --- semantic mutations (openpyxl) -------------------------------------------------------------------------
def _input_cells(ws):
    return [c for row in ws.iter_rows(min_row=4) for c in row
            if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]


def _formula_cells(ws):
    return [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]


def _mangle_spec(wb, rng: random.Random) -> None:
    if "xlbudget" not in wb.sheetnames:
        return
    ws = wb["xlbudget"]
    rows = [r for r in ws.iter_rows() if r[0].value == "spec"]
    if not rows:
        return
    text = "".join(str(r[1].value or "") for r in rows)
    try:
        spec = json.loads(text)
    except ValueError:
        spec = {}
    choice = rng.randrange(12)
    if choice == 0:
        spec["functions"] = ["abc"]
    elif choice == 1:
        spec["functions"] = json.loads("[" * 3000 + "]" * 3000) if rng.random() < 0.5 else [[[]]]
        new = json.dumps(spec)
        text = new if rng.random() < 0.5 else "[" * 5000 + "]" * 5000
        _write_spec(ws, rows, text)
        return
    elif choice == 2:
        spec["year"] = [2025]
    elif choice == 3:
        spec["tableset"] = "x" * 5000
    elif choice == 4:
        spec.pop(rng.choice(["department", "year"]), None)
    elif choice == 5:
        spec["tableset"] = rng.choice(["../../tmp/evil", "/etc", "XJ11", "xj11/../xj11", "."])
    elif choice == 6:
        spec["fuctions"] = spec.pop("functions", [])
    elif choice == 7:
        spec["projects"] = [{"key": "p1"}] if rng.random() < 0.5 else "abc"
    elif choice == 8:
        spec["spare_rows"] = 10 ** 9
    elif choice == 9:
        spec["names"] = {"2010101": ["x"]}
    elif choice == 10:
        text = text[: rng.randrange(max(len(text), 1))]
        _write_spec(ws, rows, text)
        return
    else:
        spec["economic"] = [str(rng.randrange(10 ** 7)) for _ in range(rng.randrange(1, 50))]
    _write_spec(ws, rows, json.dumps(spec, ensure_ascii=False))


def _write_spec(ws, rows, text: str) -> None:
    chunk = max(1, -(-len(text) // len(rows)))
    for i, r in enumerate(rows):
        r[1].value = text[i * chunk:(i + 1) * chunk]


SEMANTIC: list[tuple[str, Callable]] = []


def _semantic(name: str):
    def deco(fn):
        SEMANTIC.append((name, fn))
        return fn
    return deco


@_semantic("clear-formula")
def _clear_formula(wb, ws, rng):
    cells = _formula_cells(ws)
    for c in rng.sample(cells, min(len(cells), rng.randint(1, 5))):
        c.value = rng.choice([None, "", 0, "abc", 1e26])


@_semantic("insert-rows")
def _insert_rows(wb, ws, rng):
    ws.insert_rows(rng.randint(1, 30), rng.randint(1, 3))


@_semantic("delete-rows")
def _delete_rows(wb, ws, rng):
    ws.delete_rows(rng.randint(1, 30), rng.randint(1, 3))


@_semantic("insert-cols")
def _insert_cols(wb, ws, rng):
    ws.insert_cols(rng.randint(1, 8), rng.randint(1, 2))


@_semantic("delete-cols")
def _delete_cols(wb, ws, rng):
    ws.delete_cols(rng.randint(1, 8), rng.randint(1, 2))


@_semantic("merge")
def _merge(wb, ws, rng):
    r, c = rng.randint(1, 30), rng.randint(1, 8)
    ws.merge_cells(start_row=r, start_column=c, end_row=r + rng.randint(0, 4), end_column=c + rng.randint(1, 4))


@_semantic("rename-sheet")
def _rename(wb, ws, rng):
    ws.title = rng.choice(["Sheet1", "表 1", ws.title + "x", "=A1"])[:31]


@_semantic("remove-sheet")
def _remove(wb, ws, rng):
    if len(wb.sheetnames) > 1:
        wb.remove(ws)


@_semantic("weird-strings")
def _weird(wb, ws, rng):
    cells = _input_cells(ws)
    for c in rng.sample(cells, min(len(cells), rng.randint(1, 6))):
        try:
            c.value = rng.choice(WEIRD_STRINGS)
        except Exception:  # openpyxl refuses control characters: keep the cell
            pass


@_semantic("huge-numbers")
def _huge(wb, ws, rng):
    cells = _input_cells(ws)
    for c in rng.sample(cells, min(len(cells), rng.randint(1, 6))):
        c.value = rng.choice(HUGE_NUMBERS)


@_semantic("mangle-spec")
def _spec(wb, ws, rng):
    _mangle_spec(wb, rng)


def variants(base: Path, out: Path, rng: random.Random, n: int) -> list[Path]:
    """``n`` workbooks, each with one to three semantic mutations of ``base`` (openpyxl)."""
    import openpyxl

    out.mkdir(parents=True, exist_ok=True)
    made = []
    for k in range(n):
        wb = openpyxl.load_workbook(base)
        names = []
        for _ in range(rng.randint(1, 3)):
            name, fn = SEMANTIC[(k + _) % len(SEMANTIC)] if _ == 0 else rng.choice(SEMANTIC)
            visible = [s for s in wb.sheetnames if s != "xlbudget"]
            ws = wb[rng.choice(visible)]
            try:
                fn(wb, ws, rng)
            except (ValueError, KeyError, IndexError, TypeError):
                continue
            names.append(name)
        p = out / f"v{k:03d}-{'+'.join(names) or 'none'}.xlsx"
        try:
            wb.save(p)
        except Exception:  # openpyxl cannot write what a mutation left (it is the writer's limit, not ours)
            p.unlink(missing_ok=True)
            continue
        made.append(p)
    return made


# --- structural mutations (zip and XML) --------------------------------------------------------------------
def _parts(src: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(src) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _xml_part(parts: dict[str, bytes], rng: random.Random) -> str:
    xml = [n for n in parts if n.endswith((".xml", ".rels"))]
    return rng.choice(xml)


def _sub_attr(data: bytes, rng: random.Random) -> bytes:
    attrs = list(re.finditer(rb'(\w+)="([^"]*)"', data))
    if not attrs:
        return data
    m = rng.choice(attrs)
    new = rng.choice([b"2000000000", b"-1", b"", b"XFD1048576", b"A1:XFD1048576", b"1e308", b"&amp;" * 10,
                      b"\xff\xfe", b"99999999999999999999", m.group(2) * 50])
    return data[:m.start(2)] + new + data[m.end(2):]


STRUCTURAL: list[tuple[str, Callable[[dict[str, bytes], random.Random], None]]] = [
    ("drop-part", lambda p, r: p.pop(r.choice(list(p)))),
    ("truncate-part", lambda p, r: p.__setitem__(k := _xml_part(p, r), p[k][: r.randrange(len(p[k]) + 1)])),
    ("flip-bytes", lambda p, r: p.__setitem__(k := _xml_part(p, r), bytes(
        b ^ (1 << r.randrange(8)) if r.random() < 0.001 else b for b in p[k]))),
    ("attribute", lambda p, r: p.__setitem__(k := _xml_part(p, r), _sub_attr(p[k], r))),
    ("unique-count", lambda p, r: p.__setitem__("xl/sharedStrings.xml", re.sub(
        rb'uniqueCount="\d+"', b'uniqueCount="2000000000"', p.get("xl/sharedStrings.xml", b"<sst/>"), count=1))),
    ("dimension", lambda p, r: [p.__setitem__(k, re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"',
                                                         p[k], count=1)) for k in p if k.startswith("xl/worksheets/")]),
    ("dtd", lambda p, r: p.__setitem__(k := _xml_part(p, r), b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "'
                                        + b"a" * 100 + b'">]>' + p[k].split(b"?>", 1)[-1])),
    ("garbage-part", lambda p, r: p.__setitem__(_xml_part(p, r), r.randbytes(r.randrange(1, 4000)))),
    ("duplicate-sheet-name", lambda p, r: p.__setitem__("xl/workbook.xml", re.sub(
        rb'name="[^"]*"', b'name="dup"', p["xl/workbook.xml"], count=2) if "xl/workbook.xml" in p else b"")),
    ("huge-cell-ref", lambda p, r: [p.__setitem__(k, re.sub(rb'<c r="[A-Z]+\d+"', b'<c r="XFD1048576"', p[k], count=1))
                                    for k in p if k.startswith("xl/worksheets/sheet")]),
    ("big-number-xml", lambda p, r: [p.__setitem__(k, re.sub(rb"<v>\d+(\.\d+)?</v>", r.choice(
        [b"<v>1e999</v>", b"<v>NaN</v>", b"<v>1E+26</v>", b"<v>-Infinity</v>", b"<v>" + b"9" * 400 + b"</v>"]), p[k],
        count=r.randint(1, 20))) for k in p if k.startswith("xl/worksheets/sheet")]),
]


def mutate(src: Path, out: Path, rng: random.Random) -> tuple[Path, str]:
    """One case: a workbook with one or two zip/XML-level mutations (or the whole file truncated)."""
    data = src.read_bytes()
    if rng.random() < 0.08:
        out.write_bytes(data[: rng.randrange(len(data))])
        return out, "truncate-file"
    parts = _parts(src)
    names = []
    for _ in range(rng.randint(1, 2)):
        name, fn = rng.choice(STRUCTURAL)
        try:
            fn(parts, rng)
        except (KeyError, IndexError, ValueError):
            continue
        names.append(name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)
    return out, "+".join(names) or "none"


# --- running a case ----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    name: str
    command: str
    exit_code: int
    seconds: float
    problems: list[str] = field(default_factory=list)


def _forked(fn: Callable[[], tuple], timeout: float) -> tuple:
    """Run ``fn`` in a forked child (so that an abort or a hang of the code under test is counted, not fatal
    to the harness); returns its result, ("died", signal) or ("hang",)."""
    import os
    import pickle
    import select
    import signal

    if not hasattr(os, "fork"):
        return fn()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # a native backtrace of the code under test is noise here
            data = pickle.dumps(fn())
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
        finally:
            os._exit(0)
    os.close(w)
    chunks, deadline = [], time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ready = select.select([r], [], [], max(left, 0))[0] if left > 0 else []
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(r)
            return ("hang",)
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not chunks:
        return ("died", os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0)
    return pickle.loads(b"".join(chunks))


def run_case(path: Path, name: str, command: str = "check", limit: float = 5.0) -> Outcome:
    """Run ``xlbudget check FILE`` (or ``read FILE``) in-process (in a forked child of this process where
    possible) and list what breaks the contract: a traceback or an exception name in the output, an exit code
    other than 0/1/2, a hang, a changed input."""
    from click.testing import CliRunner

    from xlbudget.cli import cli

    args = [command, str(path)] if command != "read" else ["read", str(path), "-o", str(path) + ".json"]

    def invoke() -> tuple:
        result = CliRunner().invoke(cli, args)
        exc = result.exception
        crashed = exc is not None and not isinstance(exc, SystemExit)
        return ("done", result.exit_code, result.output, f"{type(exc).__name__}: {exc}" if crashed else "")

    before = sha(path)
    start = time.perf_counter()
    got = _forked(invoke, limit * 6)
    seconds = time.perf_counter() - start
    out = Outcome(name, command, got[1] if got[0] == "done" else -1, seconds)
    if got[0] == "died":
        out.problems.append(f"exit code: the process died (signal {got[1]})")
    elif got[0] == "hang":
        out.problems.append(f"hang: over {limit * 6:.0f} s")
    else:
        _, code, text, crash = got
        if crash:
            out.problems.append(f"traceback: {crash[:200]}")
        elif EXCEPTION_NAME.search(text):
            out.problems.append("traceback: exception name in the output: " + EXCEPTION_NAME.search(text).group(0))
        if code not in (0, 1, 2):
            out.problems.append(f"exit code {code}")
        if seconds > limit:
            out.problems.append(f"hang: {seconds:.1f} s")
    if sha(path) != before:
        out.problems.append("input modified")
    return out


def base_workbook(folder: Path) -> Path:
    """The built-in example, filled (what a department submits)."""
    from xlbudget.model import load_example
    from xlbudget.template import fill

    folder.mkdir(parents=True, exist_ok=True)
    spec, doc = load_example()
    return fill(doc, folder / "filled.xlsx", spec)
