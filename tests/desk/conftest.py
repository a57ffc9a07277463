"""Fixtures of the desk's tests: a desk on SQLite and on PostgreSQL, and the workbooks it is sent.

PostgreSQL comes from the system package, started by ``.ci/postgres`` (``.ci/run`` exports its URL as
``XLBUDGET_TEST_PG``; without the variable this file runs the same script). A missing PostgreSQL or
Chromium fails the tests, it does not skip them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from decimal import Decimal as D
from pathlib import Path

import msgspec.structs
import pytest

from xlbudget.demo import run_demo
from xlbudget.model import budget_from_document, load_example
from xlbudget.writer.template import write_workbook

from deskdata import OTHER

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path_factory.mktemp("xlbudget-home")))


# --- PostgreSQL --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server() -> str:
    url = os.environ.get("XLBUDGET_TEST_PG")
    if not url:
        try:
            url = subprocess.run(["bash", str(ROOT / ".ci" / "postgres")], check=True, capture_output=True,
                                 text=True, timeout=120).stdout.strip()
        except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired) as e:
            pytest.fail("PostgreSQL 不可用：请运行 bash .ci/run（安装并启动 postgresql），或设置 XLBUDGET_TEST_PG。"
                        f"({getattr(e, 'stderr', '') or e})", pytrace=False)
    return url


@pytest.fixture
def pg_url(pg_server):
    """A fresh database on the test cluster, dropped afterwards."""
    import psycopg

    name = "xlb_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    return request.getfixturevalue("pg_url")


# --- the desk ------------------------------------------------------------------------------------------------
class Desk:
    """A desk app under Starlette's test client; upload files, wait for their checks."""

    def __init__(self, cfg):
        from starlette.testclient import TestClient

        from xlbudget.desk import create_app

        self.cfg = cfg
        self.app = create_app(cfg)
        self.client = TestClient(self.app, base_url="http://127.0.0.1:8000")
        self.client.__enter__()
        self.client.get("/")                       # the CSRF cookie, as a browser gets it with the page

    @property
    def csrf(self) -> str:
        return self.client.cookies["xlbudget_csrf"]

    def upload(self, *files: Path | tuple[str, bytes], expect: int = 201):
        parts = []
        for f in files:
            name, data = (f.name, f.read_bytes()) if isinstance(f, Path) else f
            parts.append(("files", (name, data, "application/octet-stream")))
        r = self.client.post("/api/submissions", files=parts, headers={"X-CSRF-Token": self.csrf})
        assert r.status_code == expect, r.text
        return r.json()

    def wait(self, batch: dict, timeout: float = 60) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            p = self.client.get(batch["progress"]).json()
            if p["finished"]:
                return p
            time.sleep(0.1)
        raise AssertionError(f"checks not finished: {p}")

    def submit(self, *files, timeout: float = 60) -> dict:
        batch = self.upload(*files)
        self.wait(batch, timeout)
        return batch

    def overview(self) -> dict:
        return self.client.get("/api/overview").json()

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def make_desk(tmp_path):
    from xlbudget.desk import DeskConfig

    opened: list[Desk] = []

    def make(db_url: str | None = None, **kw) -> Desk:
        kw.setdefault("data_dir", tmp_path / "data")
        kw.setdefault("jobs", 1)
        d = Desk(DeskConfig(db_url=db_url or f"sqlite:///{tmp_path / 'desk.sqlite3'}", **kw))
        opened.append(d)
        return d

    yield make
    for d in opened:
        d.close()


# --- workbooks -----------------------------------------------------------------------------------------------
def _corrected_doc():
    """The example with the cause of S1 fixed: 表10 carries the vehicle purchase the projects budget."""
    spec, doc = load_example()
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"
    return spec, doc


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """What ``xlbudget demo`` writes (template.xlsx, filled.xlsx, disclosure.xlsx, …)."""
    out = tmp_path_factory.mktemp("demo")
    list(run_demo(out))
    return out


@pytest.fixture(scope="session")
def books(tmp_path_factory, demo_dir) -> dict[str, Path]:
    """filled (the demo's, S1 error), corrected (S1 fixed), other (a second department, clean),
    broken (not a workbook)."""
    folder = tmp_path_factory.mktemp("desk-books")
    shutil.copy(demo_dir / "filled.xlsx", folder / "filled.xlsx")
    spec, doc = _corrected_doc()
    fixed = budget_from_document(doc, spec)
    write_workbook(fixed.layout, folder / "corrected.xlsx", budget=fixed)
    other_spec = msgspec.structs.replace(spec, department=OTHER)
    other = budget_from_document({**doc, "spec": other_spec.to_dict()}, other_spec)
    write_workbook(other.layout, folder / "other.xlsx", budget=other)
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return {p.stem: p for p in folder.glob("*.xlsx")}


# Workbooks in an official layout (not made from our template), one per installed table set, as a bureau
# receives them: (file, department, status the overview must show).
OFFICIAL = (("xj11", "handmade", "克孜勒苏柯尔克孜自治州数据局", "有错误"),   # the seed's S1, in another department
            ("sh-budget", "sheets", "普陀区城市管理行政执法局", "通过"),
            ("sh-final", "onesheet", "中共上海市普陀区委社会工作部", "通过"))


@pytest.fixture(scope="session")
def official_books(tmp_path_factory) -> list[tuple[Path, str, str]]:

    from officialgen import write_official

    from xlbudget.model import budget_from_document, load_example

    folder = tmp_path_factory.mktemp("desk-official")
    out = []
    for ts, arrangement, department, status in OFFICIAL:
        spec, doc = load_example(ts)
        spec = msgspec.structs.replace(spec, department=department)
        budget = budget_from_document({**doc, "spec": spec.to_dict()}, spec)
        out.append((write_official(budget, folder / f"{ts}-{arrangement}.xlsx", arrangement), department, status))
    return out
