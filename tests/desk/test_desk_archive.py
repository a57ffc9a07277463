"""The desk against SQLite and PostgreSQL: submit, check, file, see, compare, download, archive, restart."""

from __future__ import annotations

import io
import json
import time
import zipfile

import openpyxl
import pytest

from xlbudget.check import check_file
from xlbudget.report import Report

from deskdata import DEPARTMENT, OTHER


def _row(overview: dict, department: str) -> dict:
    return next(r for r in overview["departments"] if r["department"] == department)


def test_submit_check_and_file(make_desk, db_url, books):
    desk = make_desk(db_url)
    batch = desk.upload(books["filled"], books["broken"], books["other"])
    assert batch["accepted"] == 3 and batch["stored"] == 3
    progress = desk.wait(batch)
    assert progress == {**progress, "total": 3, "done": 3, "finished": True}
    ov = desk.overview()
    assert _row(ov, DEPARTMENT)["status"] == "errors" and _row(ov, DEPARTMENT)["year"] == 2025
    assert _row(ov, OTHER)["status"] == "ok" and _row(ov, OTHER)["errors"] == 0
    assert [u["status"] for u in ov["unfiled"]] == ["unreadable"]    # one bad file stopped nothing
    sub = desk.client.get(f"/api/submissions/{_row(ov, DEPARTMENT)['latest']}").json()
    s1 = [f for f in sub["report"]["findings"] if f["rule"] == "S1"]
    assert s1 and s1[0]["position"] == "表10!B11" and s1[0]["expected"] == "18.00" and s1[0]["actual"] == "0.00"
    # the same findings as the command line's library call
    cli = check_file(books["filled"]).to_dict()
    assert [(f["rule"], f["cells"], f["message"]) for f in sub["report"]["findings"]] == \
        [(f["rule"], f["cells"], f["message"]) for f in cli["findings"]]
    page = desk.client.get("/")
    assert page.status_code == 200 and "有错误" in page.text and "通过" in page.text and "无法读取" in page.text


def test_same_file_twice_is_stored_once_and_served_from_the_archive(make_desk, db_url, books, tmp_path):
    desk = make_desk(db_url)
    first = desk.submit(books["filled"])
    second = desk.submit(books["filled"])
    assert first["stored"] == 1 and second["stored"] == 0
    assert len(list((tmp_path / "data" / "blobs").rglob("*.xlsx"))) == 1
    a = desk.client.get(f"/api/submissions/{first['submissions'][0]['id']}").json()
    b = desk.client.get(f"/api/submissions/{second['submissions'][0]['id']}").json()
    assert a["sha256"] == b["sha256"] and not a["from_archive"] and b["from_archive"]
    assert a["report"]["findings"] == b["report"]["findings"]
    assert _row(desk.overview(), DEPARTMENT)["versions"] == 2          # both uploads are kept as versions
    # an explicit re-check with unchanged rules is served from the archive as well
    r = desk.client.post(f"/submissions/{a['id']}/recheck", data={"csrf": desk.csrf}, follow_redirects=False)
    assert r.status_code == 303
    for _ in range(100):
        again = desk.client.get(f"/api/submissions/{a['id']}").json()
        if again["state"] == "done":
            break
        time.sleep(0.05)
    assert again["from_archive"] and again["report"]["findings"] == a["report"]["findings"]
    # so is the re-check of a file uploaded once
    only = desk.submit(books["other"])["submissions"][0]["id"]
    desk.client.post(f"/submissions/{only}/recheck", data={"csrf": desk.csrf})
    for _ in range(100):
        again = desk.client.get(f"/api/submissions/{only}").json()
        if again["state"] == "done":
            break
        time.sleep(0.05)
    assert again["from_archive"] and again["status"] == "ok"


def test_restart_keeps_everything(make_desk, db_url, books):
    desk = make_desk(db_url)
    desk.submit(books["filled"], books["other"])
    before = desk.overview()
    sid = _row(before, DEPARTMENT)["latest"]
    report = desk.client.get(f"/submissions/{sid}/download/report.json").content
    desk.close()
    again = make_desk(db_url)
    assert again.overview() == before
    assert again.client.get(f"/submissions/{sid}/download/report.json").content == report
    assert again.client.get(f"/submissions/{sid}/download/original").content == books["filled"].read_bytes()


def test_history_shows_fixed_and_new_findings(make_desk, db_url, books):
    desk = make_desk(db_url)
    desk.submit(books["filled"])
    desk.submit(books["corrected"])
    row = _row(desk.overview(), DEPARTMENT)
    assert row["status"] == "ok" and row["versions"] == 2
    page = desk.client.get("/department", params={"name": DEPARTMENT, "year": 2025})
    assert page.status_code == 200
    fixed = page.text.split('id="diff-fixed"')[1].split("</ul>")[0]
    assert "<code>S1</code>" in fixed and "<code>S2</code>" in fixed
    assert 'id="diff-new"' not in page.text                             # nothing new in the corrected version


def test_downloads(make_desk, books, tmp_path):
    desk = make_desk()
    batch = desk.submit(books["filled"])
    sid = batch["submissions"][0]["id"]
    annotated = desk.client.get(f"/submissions/{sid}/download/annotated")
    assert annotated.status_code == 200
    assert "filename*=UTF-8''filled.checked.xlsx" in annotated.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(annotated.content))
    assert wb.sheetnames[0] == "校验结果" and wb["表10"]["B11"].comment is not None
    xlsx = openpyxl.load_workbook(io.BytesIO(desk.client.get(f"/submissions/{sid}/download/report.xlsx").content))
    assert any("S1" in [c.value for c in row] for row in xlsx.worksheets[1].iter_rows())
    report = json.loads(desk.client.get(f"/submissions/{sid}/download/report.json").content)
    cli = Report(files=[check_file(books["filled"])]).to_dict()
    assert [f["rule"] for f in report["files"][0]["findings"]] == [f["rule"] for f in cli["files"][0]["findings"]]
    assert books["filled"].read_bytes() == (tmp_path / "data" / "blobs").joinpath(
        batch["submissions"][0]["sha256"][:2], batch["submissions"][0]["sha256"] + ".xlsx").read_bytes()


def test_submission_page_draws_the_table_with_the_cell_marked(make_desk, books):
    desk = make_desk()
    sid = desk.submit(books["filled"])["submissions"][0]["id"]
    html = desk.client.get(f"/submissions/{sid}").text
    assert 'data-rule="S1"' in html
    cell = html.split('id="cell-表10-B11"')[1].split(">")[0]
    assert "mark-error" in cell
    assert 'id="cell-表7-K14"' in html                                   # the other side of S1 is drawn too


def test_zip_and_folder_uploads(make_desk, books):
    desk = make_desk()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(books["filled"], "县/数字化发展局/filled.xlsx")
        zf.write(books["other"], "县/政务服务中心/other.xlsx")
        zf.writestr("县/说明.txt", "not a workbook")
    batch = desk.upload(("submissions.zip", buf.getvalue()), ("folder/sub/corrected.xlsx",
                                                              books["corrected"].read_bytes()))
    assert [s["name"] for s in batch["submissions"]] == ["submissions.zip/县/数字化发展局/filled.xlsx",
                                                         "submissions.zip/县/政务服务中心/other.xlsx",
                                                         "folder/sub/corrected.xlsx"]
    assert batch["skipped"] == ["submissions.zip/县/说明.txt"]
    desk.wait(batch)
    assert {r["department"] for r in desk.overview()["departments"]} == {DEPARTMENT, OTHER}


def test_expected_list_marks_missing_departments(make_desk, db_url, books):
    desk = make_desk(db_url)
    desk.submit(books["other"])
    r = desk.client.post("/expected", data={"csrf": desk.csrf, "names": f"{OTHER}\n某某县教育局\n"},
                         files={"file": ("list.csv", "某某县卫生健康委员会,备注\n".encode("utf-8"))},
                         follow_redirects=False)
    assert r.status_code == 303
    rows = {x["department"]: x["status"] for x in desk.overview()["departments"]}
    assert rows == {OTHER: "ok", "某某县教育局": "missing", "某某县卫生健康委员会": "missing"}
    page = desk.client.get("/", params={"status": "missing"}).text
    assert "未提交" in page and "某某县教育局" in page and OTHER not in page.split('id="overview"')[1]


def test_migrations_build_the_schema_of_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from xlbudget.desk.db import Base, make_engine, migrate

    engine = make_engine(db_url if not db_url.startswith("postgresql://") else
                         "postgresql+psycopg://" + db_url[len("postgresql://"):])
    migrate(engine)
    migrate(engine)                                                   # idempotent
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


@pytest.mark.libreoffice
def test_build_the_disclosure_from_chosen_submissions(make_desk, books, soffice, poppler):
    desk = make_desk()
    batch = desk.submit(books["corrected"], books["other"], books["filled"])
    ids = [s["id"] for s in batch["submissions"]]
    refused = desk.client.post("/build", data={"csrf": desk.csrf, "sid": [ids[2]], "name": "", "pdf": "1"})
    assert "未生成" in refused.text and "S1" in refused.text                 # errors block the build
    page = desk.client.post("/build", data={"csrf": desk.csrf, "sid": ids[:2], "name": "克州汇总", "pdf": "1"})
    assert "已生成" in page.text
    bid = page.text.split('href="/builds/')[1].split("/")[0]
    xlsx = desk.client.get(f"/builds/{bid}/xlsx")
    pdf = desk.client.get(f"/builds/{bid}/pdf")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    cover = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert any("克州汇总" in str(c.value) for row in cover.iter_rows() for c in row if c.value)


def test_a_pool_of_checking_processes_files_the_same_results(make_desk, books):
    desk = make_desk(jobs=2)
    batch = desk.submit(books["filled"], books["broken"], books["other"], timeout=120)
    ov = desk.overview()
    assert {r["department"]: r["status"] for r in ov["departments"]} == {DEPARTMENT: "errors", OTHER: "ok"}
    sub = desk.client.get(f"/api/submissions/{batch['submissions'][0]['id']}").json()
    assert sub["report"]["findings"] == Report(files=[check_file(books["filled"])]).to_dict()["files"][0]["findings"]
