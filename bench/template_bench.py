"""Template generation for a large department, against plain xlsxwriter writing the same cells.

    python bench/template_bench.py [--runs 5] [--functions 150] [--economic 60] [--projects 80] [--profile]

Times ``write_workbook`` for the blank and the filled template of a large department (150 功能分类 项,
60 经济分类 款, 80 projects by default): median of ``--runs`` runs after one warm-up, layout and budget built
beforehand. It also times the cold path (build the layout, bind the document, write) once per run.

Baseline, in the same run: plain xlsxwriter writing, sheet by sheet, a value at every position where the
filled template has a value (numbers where it has numbers or formulas, the same strings where it has
strings), with no formats, merges, validation or protection. Target: under 2 s per template.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import large_spec, machine, median_time, random_document, verdict  # noqa: E402

TARGET_S = 2.0

_SHEETS = re.compile(rb'<sheet [^>]*name="([^"]*)"[^>]*r:id="([^"]+)"')
_RELS = re.compile(rb'<Relationship [^>]*Id="([^"]+)"[^>]*Target="([^"]+)"')
_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*?)(/>|>(.*?)</c>)', re.S)
_SI = re.compile(rb"<si>(.*?)</si>", re.S)
_T = re.compile(rb"<t[^>]*>(.*?)</t>", re.S)


def cell_inventory(path: Path) -> tuple[list[tuple[str, list[tuple[int, int, object]]]], int]:
    """Per sheet, the cells that hold a value: (row, col, number-or-string); plus the count of cells that
    carry only a format (blank unlocked inputs and the like), which the baseline does not write."""
    import html

    z = zipfile.ZipFile(path)
    wbxml = z.read("xl/workbook.xml")
    rels = dict(_RELS.findall(z.read("xl/_rels/workbook.xml.rels")))
    try:
        sst = [html.unescape(b"".join(_T.findall(si)).decode()) for si in _SI.findall(z.read("xl/sharedStrings.xml"))]
    except KeyError:
        sst = []
    sheets = []
    blank = 0
    for name, rid in _SHEETS.findall(wbxml):
        target = rels[rid].decode().lstrip("/")
        part = target if target.startswith("xl/") else "xl/" + target
        cells: list[tuple[int, int, object]] = []
        for col, row, attrs, _, inner in _CELL.findall(z.read(part)):
            c = 0
            for ch in col.decode():
                c = c * 26 + ord(ch) - 64
            r, c = int(row) - 1, c - 1
            if not inner:
                blank += 1
                continue
            if b't="s"' in attrs:
                m = re.search(rb"<v>(\d+)</v>", inner)
                cells.append((r, c, sst[int(m.group(1))] if m else ""))
            elif b't="str"' in attrs or b't="inlineStr"' in attrs:
                m = _T.search(inner) or re.search(rb"<v>(.*?)</v>", inner, re.S)
                cells.append((r, c, html.unescape(m.group(1).decode()) if m else ""))
            else:
                m = re.search(rb"<v>(.*?)</v>", inner, re.S)
                try:
                    cells.append((r, c, float(m.group(1)) if m else 0.0))
                except ValueError:
                    cells.append((r, c, 0.0))
        sheets.append((html.unescape(name.decode()), cells))
    return sheets, blank


def baseline_write(sheets, out: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    for name, cells in sheets:
        ws = wb.add_worksheet(name)
        for r, c, v in cells:
            if isinstance(v, float):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, v)
    wb.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--functions", type=int, default=150)
    ap.add_argument("--economic", type=int, default=60)
    ap.add_argument("--projects", type=int, default=80)
    ap.add_argument("--profile", action="store_true",
                    help="print the cProfile hot spots of one filled write")
    a = ap.parse_args()

    t_import = time.perf_counter()
    from xlbudget.layout import Layout, layout_for
    from xlbudget.model import budget_from_document
    from xlbudget.writer.template import write_workbook
    t_import = time.perf_counter() - t_import

    spec = large_spec(a.functions, a.economic, a.projects)
    doc = random_document(spec, seed=1)
    layout = layout_for(spec)
    tmp = Path(tempfile.mkdtemp(prefix="xlbudget-bench-"))
    try:
        blank_out, filled_out, base_out = tmp / "blank.xlsx", tmp / "filled.xlsx", tmp / "baseline.xlsx"
        blank_s, blank_all = median_time(lambda: write_workbook(layout, blank_out), a.runs)
        # filled: a fresh Budget per run, so its memo of computed figures is not shared between runs
        filled_s, filled_all = median_time(
            lambda: write_workbook(layout, filled_out, budget_from_document(doc, spec)), a.runs)

        def cold() -> None:
            lay = Layout(spec)  # uncached: what the first template of a department costs
            from xlbudget.model import Budget, normalise_document

            write_workbook(lay, filled_out, Budget(lay, normalise_document(lay, doc)))

        cold_s, _ = median_time(cold, a.runs)
        layout_s, _ = median_time(lambda: Layout(spec), a.runs)
        sheets, blank_cells = cell_inventory(filled_out)
        n_cells = sum(len(c) for _, c in sheets)
        base_s, base_all = median_time(lambda: baseline_write(sheets, base_out), a.runs)

        print(f"machine: {machine()}; import of the writer: {t_import * 1000:.0f} ms")
        print(f"department: {len(spec.functions)} function 项, {len(spec.economic)} economic 款, "
              f"{len(spec.projects)} projects; {len(sheets)} sheets, {n_cells} cells with a value "
              f"(+{blank_cells} formatted blank cells); filled file {filled_out.stat().st_size // 1024} KB")
        print(f"median of {a.runs} runs (after 1 warm-up):")
        print(f"  blank template  write_workbook      {blank_s * 1000:8.0f} ms   "
              f"(min {min(blank_all) * 1000:.0f}, max {max(blank_all) * 1000:.0f})   {verdict(blank_s, TARGET_S)}")
        print(f"  filled template bind + write        {filled_s * 1000:8.0f} ms   "
              f"(min {min(filled_all) * 1000:.0f}, max {max(filled_all) * 1000:.0f})   {verdict(filled_s, TARGET_S)}")
        print(f"  filled, cold (new layout + bind + write) {cold_s * 1000:5.0f} ms   of which layout {layout_s * 1000:.0f} ms"
              f"   {verdict(cold_s, TARGET_S)}")
        print(f"  baseline: plain xlsxwriter, same {n_cells} values {base_s * 1000:5.0f} ms   "
              f"(min {min(base_all) * 1000:.0f}, max {max(base_all) * 1000:.0f})")
        print(f"ratio blank / baseline:  {blank_s / base_s:.2f}x")
        print(f"ratio filled / baseline: {filled_s / base_s:.2f}x")
        print(f"ratio cold / baseline:   {cold_s / base_s:.2f}x")

        if a.profile:
            import cProfile
            import pstats

            pr = cProfile.Profile()
            pr.enable()
            write_workbook(layout, filled_out, budget_from_document(doc, spec))
            pr.disable()
            st = pstats.Stats(pr)
            st.sort_stats("cumulative").print_stats(25)
            st.sort_stats("tottime").print_stats(20)
            total = st.total_tt  # type: ignore[attr-defined]
            rows = {f"{Path(k[0]).name}:{k[2]}": (v[1], v[3]) for k, v in st.stats.items()}  # type: ignore[attr-defined]
            print(f"focus (share of the profiled {total:.2f} s):")
            for name in ("workbook.py:close", "worksheet.py:_prepare_formula", "template.py:_prepare_formula",
                         "worksheet.py:_write_data_validations",
                         "worksheet.py:write_formula", "template.py:_write_table", "template.py:_write_row",
                         "template.py:_write_input", "template.py:_write_checks", "model.py:normalise_document"):
                if name in rows:
                    n, cum = rows[name]
                    print(f"  {name:42s} {n:7d} calls {cum:6.2f} s {100 * cum / total:5.1f} %")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
