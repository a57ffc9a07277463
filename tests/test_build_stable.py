"""The built disclosure stays the same, cell by cell, whatever is done to make ``build`` fast.

Two builds of the stable submissions (``tests/data/stable``, written by the benchmark generator): three
clean departments, and three departments of which two carry errors (the mutated copies of
``test_findings_stable``), forced and so stamped unverified; each read in this process and in workers.
Each build is dumped as text: every sheet's name, merged ranges, column widths, row heights, print setup,
and every cell's value, formula, cached value, number format, font, alignment, border and fill; then the
build's summary, notes and findings, and the Fiscal Data Package written beside it.
The golden dumps were written by the code before the speed work; regenerate them only for an intended
change of the disclosure: ``XLBUDGET_REGEN_GOLDEN=1 python -m pytest tests/test_build_stable.py``.
"""

from __future__ import annotations

import datetime as dt
import lzma
from pathlib import Path

import openpyxl
import pytest

from golden import assert_golden
from xlbudget.build import build, summary_lines

from test_findings_stable import DATA, MUTATIONS, mutate

GOLDEN = Path(__file__).parent / "data" / "builds"

CASES = {  # name -> (inputs, build options)
    "three-units": (["small-1.xlsx", "small-2.xlsx", "small-5.xlsx"], {}),
    "forced": (["small-5.xlsx", "m1-inputs.xlsx", "m2-formulas.xlsx"],
               {"force": True, "name": "测试汇总部门", "zero_last_year": "na"}),
}


def _colour(c) -> str:
    if c is None:
        return ""
    return c.rgb if isinstance(c.rgb, str) else f"theme{c.theme}"


def _style(c) -> str:
    f, a, b, fill = c.font, c.alignment, c.border, c.fill
    font = f"{f.name}/{f.sz}/{'b' if f.b else ''}{'i' if f.i else ''}{'u' if f.u else ''}/{_colour(f.color)}"
    align = f"{a.horizontal}/{a.vertical}/{'w' if a.wrap_text else ''}/{a.indent or 0}"
    border = "/".join(str(getattr(b, s).style) for s in ("left", "right", "top", "bottom"))
    colour = _colour(fill.fgColor) if fill is not None and fill.fill_type else ""
    return f"{c.number_format}|{font}|{align}|{border}|{fill.fill_type}:{colour}|{c.protection.locked}"


def _undated(value, days):
    """A cover's generation date (the day of the build: a document without a publication date) as the day
    it is, so that the dump is the same on any day; it is checked to be one of ``days``, the day the build
    began or the day it is now."""
    if isinstance(value, str) and value.startswith("生成日期："):
        assert value in {f"生成日期：{d:%Y 年 %m 月 %d 日}" for d in days}, value
        return "生成日期：<今天>"
    return value


def dump_workbook(path: Path, began: dt.date | None = None) -> list[str]:
    days = {began or dt.date.today(), dt.date.today()}
    wb = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    out = [f"sheets {wb.sheetnames}"]
    for ws in wb.worksheets:
        cv = cached[ws.title]
        out.append(f"== {ws.title} state={ws.sheet_state}")
        out.append(f"merged {sorted(str(r) for r in ws.merged_cells.ranges)}")
        out.append("cols " + " ".join(f"{k}:{d.width}" for k, d in sorted(ws.column_dimensions.items())
                                      if d.width))
        out.append("rows " + " ".join(f"{k}:{d.height}" for k, d in sorted(ws.row_dimensions.items())
                                      if d.height))
        ps = ws.page_setup
        out.append(f"page {ps.orientation} {ps.paperSize} fit={getattr(ws.sheet_properties.pageSetUpPr, 'fitToPage', None)}"
                   f" {ps.fitToWidth}x{ps.fitToHeight} titles={ws.print_title_rows} area={ws.print_area}"
                   f" freeze={ws.freeze_panes} header={ws.oddHeader.center.text!r} footer={ws.oddFooter.center.text!r}")
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                v = _undated(c.value, days)
                extra = f" = {cv[c.coordinate].value!r}" if isinstance(v, str) and v.startswith("=") else ""
                out.append(f"{c.coordinate} {v!r}{extra} {_style(c)}")
    return out


def dump_build(tmp: Path, case: str, jobs: int = 1) -> str:
    names, options = CASES[case]
    paths = []
    for n in names:
        if n in MUTATIONS:
            base, edits = MUTATIONS[n]
            mutate(DATA / base, tmp / n, edits)
            paths.append(tmp / n)
        else:
            paths.append(DATA / n)
    out = tmp / f"{case}.xlsx"
    began = dt.date.today()
    result = build(paths, out, datapackage=tmp / f"{case}-data", jobs=jobs, **options)
    lines = [f"# {case}", *summary_lines(result), *(f"note {n}" for n in result.notes),
             f"verified {result.verified}"]
    for r in result.reports:
        for f in r.findings:
            lines.append(f"[{r.label}] {f.rule} {f.severity.value} {f.table} {list(f.cells)} {f.message()}")
    lines += dump_workbook(out, began)
    for p in sorted((tmp / f"{case}-data").iterdir()):
        text = p.read_text(encoding="utf-8")
        lines.append(f"== {p.name}")
        lines += [ln for ln in text.splitlines() if "created_by" not in ln]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_build_identical_to_golden(tmp_path, monkeypatch, case, jobs):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path / "home"))
    got = dump_build(tmp_path, case, jobs)
    assert_golden(got, GOLDEN / f"{case}.txt.xz", f"the {case} build")


def test_golden_builds_are_worth_comparing():
    """The goldens hold per-project 绩效 sheets, merges, formulas with values, errors and the unverified stamp."""
    three = lzma.decompress((GOLDEN / "three-units.txt.xz").read_bytes()).decode("utf-8")
    forced = lzma.decompress((GOLDEN / "forced.txt.xz").read_bytes()).decode("utf-8")
    assert "verified True" in three and "verified False" in forced
    assert three.count("== 项目绩效") >= 10
    assert "'=SUM(" in three and "merged ['A1:" in three
    assert "未经校验" in forced and " error " in forced
    assert "== expenditure.csv" in three


def test_disclosure_workbook_still_refuses_a_sheet_name_twice(tmp_path):
    """Sheet names are checked against a set of the names taken: a repeat (case ignored) is still refused,
    and so are the names XlsxWriter refuses for other reasons."""
    from xlsxwriter.exceptions import DuplicateWorksheetName, InvalidWorksheetName

    from xlbudget.writer.disclosure import _Workbook

    wb = _Workbook(str(tmp_path / "x.xlsx"))
    wb.add_worksheet("项目绩效1")
    wb.add_worksheet("Ab")
    with pytest.raises(DuplicateWorksheetName):
        wb.add_worksheet("aB")
    with pytest.raises(InvalidWorksheetName):
        wb.add_worksheet("a/b")
    wb.add_worksheet("项目绩效2")
    assert [ws.name for ws in wb.worksheets()] == ["项目绩效1", "Ab", "项目绩效2"]
    wb.close()


def test_the_same_file_given_twice_is_found_by_path_or_inode(tmp_path):
    """Each input's identity is taken once: the first repeat and the earliest path it repeats are named,
    whether the repeat is a symlink, a hard link or another spelling of the path."""
    import os

    from xlbudget.build import BuildError
    from xlbudget.outputs import first_same_files

    a, b, c = (tmp_path / n for n in ("a.xlsx", "b.xlsx", "c.xlsx"))
    for p in (a, b, c):
        p.write_bytes(p.name.encode())
    (tmp_path / "sub").mkdir()
    os.symlink(b, tmp_path / "link-b.xlsx")
    os.link(c, tmp_path / "hard-c.xlsx")
    assert first_same_files([a, b, c]) is None
    assert first_same_files([a, b, c, tmp_path / "link-b.xlsx"]) == (3, 1)
    assert first_same_files([a, tmp_path / "hard-c.xlsx", b, c]) == (3, 1)
    assert first_same_files([a, b, tmp_path / "sub" / ".." / "a.xlsx"]) == (2, 0)
    assert first_same_files([tmp_path / "missing.xlsx", a, tmp_path / "missing.xlsx"]) == (2, 0)
    with pytest.raises(BuildError, match="同一个文件"):
        build([a, b, tmp_path / "link-b.xlsx"], tmp_path / "out.xlsx")
