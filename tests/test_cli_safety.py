"""Outputs and the command line: nothing overwritten, nothing unreadable, no silent wrong answer.

Outputs never replace an input (under any path) nor each other, unwritable outputs get one clear line and
exit 2, files take the user's umask, workers die with the command, temporary files are never checked,
strings in formulas and CSV text stay text, duplicate submissions and unfilled templates are refused,
other spreadsheet formats and annotation failures are reported, and the exit codes are those documented.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from decimal import Decimal as D
from pathlib import Path

import msgspec.structs
import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.formula import Tokenizer

from xlbudget.cli import cli
from xlbudget.model import budget_from_document, load_example
from xlbudget.outputs import TEMP_PREFIX, _mkstemp, atomic_output, is_temporary
from xlbudget.spec import generic_spec
from xlbudget.template import make_template
from xlbudget.writer.template import write_workbook

EVIL = 'X"&HYPERLINK("http://evil.example","click")&"'


@pytest.fixture(autouse=True)
def _no_user_catalogue(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path_factory.mktemp("xlbudget-home")))
    monkeypatch.delenv("XLBUDGET_LANG", raising=False)


def _clean_doc(department: str | None = None, bump: D = D(0)):
    spec, doc = load_example()
    if department is not None:
        spec = msgspec.structs.replace(spec, department=department)
        doc["spec"] = spec.to_dict()
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"
    if bump:
        row = doc["tables"]["T7"]
        key = next(iter(row))
        col = next(k for k, v in row[key].items() if isinstance(v, D) and v)
        row[key][col] += bump
    return spec, doc


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("books")
    spec, doc = load_example()
    seed = budget_from_document(doc, spec)
    write_workbook(seed.layout, root / "seed.xlsx", budget=seed)
    spec, doc = _clean_doc()
    clean = budget_from_document(doc, spec)
    write_workbook(clean.layout, root / "clean.xlsx", budget=clean)
    make_template(generic_spec("空白单位", 2025, 3), root / "blank.xlsx")
    return {p.stem: p for p in root.iterdir()}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _one_line_error(result, *words: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith(("错误：", "error: "))]
    assert len(errors) == 1, result.output
    for w in words:
        assert w in errors[0], result.output


def _snapshot(p: Path) -> tuple[bytes, int]:
    return p.read_bytes(), p.stat().st_mtime_ns


# --- 1. unwritable outputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["proc", "under-a-file"])
@pytest.mark.parametrize("command", ["check", "check-json", "check-xlsx", "read", "annotate", "template", "build",
                                     "demo"])
def test_unwritable_output_is_one_line_and_exit_2(runner, books, tmp_path, where, command):
    target = Path("/proc/xlbudget-test") if where == "proc" else books["clean"] / "sub"
    if where == "proc" and not Path("/proc").is_dir():  # pragma: no cover - Linux only
        target = books["clean"] / "sub"
    src = str(books["clean"])
    args = {
        "check": ["check", src, "-o", str(target / "r.txt")],
        "check-json": ["check", src, "--format", "json", "-o", str(target / "r.json")],
        "check-xlsx": ["check", src, "--format", "xlsx", "-o", str(target / "r.xlsx")],
        "read": ["read", src, "-o", str(target / "r.json")],
        "annotate": ["check", src, "--annotate", str(target / "marked")],
        "template": ["template", "-o", str(target / "t.xlsx")],
        "build": ["build", src, "-o", str(target / "d.xlsx")],
        "demo": ["demo", str(target / "demo")],
    }[command]
    before = _snapshot(books["clean"])
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    _one_line_error(result, str(target))
    assert _snapshot(books["clean"]) == before


# --- 2. an output is never an input, nor another output --------------------------------------------------
def _other_paths(tmp_path: Path, book: Path) -> dict[str, Path]:
    local = tmp_path / "a" / "in.xlsx"
    local.parent.mkdir()
    local.write_bytes(book.read_bytes())
    link = tmp_path / "link.xlsx"
    link.symlink_to(local)
    hard = tmp_path / "hard.xlsx"
    os.link(local, hard)
    return {"same": local, "symlink": link, "hardlink": hard, "dotdot": tmp_path / "a" / ".." / "a" / "in.xlsx",
            "input": local}


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotdot"])
@pytest.mark.parametrize("command", ["check", "read", "build", "template-like"])
def test_output_naming_an_input_is_refused(runner, books, tmp_path, how, command):
    paths = _other_paths(tmp_path, books["clean"])
    src, out = paths["input"], paths[how]
    args = {
        "check": ["check", str(src), "--format", "xlsx", "-o", str(out)],
        "read": ["read", str(src), "-o", str(out)],
        "build": ["build", str(src), "-o", str(out), "--force"],
        "template-like": ["template", "--like", str(src), "-o", str(out)],
    }[command]
    before = _snapshot(src)
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    _one_line_error(result, "输入")
    assert _snapshot(src) == before


def test_build_refuses_two_outputs_that_are_one_file(runner, books, tmp_path):
    out = tmp_path / "d.xlsx"
    (tmp_path / "d.pdf").symlink_to(out)                          # another name for the same (future) file
    result = runner.invoke(cli, ["build", str(books["clean"]), "-o", str(out), "--pdf", str(tmp_path / "d.pdf")])
    assert result.exit_code == 2
    _one_line_error(result, "同一个文件")
    assert not out.exists()


def test_build_refuses_a_pdf_named_like_the_workbook(runner, books, tmp_path):
    out = tmp_path / "d.xlsx"
    result = runner.invoke(cli, ["build", str(books["clean"]), "-o", str(out), "--pdf", str(out)])
    assert result.exit_code == 2
    assert not out.exists()


# --- 3. outputs take the user's umask --------------------------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_outputs_are_readable_by_the_group(runner, books, tmp_path, mask):
    old = os.umask(mask)
    try:
        outs = {
            "template": (["template", "-o", str(tmp_path / "t.xlsx")], tmp_path / "t.xlsx"),
            "read": (["read", str(books["clean"]), "-o", str(tmp_path / "r.json")], tmp_path / "r.json"),
            "check": (["check", str(books["clean"]), "--format", "xlsx", "-o", str(tmp_path / "c.xlsx")],
                      tmp_path / "c.xlsx"),
            "build": (["build", str(books["clean"]), "-o", str(tmp_path / "d.xlsx"), "--datapackage",
                       str(tmp_path / "dp")], tmp_path / "dp" / "expenditure.csv"),
        }
        for name, (args, path) in outs.items():
            result = runner.invoke(cli, args)
            assert result.exit_code == 0, (name, result.output)
            assert path.stat().st_mode & 0o777 == 0o666 & ~mask, name
        assert (tmp_path / "dp").stat().st_mode & 0o777 == 0o777 & ~mask
    finally:
        os.umask(old)


# --- 4. workers die with the command; temporary files are never checked ----------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_sigkill_takes_the_pool_workers_with_it(books, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        (folder / f"s{i:02d}.xlsx").write_bytes(books["seed"].read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "xlbudget", "check", str(folder), "--jobs", "2", "--format",
                             "json", "-o", str(tmp_path / "r.json")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the pool did not start"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "pool workers outlived the killed command"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_temporary_outputs_are_hidden_and_never_checked(runner, books, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "clean.xlsx").write_bytes(books["clean"].read_bytes())
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(folder / "report.xlsx") as tmp:
            Path(tmp).write_bytes(books["clean"].read_bytes())
            assert Path(tmp).name.startswith(TEMP_PREFIX) and Path(tmp).suffix == ".tmp"
            raise KeyboardInterrupt
    assert sorted(p.name for p in folder.iterdir()) == ["clean.xlsx"]       # removed on failure
    # what a SIGKILL in the middle of a write leaves behind (a file, or a LibreOffice staging folder)
    (folder / ".xlbudget-k3j2.tmp").write_bytes(books["seed"].read_bytes())
    (folder / ".xlbudget-old.xlsx").write_bytes(books["seed"].read_bytes())
    (folder / ".xlbudget-lo-x").mkdir()
    (folder / ".xlbudget-lo-x" / "seed.xlsx").write_bytes(books["seed"].read_bytes())
    result = runner.invoke(cli, ["check", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [f["name"] for f in json.loads(result.output)["files"]] == ["clean.xlsx"]


def test_temporary_names_are_new_private_files(tmp_path, monkeypatch):
    """The temporary file an output is written to (outputs._mkstemp, tempfile.mkstemp's contract): created
    exclusively, readable by its owner only until the output takes the user's mode, a new name every time,
    an absolute path; an existing file of that name is never opened."""
    made = []
    for _ in range(50):
        fd, name = _mkstemp(TEMP_PREFIX, ".pdf.tmp", str(tmp_path))
        os.close(fd)
        made.append(name)
    assert len(set(made)) == 50
    for name in made:
        p = Path(name)
        assert p.is_absolute() and p.parent == tmp_path
        assert p.name.startswith(TEMP_PREFIX) and p.name.endswith(".pdf.tmp") and is_temporary(p)
        assert stat.S_IMODE(p.stat().st_mode) == 0o600 and p.stat().st_size == 0
    # a name already taken is passed over, its file left as it was; with every name taken, no file is made
    draws = iter([b"\0" * 8, b"\1" * 8])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    taken = tmp_path / f"{TEMP_PREFIX}{'00' * 8}.tmp"
    taken.write_bytes(b"keep")
    fd, name = _mkstemp(TEMP_PREFIX, ".tmp", str(tmp_path))
    os.close(fd)
    assert Path(name).name == f"{TEMP_PREFIX}{'01' * 8}.tmp" and taken.read_bytes() == b"keep"
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * 8)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(FileExistsError):
        _mkstemp(TEMP_PREFIX, ".tmp", str(tmp_path))
    assert sorted(tmp_path.iterdir()) == before and taken.read_bytes() == b"keep"


# --- 5. strings in formulas, formula-like text in CSV ----------------------------------------------------
def _note_formulas(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: c.value for ws in wb for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=IF(") and "为空表" in c.value}


@pytest.mark.parametrize("how", ["spec", "option"])
def test_department_name_stays_text_in_the_template_formulas(runner, tmp_path, how):
    out = tmp_path / "t.xlsx"
    if how == "spec":
        spec = tmp_path / "evil.toml"
        spec.write_text("tableset = \"xj11\"\n[department]\nname = '" + EVIL + "'\nyear = 2025\n"
                        "[codes]\nfunctions = [\"2014101\"]\neconomic = [\"30101\"]\n", encoding="utf-8")
        result = runner.invoke(cli, ["template", str(spec), "-o", str(out)])
    else:
        result = runner.invoke(cli, ["template", "--department", EVIL, "-o", str(out)])
    assert result.exit_code == 0, result.output
    notes = _note_formulas(out)
    assert len(notes) >= 3                                         # 表8, 表9, 表11
    for sheet, formula in notes.items():
        tokens = Tokenizer(formula).items
        functions = [t.value for t in tokens if t.type == "FUNC" and t.subtype == "OPEN"]
        assert functions[0] == "IF(" and set(functions) <= {"IF(", "ABS(", "ROUND("}, (sheet, formula)  # no HYPERLINK
        texts = [t.value for t in tokens if t.type == "OPERAND" and t.subtype == "TEXT"]
        assert texts[0].startswith('"' + EVIL.replace('"', '""')), (sheet, formula)


def test_long_string_literals_are_split_for_excel():
    from xlbudget.writer.excel import text

    lit = text("甲" * 600)
    parts = lit.split("&")
    assert len(parts) == 3 and all(len(p) <= 257 for p in parts)
    assert text('a"b') == '"a""b"'


@pytest.mark.libreoffice
def test_libreoffice_shows_the_department_name_as_text(soffice, tmp_path):
    from xlbudget import libreoffice as lo

    out = tmp_path / "t.xlsx"
    assert CliRunner().invoke(cli, ["template", "--department", EVIL, "-o", str(out)]).exit_code == 0
    recalculated = lo.convert(out, tmp_path / "lo", "xlsx", recalc=True)
    values = openpyxl.load_workbook(recalculated, data_only=True)
    formulas = _note_formulas(out)
    for sheet in formulas:
        ws = values[sheet]
        shown = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)
                 and c.value.startswith(EVIL)]
        assert shown and "为空表" in shown[0], sheet                  # the note, with the name as plain text


def test_datapackage_text_cells_never_start_a_formula(tmp_path):
    from xlbudget.datapackage import write_datapackage

    spec, doc = _clean_doc(department="=HYPERLINK(\"http://evil.example\",\"x\")")
    budget = budget_from_document(doc, spec)

    write_datapackage(budget, tmp_path / "dp")
    with open(tmp_path / "dp" / "expenditure.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for r in rows:
        assert r["department"] == "'" + spec.department
        for k, v in r.items():
            if k != "amount":
                assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), (k, v)
        D(r["amount"])                                             # numbers are left as numbers


def test_read_csv_text_cells_never_start_a_formula(runner, tmp_path):
    spec, doc = _clean_doc()
    key = spec.projects[0].key
    projects = tuple(msgspec.structs.replace(p, name="=1+2 " + p.name) if p.key == key else p for p in spec.projects)
    spec = msgspec.structs.replace(spec, projects=projects)
    doc["spec"] = spec.to_dict()
    b = budget_from_document(doc, spec)
    book = tmp_path / "p.xlsx"
    write_workbook(b.layout, book, budget=b)
    result = runner.invoke(cli, ["read", str(book), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    named = [r for r in rows if "=1+2" in r["project"]]
    assert named and all(r["project"].startswith("'=1+2") for r in named)
    assert all(not r["value"].startswith("'") for r in rows)


# --- 6. duplicate submissions ----------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["twice", "symlink", "copy", "same-unit"])
def test_build_refuses_two_copies_of_one_submission(runner, books, tmp_path, how):
    a = books["clean"]
    if how == "twice":
        b = a
    elif how == "symlink":
        b = tmp_path / "link.xlsx"
        b.symlink_to(a)
    elif how == "copy":
        b = tmp_path / "copy.xlsx"
        b.write_bytes(a.read_bytes())
    else:
        spec, doc = _clean_doc(bump=D("1.00"))
        other = budget_from_document(doc, spec)
        b = tmp_path / "v2.xlsx"
        write_workbook(other.layout, b, budget=other)
    out = tmp_path / "d.xlsx"
    result = runner.invoke(cli, ["build", str(a), str(b), "-o", str(out), "--force"])
    assert result.exit_code == 1, result.output
    _one_line_error(result, "加两次")
    assert not out.exists()


# --- 7. template options -----------------------------------------------------------------------------------
def test_template_like_honours_year_and_department(runner, books, tmp_path):
    from xlbudget.reader import read_workbook

    out = tmp_path / "2027.xlsx"
    result = runner.invoke(cli, ["template", "--like", str(books["clean"]), "--year", "2027",
                                 "--department", "新名称局", "-o", str(out)])
    assert result.exit_code == 0, result.output
    spec = read_workbook(out).budget.spec
    assert (spec.year, spec.department) == (2027, "新名称局")
    default = tmp_path / "next.xlsx"
    assert runner.invoke(cli, ["template", "--like", str(books["clean"]), "-o", str(default)]).exit_code == 0
    assert read_workbook(default).budget.spec.year == 2026


@pytest.mark.parametrize("args, words", [
    (["--like", "{clean}", "--year", "2025"], "晚于"),
    (["{spec}", "--like", "{clean}"], "--like"),
    (["{spec}", "--year", "2026"], "--year"),
    (["--like", "{clean}", "--spare-rows", "5"], "--spare-rows"),
    (["--spare-rows", "-5"], "不在范围"),
    (["--spare-rows", "0"], "不在范围"),
    (["--year", "1999"], "不在范围"),
    (["--year", "abc"], "不是有效的整数"),
])
def test_template_refuses_what_it_would_ignore(runner, books, tmp_path, args, words):
    spec = tmp_path / "s.toml"
    spec.write_text('tableset = "xj11"\n[department]\nname = "某局"\nyear = 2025\n', encoding="utf-8")
    out = tmp_path / "t.xlsx"
    args = [a.format(clean=books["clean"], spec=spec) for a in args]
    result = runner.invoke(cli, ["template", *args, "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Error" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("name", ["t.csv", "t.json", "t.xls", "t"])
def test_template_refuses_a_wrong_extension(runner, tmp_path, name):
    result = runner.invoke(cli, ["template", "-o", str(tmp_path / name)])
    assert result.exit_code == 2
    _one_line_error(result, ".xlsx")
    assert not (tmp_path / name).exists()


def test_report_extension_must_fit_the_format(runner, books, tmp_path):
    r = runner.invoke(cli, ["check", str(books["clean"]), "--format", "xlsx", "-o", str(tmp_path / "r.json")])
    assert r.exit_code == 2 and not (tmp_path / "r.json").exists()
    r = runner.invoke(cli, ["read", str(books["clean"]), "-o", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 2 and not (tmp_path / "r.xlsx").exists()


# --- 8. unfilled templates ---------------------------------------------------------------------------------
def test_unfilled_template_fails_check_and_build(runner, books, tmp_path):
    result = runner.invoke(cli, ["check", str(books["blank"]), "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.output)["files"][0]["findings"]
    assert [(f["rule"], f["severity"]) for f in findings if f["severity"] == "error"] == [("FILE.empty", "error")]
    out = tmp_path / "d.xlsx"
    result = runner.invoke(cli, ["build", str(books["blank"]), "-o", str(out)])
    assert result.exit_code == 1 and "FILE.empty" in result.output and not out.exists()
    assert runner.invoke(cli, ["check", str(books["clean"])]).exit_code == 0     # a filled one still passes


# --- 9. other spreadsheet formats in a folder ----------------------------------------------------------------
def test_folder_check_reports_other_spreadsheets_as_when_named(runner, books, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "clean.xlsx").write_bytes(books["clean"].read_bytes())
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (folder / "calc.ods").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    (folder / "list.csv").write_text("科目编码,金额\n2014101,1\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a spreadsheet", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(folder), "--format", "json"])
    assert result.exit_code == 1
    files = {f["name"]: f for f in json.loads(result.output)["files"]}
    assert sorted(files) == ["calc.ods", "clean.xlsx", "list.csv", "old.xls"]
    for name in ("calc.ods", "list.csv", "old.xls"):
        assert files[name]["status"] == "unreadable"
        alone = json.loads(runner.invoke(cli, ["check", str(folder / name), "--format", "json"]).output)
        assert files[name]["findings"][0]["message"] == alone["files"][0]["findings"][0]["message"]


# --- 10. annotated copies of .xlsm and of files openpyxl cannot open -------------------------------------
def _as_xlsm(src: Path, dest: Path, break_core: bool = False) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml", b"PLACEHOLDER")
                data = data.replace(b"application/vnd.openxmlformats-officedocument.PLACEHOLDER",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                data = data.replace(b"</Types>", b'<Default Extension="bin" '
                                    b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.'
                                    b'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                    b"</Relationships>")
            elif info.filename == "docProps/core.xml" and break_core:
                data = b'<cp:coreProperties xmlns:cp="x"><dcterms:created>broken'
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    return dest


def test_annotate_writes_a_macro_free_copy_of_an_xlsm_and_says_what_it_skipped(runner, books, tmp_path):
    good = _as_xlsm(books["seed"], tmp_path / "宏.xlsm")
    bad = _as_xlsm(books["seed"], tmp_path / "坏.xlsm", break_core=True)
    marked = tmp_path / "marked"
    result = runner.invoke(cli, ["check", str(good), str(bad), "--annotate", str(marked)])
    assert result.exit_code == 1
    written = sorted(p.name for p in marked.iterdir())
    assert written == ["宏.checked.xlsx"]
    assert f"已写出 {len(written)} 个标注副本" in result.output
    assert "未写标注副本" in result.output and "坏.xlsm" in result.output
    with zipfile.ZipFile(marked / "宏.checked.xlsx") as z:
        assert not any("vba" in n.lower() for n in z.namelist())
        assert b"macroEnabled" not in z.read("[Content_Types].xml")


# --- 12. exit codes, documented --------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["template"], ["read"], ["check"], ["build"], ["demo"]])
def test_every_help_documents_the_exit_codes(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "退出码" in result.output and all(f"  {c}  " in result.output for c in "012")


def test_exit_codes_follow_the_convention(runner, books, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert runner.invoke(cli, ["check", str(books["clean"])]).exit_code == 0
    assert runner.invoke(cli, ["check", str(books["seed"])]).exit_code == 1          # errors found
    assert runner.invoke(cli, ["check", str(broken)]).exit_code == 1                 # a submission unreadable
    assert runner.invoke(cli, ["build", str(broken), "-o", str(tmp_path / "d.xlsx")]).exit_code == 1
    assert runner.invoke(cli, ["build", str(books["seed"]), "-o", str(tmp_path / "d.xlsx")]).exit_code == 1
    assert runner.invoke(cli, ["read", str(broken)]).exit_code == 2                  # nothing to output
    assert runner.invoke(cli, ["check", str(books["clean"]), "--jobs", "0"]).exit_code == 2
    assert runner.invoke(cli, ["check", str(tmp_path / "nope.xlsx")]).exit_code == 2


# --- 13. python -m xlbudget, NO_COLOR ------------------------------------------------------------------------
def test_python_dash_m(books):
    res = subprocess.run([sys.executable, "-m", "xlbudget", "check", str(books["clean"])], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0 and "通过" in res.stdout, res.stderr
    res = subprocess.run([sys.executable, "-m", "xlbudget", "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "用法" in res.stdout


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "xlbudget", *args], stdout=slave, stderr=subprocess.DEVNULL,
                                env={**os.environ, **env})
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
    finally:
        os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_color_is_honoured_on_a_terminal(books):
    plain = _on_a_terminal(["check", str(books["seed"])], {"NO_COLOR": "1"})
    assert "[错误]" in plain and "\x1b[" not in plain
    coloured = _on_a_terminal(["check", str(books["seed"])], {"NO_COLOR": ""})
    assert "\x1b[" in coloured


def test_an_output_that_is_a_fifo_or_a_device_is_written_through_not_replaced(runner, books, tmp_path):
    """``-o /dev/null`` or a named pipe: the report goes through it; the special file stays what it was (an
    atomic rename over it would put a regular file in the place of /dev/null when run as root)."""
    import stat
    import threading

    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(cli, ["check", str(books["clean"]), "--format", "json", "-o", str(fifo)])
    reader.join(10)
    assert result.exit_code in (0, 1), result.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and json.loads(got[0].decode("utf-8"))["files"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
