"""Submissions and specs from outside: whatever they hold, one clear finding or message, never a traceback,
a hang, a dead batch or a changed input. The generator lives in tests/hostile/generate.py;
bench/fuzz.py runs it on thousands of cases."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from hostile.generate import EXCEPTION_NAME, base_workbook, mutate, run_case, sha, variants
from xlbudget.check import check_paths
from xlbudget.cli import cli
from xlbudget.errors import SpecError
from xlbudget.reader import read_workbook
from xlbudget.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    return base_workbook(tmp_path_factory.mktemp("base"))


def _edit(src: Path, out: Path, fn) -> Path:
    wb = openpyxl.load_workbook(src)
    fn(wb)
    wb.save(out)
    return out


def _spec_cells(wb):
    return [r for r in wb["xlbudget"].iter_rows() if r[0].value == "spec"]


def _with_spec(src: Path, out: Path, change) -> Path:
    def fn(wb):
        rows = _spec_cells(wb)
        spec = json.loads("".join(str(r[1].value or "") for r in rows))
        text = change(spec)
        text = text if isinstance(text, str) else json.dumps(spec, ensure_ascii=False)
        rows[0][1].value = text
        for r in rows[1:]:
            r[1].value = ""
    return _edit(src, out, fn)


def _messages(res) -> str:
    return "\n".join(f.message("zh") + f.message("en") for f in res.findings)


def _clean(text: str) -> None:
    assert "Traceback" not in text and not EXCEPTION_NAME.search(text), text


# --- 1. structural surprises ---------------------------------------------------------------------------
def _first_formula(ws):
    return next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("="))


@pytest.mark.parametrize("how", ["clear-formula", "text-in-formula", "insert-row", "delete-row", "insert-col",
                                 "delete-col", "merge"])
def test_read_turns_structural_surprises_into_findings(filled, tmp_path, how):
    def fn(wb):
        ws = wb["表2"]
        if how == "clear-formula":
            _first_formula(wb["表1"]).value = None
        elif how == "text-in-formula":
            _first_formula(wb["表1"]).value = "abc"
        elif how == "insert-row":
            ws.insert_rows(6)
        elif how == "delete-row":
            ws.delete_rows(8)
        elif how == "insert-col":
            ws.insert_cols(2)
        elif how == "delete-col":
            ws.delete_cols(3)
        else:
            ws.merge_cells("E10:G12")
    book = _edit(filled, tmp_path / f"{how}.xlsx", fn)
    res = CliRunner().invoke(cli, ["read", str(book), "-o", str(tmp_path / "out.json")])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    _clean(res.output)
    assert res.exit_code in (0, 1, 2)
    data = read_workbook(book)
    assert data.findings and all(f.to_dict("en")["message"] for f in data.findings)
    if how == "merge":
        assert [f.cells for f in data.findings if f.rule == "READ.cells-merged"] == [("表2!E10:G12",)]
    if how == "clear-formula":
        f = next(f for f in data.findings if f.rule == "READ.formula-overwritten")
        assert "空单元格" in f.message("zh") and "empty cell" in f.message("en")


# --- 2. numbers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [1e26, "1e26", "1e999999", "-1e-999999", 10 ** 20, "1." + "0" * 40 + "1"])
def test_amounts_out_of_range_are_a_finding_in_read_check_and_build(filled, tmp_path, value):
    def fn(wb):
        ws = wb["表2"]
        cell = next(c for row in ws.iter_rows(min_row=6) for c in row
                    if isinstance(c.value, (int, float)) and not isinstance(c.value, bool))
        cell.value = value
    book = _edit(filled, tmp_path / "big.xlsx", fn)
    res = read_workbook(book)
    hits = [f for f in res.findings if f.rule == "READ.out-of-range"]
    assert len(hits) == 1 and hits[0].severity.value == "error" and "10 的 15 次方" in hits[0].message("zh")
    report = check_paths([book])
    assert not any(f.rule == "CHECK.failed" for f in report.files[0].findings)
    runner = CliRunner()
    for args in (["read", str(book), "-o", str(tmp_path / "r.json")], ["check", str(book)],
                 ["build", str(book), "-o", str(tmp_path / "d.xlsx"), "--force"]):
        r = runner.invoke(cli, args)
        assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)
        _clean(r.output)


# --- 3. the embedded spec is validated -----------------------------------------------------------------
MANGLED = {
    "functions-abc": lambda s: s.update(functions=["abc"]),
    "deep-json": lambda s: "[" * 100000 + "]" * 100000,
    "deep-value": lambda s: s.update(functions=json.loads("[" * 500 + "]" * 500)),
    "list-for-number": lambda s: s.update(year=[2025]),
    "long-tableset": lambda s: s.update(tableset="x" * 5000),
    "missing-key": lambda s: s.pop("year"),
    "misspelt-key": lambda s: s.update(fuctions=s.pop("functions")),
    "projects-text": lambda s: s.update(projects="abc"),
    "huge-spare-rows": lambda s: s.update(spare_rows=10 ** 9),
    "many-projects": lambda s: s.update(projects=[{"key": f"p{i}", "name": "x" * 200, "function": "2014199",
                                                   "sangong": [], "unit": f"u{i}"} for i in range(1500)]),
}


@pytest.mark.parametrize("name", sorted(MANGLED))
def test_a_mangled_embedded_spec_gives_one_clear_message(filled, tmp_path, name):
    book = _with_spec(filled, tmp_path / f"{name}.xlsx", MANGLED[name])
    start = time.perf_counter()
    res = read_workbook(book)
    assert time.perf_counter() - start < 5
    assert res.budget is None and len(res.findings) == 1
    zh, en = res.findings[0].message("zh"), res.findings[0].message("en")
    assert "部门规格" in zh and "spec" in en and re.search(r"[\u4e00-\u9fff]", en) is None
    for text in (zh, en):
        _clean(text)
        assert "Spec.__init__" not in text and "positional argument" not in text and len(text) < 400
    if name == "misspelt-key":
        assert "fuctions" in zh and "functions" in zh


def test_spec_files_name_a_misspelt_key_and_refuse_what_the_template_cannot_honour(tmp_path):
    def spec(body: str) -> Path:
        p = tmp_path / "spec.toml"
        p.write_text('[department]\nname = "某部门"\nyear = 2025\n' + body, encoding="utf-8")
        return p

    with pytest.raises(SpecError, match="fuctions.*functions"):
        load_spec(spec('[codes]\nfuctions = ["2014101"]\n'))
    with pytest.raises(SpecError, match="不在 \\[codes\\] functions 中"):
        load_spec(spec('[codes]\nfunctions = ["2014101"]\n[[projects]]\nname = "p"\nfunction = "2014199"\n'))
    with pytest.raises(SpecError, match="没有名称"):
        load_spec(spec('[codes]\nfunctions = ["2999999"]\n'))
    with pytest.raises(SpecError, match="格式不正确"):
        load_spec(spec('[codes]\neconomic = ["abc"]\n'))
    with pytest.raises(SpecError, match="嵌套过深|格式错误"):
        load_spec(spec("x = " + "[" * 100000 + "]" * 100000 + "\n"))
    ok = load_spec(spec('[codes]\nfunctions = ["2999999"]\n[names]\n"299" = "其他支出"\n"29999" = "其他支出"\n'
                        '"2999999" = "其他支出"\n'))
    assert ok.functions == ("2999999",)
    res = CliRunner().invoke(cli, ["template", str(spec('[codes]\nfuctions = ["2014101"]\n')), "-o",
                                   str(tmp_path / "t.xlsx")])
    assert res.exit_code == 2 and "fuctions" in res.output and not (tmp_path / "t.xlsx").exists()


def test_spec_from_dict_raises_only_spec_errors():
    for bad in ([], "x", {"department": "x"}, {"department": "x", "year": "abc"}, {"department": 1, "year": 2025,
                "projects": [{"key": "p1", "name": "n", "function": "2014101", "sangong": ["x"]}]}):
        with pytest.raises(SpecError):
            Spec.from_dict(bad)


# --- 4. table sets by installed id only ------------------------------------------------------------------
def test_a_submission_cannot_bring_its_own_table_set(filled, tmp_path):
    own = tmp_path / "own"
    (own).mkdir()
    src = ROOT / "templates" / "xj11"
    for f in src.glob("*.toml"):
        (own / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (own / "rules.toml").write_text("", encoding="utf-8")  # an empty rule book: everything would pass
    for name in (str(own), "../" * 8 + str(own).lstrip("/"), "XJ11"):
        book = _with_spec(filled, tmp_path / "own.xlsx", lambda s: s.update(tableset=name))
        res = read_workbook(book)
        assert res.budget is None and res.findings[0].rule == "READ.bad-template", name
        assert "表套" in res.findings[0].message("zh") and "tableset" in res.findings[0].message("en")


# --- 5. a native reader that aborts costs one file ---------------------------------------------------------
def _unique_count(src: Path, out: Path) -> Path:
    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/sharedStrings.xml"] = re.sub(rb'uniqueCount="\d+"', b'uniqueCount="2000000000"',
                                           parts["xl/sharedStrings.xml"], count=1)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in parts.items():
            z.writestr(n, d)
    return out


def test_a_faked_shared_string_count_is_harmless_in_a_real_process(filled, tmp_path):
    book = _unique_count(filled, tmp_path / "count.xlsx")
    run = subprocess.run([sys.executable, "-m", "xlbudget.cli", "check", str(book)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert "memory allocation" not in run.stderr and "合计：1 个文件" in run.stdout


def _aborting_native(data, names):
    os.abort()


def test_a_native_abort_is_one_unreadable_file_with_jobs_1(filled, tmp_path, monkeypatch, capfd):
    from xlbudget.io import rawxlsx

    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(3):
        (folder / f"g{i}.xlsx").write_bytes(filled.read_bytes())
    alone = check_paths([folder / "g0.xlsx"]).files[0]
    (folder / "x-abort.xlsx").write_bytes(filled.read_bytes())
    real = rawxlsx._native_cells
    monkeypatch.setattr(rawxlsx, "PURE_VALUES", False)  # every sheet's cells through the native reader
    monkeypatch.setattr(rawxlsx, "_native_cells",
                        lambda data, names: _aborting_native(data, names) if b"ABORT" in data else real(data, names))
    # mark the culprit so that only its cells abort the reader
    _edit(filled, folder / "x-abort.xlsx", lambda wb: wb["表1"].cell(1, 20, "ABORT"))
    report = check_paths([folder], jobs=1)
    by_name = {f.name: f for f in report.files}
    assert not by_name["x-abort.xlsx"].readable
    assert "异常终止" in by_name["x-abort.xlsx"].findings[0].message("zh")
    for i in range(3):
        assert [f.to_dict() for f in by_name[f"g{i}.xlsx"].findings] == [f.to_dict() for f in alone.findings]
    assert "memory" not in capfd.readouterr().err


def _killing_reader(path):
    import signal

    if "kill" in path.name:
        os.kill(os.getpid(), signal.SIGKILL)
    return read_workbook(path)


def test_a_dead_pool_worker_costs_its_own_file_only(filled, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(8):
        (folder / f"g{i}.xlsx").write_bytes(filled.read_bytes())
    (folder / "g3-kill.xlsx").write_bytes(filled.read_bytes())
    report = check_paths([folder], jobs=2, reader=_killing_reader)
    bad = [f for f in report.files if not f.readable]
    assert [f.name for f in bad] == ["g3-kill.xlsx"] and bad[0].findings[0].rule == "READ.worker-died"
    assert all(len(f.findings) == len(report.files[0].findings) for f in report.files if f.readable)
    assert len(report.files) == 9


# In a batch the pool worker is the isolation: it reads the cells itself (no fork per file), a crash costs the
# worker and so its file only, a hang is ended by the parent after the time limit, and a blow-up meets the
# worker's own memory ceiling. The substitutes below run in the (spawned) workers; each marks its culprit by a
# word in the file's name or in its cells.
def _patched_native(path, native):
    from xlbudget.io import rawxlsx

    real = getattr(rawxlsx, "_real_native_cells", rawxlsx._native_cells)
    rawxlsx._real_native_cells = real
    rawxlsx.PURE_VALUES = False  # every sheet's cells through the native reader
    rawxlsx._native_cells = lambda data, names: native(data, names, real)
    return read_workbook(path)


def _forkless_reader(path):
    def no_fork():
        raise OSError("a pool worker forked")

    from xlbudget.io import rawxlsx

    os.fork = no_fork
    rawxlsx.PURE_VALUES = False  # the native reader, which a lone process would fork for
    return read_workbook(path)


def _hanging_native(data, names, real):
    if b"HANG" in data:
        time.sleep(120)
    return real(data, names)


def _hanging_reader(path):
    if "hang" in path.name:
        time.sleep(120)
    return _patched_native(path, _hanging_native)


def _crashing_native(data, names, real):
    import signal

    if b"SEGV" in data:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"ABORT" in data:
        os.abort()
    return real(data, names)


def _crashing_reader(path):
    return _patched_native(path, _crashing_native)


def _greedy_native(data, names, real):
    import resource

    from xlbudget.io import isolate

    if b"GREEDY" in data:
        if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
            raise RuntimeError("no memory ceiling")  # never try the allocation without one
        bytearray(isolate.MEMORY_HEADROOM + (1 << 30))
    return real(data, names)


def _greedy_reader(path):
    return _patched_native(path, _greedy_native)


def _pool_batch(filled: Path, folder: Path, marked: dict[str, str]) -> list[dict]:
    """Four good files, and one file for each name of ``marked`` carrying its word in 表1!T1; the findings
    of a good file checked alone."""
    folder.mkdir()
    for i in range(4):
        (folder / f"g{i}.xlsx").write_bytes(filled.read_bytes())
    for name, word in marked.items():
        _edit(filled, folder / name, lambda wb: wb["表1"].cell(1, 20, word))
    return [f.to_dict() for f in check_paths([folder / "g0.xlsx"]).files[0].findings]


def _good_files_unharmed(report, alone: list[dict]) -> None:
    by_name = {f.name: f for f in report.files}
    for i in range(4):
        assert [f.to_dict() for f in by_name[f"g{i}.xlsx"].findings] == alone, f"g{i}.xlsx"


def test_pool_workers_read_the_cells_without_a_fork_per_file(filled, tmp_path):
    alone = _pool_batch(filled, tmp_path / "batch", {})
    report = check_paths([tmp_path / "batch"], jobs=2, reader=_forkless_reader)
    assert len(report.files) == 4
    _good_files_unharmed(report, alone)


def test_a_hanging_file_in_a_pool_is_reported_within_the_time_limit(filled, tmp_path, monkeypatch):
    from xlbudget.io import isolate

    monkeypatch.setattr(isolate, "TIME_LIMIT", 10.0)  # a first file, imports included, takes ~1 s
    alone = _pool_batch(filled, tmp_path / "batch", {"x-hang.xlsx": "", "x-native.xlsx": "HANG"})
    start = time.monotonic()
    report = check_paths([tmp_path / "batch"], jobs=2, reader=_hanging_reader)
    assert time.monotonic() - start < 60  # each hang would last 120 s
    by_name = {f.name: f for f in report.files}
    assert len(report.files) == 6
    for name in ("x-hang.xlsx", "x-native.xlsx"):
        bad = by_name[name]
        assert not bad.readable and [f.rule for f in bad.findings] == ["READ.native-failure"], name
        assert "超时" in bad.findings[0].message("zh") and "timed out" in bad.findings[0].message("en")
        assert bad.sha256
    _good_files_unharmed(report, alone)


def test_a_native_crash_in_a_pool_worker_costs_its_own_file_only(filled, tmp_path, capfd):
    alone = _pool_batch(filled, tmp_path / "batch", {"x-segv.xlsx": "SEGV", "x-abort.xlsx": "ABORT"})
    report = check_paths([tmp_path / "batch"], jobs=2, reader=_crashing_reader)
    by_name = {f.name: f for f in report.files}
    assert len(report.files) == 6
    for name in ("x-segv.xlsx", "x-abort.xlsx"):
        bad = by_name[name]
        assert not bad.readable and [f.rule for f in bad.findings] == ["READ.worker-died"], name
        assert "异常终止" in bad.findings[0].message("zh")
    _good_files_unharmed(report, alone)
    err = capfd.readouterr().err
    assert "Fatal Python error" not in err and "Traceback" not in err


def test_a_memory_blow_up_in_a_pool_worker_meets_its_ceiling(filled, tmp_path):
    alone = _pool_batch(filled, tmp_path / "batch", {"x-greedy.xlsx": "GREEDY"})
    report = check_paths([tmp_path / "batch"], jobs=2, reader=_greedy_reader)
    by_name = {f.name: f for f in report.files}
    bad = by_name["x-greedy.xlsx"]
    assert not bad.readable and [f.rule for f in bad.findings] == ["READ.native-failure"]
    assert "内存" in bad.findings[0].message("zh")
    _good_files_unharmed(report, alone)


# --- 6. FIFOs, devices and sockets ----------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
def test_check_refuses_what_is_not_a_regular_file(filled, tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    runner = CliRunner()
    for target in (fifo, Path("/dev/zero")):
        r = run_case(target, "special", "check", limit=10)
        assert r.problems == [] and r.exit_code == 1, r.problems
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "good.xlsx").write_bytes(filled.read_bytes())
    os.mkfifo(folder / "queue.xlsx")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(folder / "s"))
    except OSError:  # path too long for a socket on this machine: the pipe suffices
        pass
    res = runner.invoke(cli, ["check", str(folder), "--format", "json"])
    data = json.loads(res.output)
    named = {Path(f["path"]).name: f for f in data["files"]}
    assert "queue.xlsx" in named and "命名管道" in named["queue.xlsx"]["findings"][0]["message"]
    assert named["good.xlsx"]["readable"] is True
    sock.close()


# --- 7. the catalogue never changes how a workbook is read ----------------------------------------------------
def test_importing_a_partial_catalogue_does_not_change_reading(filled, tmp_path, monkeypatch):
    from xlbudget import layout
    from xlbudget.catalogue import import_catalogue

    before = [f.to_dict() for f in check_paths([filled]).files[0].findings]
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path / "home"))
    part = tmp_path / "part.csv"
    part.write_text("科目编码;科目名称\n201;一般公共服务支出\n20101;人大事务\n2010101;行政运行\n", encoding="utf-8")
    from xlbudget.catalogue import default_catalogue_dir

    (imported,) = import_catalogue(part, default_catalogue_dir(2025), 2025, kind="function")
    assert imported.complete is False and any("不完整" in n for n in imported.notes)
    layout.catalogue_for.cache_clear()
    try:
        after = check_paths([filled]).files[0].findings
        assert not [f for f in after if f.rule == "READ.layout-shifted"]
        assert [f.to_dict() for f in after if f.severity.value == "error"] == \
            [f for f in before if f["severity"] == "error"]
        # vouched for as complete, the codes it lacks are errors, but the rows are still the workbook's own
        import_catalogue(part, default_catalogue_dir(2025), 2025, kind="function", complete=True)
        layout.catalogue_for.cache_clear()
        rules = {f.rule for f in check_paths([filled]).files[0].findings}
        assert "READ.layout-shifted" not in rules
    finally:
        layout.catalogue_for.cache_clear()


# --- 8. the generator, a few hundred cases in CI ------------------------------------------------------------
def test_hostile_generator_cases_keep_the_contract(filled, tmp_path):
    rng = random.Random(20261201)
    pool = [filled] + variants(filled, tmp_path / "variants", rng, 10)
    problems, n = [], 0
    for v in pool[1:]:
        for command in ("check", "read"):
            out = run_case(v, v.name, command)
            n += 1
            problems += [f"{v.name} {command}: {p}" for p in out.problems]
    for k in range(int(os.environ.get("XLBUDGET_FUZZ_CASES", "220"))):
        path, name = mutate(rng.choice(pool), tmp_path / f"case{k:04d}.xlsx", rng)
        out = run_case(path, name, "read" if k % 4 == 0 else "check")
        n += 1
        problems += [f"{k} {name}: {p}" for p in out.problems]
    assert n >= 220 and problems == [], problems[:10]


# --- 9. a batch with the worst cases: every good file gets its own result ---------------------------------
def _worst(filled: Path, folder: Path) -> list[Path]:
    out = [_unique_count(filled, folder / "w-count.xlsx"),
           _with_spec(filled, folder / "w-deep.xlsx", MANGLED["deep-json"]),
           _with_spec(filled, folder / "w-abc.xlsx", MANGLED["functions-abc"]),
           _with_spec(filled, folder / "w-path.xlsx", lambda s: s.update(tableset="/tmp")),
           _edit(filled, folder / "w-huge.xlsx", lambda wb: wb["表2"].cell(11, 7, 1e26)),
           _edit(filled, folder / "w-rows.xlsx", lambda wb: wb["表2"].insert_rows(6, 3)),
           _edit(filled, folder / "w-cleared.xlsx", lambda wb: setattr(_first_formula(wb["表1"]), "value", None))]
    (folder / "w-truncated.xlsx").write_bytes(filled.read_bytes()[:5000])
    (folder / "w-text.xlsx").write_bytes(b"not a workbook")
    os.mkfifo(folder / "w-fifo.xlsx")
    return out


@pytest.fixture(scope="module")
def batch(filled, tmp_path_factory):
    """40 good files (two kinds) and 10 of the worst cases, with each good file's result when checked alone."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("POSIX named pipes")
    tmp = tmp_path_factory.mktemp("batch")
    folder = tmp / "batch"
    folder.mkdir()
    odd = _edit(filled, tmp / "odd.xlsx", lambda wb: wb["表2"].cell(11, 7, "12.5"))
    goods = {}
    for i in range(40):
        src = odd if i % 5 == 0 else filled
        (folder / f"g{i:02d}.xlsx").write_bytes(src.read_bytes())
        goods[f"g{i:02d}.xlsx"] = src
    _worst(filled, folder)
    alone = {src: [f.to_dict() for f in check_paths([src]).files[0].findings] for src in (filled, odd)}
    return folder, {name: alone[src] for name, src in goods.items()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_forty_good_files_and_ten_worst_cases(batch, jobs):
    folder, alone = batch
    hashes = {p.name: sha(p) for p in folder.iterdir() if p.is_file()}
    report = check_paths([folder], jobs=jobs)
    by_name = {f.name: f for f in report.files}
    assert len(report.files) == 50
    for name, expected in alone.items():
        assert by_name[name].readable and [f.to_dict() for f in by_name[name].findings] == expected, name
    assert sum(not f.readable for f in report.files) >= 6
    for f in report.files:
        for finding in f.findings:
            _clean(finding.message("zh") + finding.message("en"))
    assert {p.name: sha(p) for p in folder.iterdir() if p.is_file()} == hashes


@pytest.mark.parametrize("name, refused", [
    ("某部门", False), ("某\t部门", False), ("某部门 ", False), ("某\n部门", True), ("某\x00部门", True),
    ("某\x1f部门", True), ("某\r部门", True), ("某\x7f部门", False), ("某部门\u2028", False),
])
def test_a_spec_text_with_a_control_character_is_refused_the_tab_aside(name, refused):
    from xlbudget import specschema

    if refused:
        with pytest.raises(SpecError, match="含控制字符"):
            specschema.text(name, "department.name")
    else:
        assert specschema.text(name, "department.name") == name.strip()
