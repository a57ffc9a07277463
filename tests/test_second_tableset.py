"""A second table set is a folder of data, not new code: a region that reports in 元 with ten tables."""

import dataclasses
import shutil
from pathlib import Path

import openpyxl

from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.reader import read_workbook
from xlbudget.tableset import load_tableset
from xlbudget.writer.template import write_workbook

XJ11 = Path(__file__).resolve().parents[1] / "templates" / "xj11"


def _yuan_set(tmp_path: Path) -> Path:
    """Install the set where installed table sets live ($XLBUDGET_HOME/tablesets/<id>)."""
    folder = tmp_path / "tablesets" / "yuan10"
    shutil.copytree(XJ11, folder)
    meta = folder / "tableset.toml"
    text = meta.read_text(encoding="utf-8")
    text = text.replace('id = "xj11"', 'id = "yuan10"').replace('unit = "万元"', 'unit = "元"')
    text = text.replace('"T10", "T11", "PD", "PP", "FA", "LY"]', '"T10"]').replace('rules = "rules.toml"\n', "")
    meta.write_text(text, encoding="utf-8")
    return folder


def test_a_table_set_in_yuan_with_ten_tables_is_written_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path))
    _yuan_set(tmp_path)
    ts = load_tableset("yuan10")
    assert ts.id == "yuan10" and ts.unit == "元" and ts.table_ids == [f"T{i}" for i in range(1, 11)]
    spec, doc = load_example()
    spec = dataclasses.replace(spec, tableset="yuan10")
    budget = budget_from_document({**doc, "spec": spec.to_dict()}, spec)
    layout = layout_for(spec)
    assert set(layout.tables) == {f"T{i}" for i in range(1, 11)}
    out = write_workbook(layout, tmp_path / "yuan.xlsx", budget)

    wb = openpyxl.load_workbook(out)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == [f"表{i}" for i in range(1, 11)] + ["校验"]
    assert any(c.value == "单位：元" for row in wb["表6"].iter_rows(max_row=3) for c in row)
    assert wb.custom_doc_props["xlbudget.tableset"].value == "yuan10"

    res = read_workbook(out)
    assert res.findings == []
    assert res.budget.layout.tableset.unit == "元"
    assert str(res.budget.published("T1", "in_total", "amount")) == "417.37"
    assert str(res.budget.published("T6", "301", "total")) == "180.43"
    assert "T11" not in res.budget.layout.tables
