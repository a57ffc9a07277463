"""The clerk's round trip in a real browser (headless system Chromium driven by Playwright).

Uploads the demo's files (plus a second department, a broken file and the official-format workbooks of
``OFFICIAL_FORMAT_WORKBOOKS``), waits for the checks, opens the submission with the S1 error, sees its
highlighted cell, downloads the report, uploads a corrected version and sees the department turn 通过;
restarts the server and finds everything again. A screenshot of each page goes to the artifacts folder
(``XLBUDGET_TEST_ARTIFACTS``, else a temporary folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl
import pytest

from deskdata import DEPARTMENT, OFFICIAL_FORMAT_WORKBOOKS, OTHER

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("缺少 Chromium：请运行 bash .ci/run（会安装系统包 chromium）。", pytrace=False)
    return path


@pytest.fixture
def artifacts(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("XLBUDGET_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Server:
    """``xlbudget serve`` in a child process on a free loopback port."""

    def __init__(self, db: str, data: Path, home: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "xlbudget.cli", "serve", "--db", db, "--data", str(data),
                     "--port", str(self.port), "--jobs", "1"]
        self.env = {**os.environ, "XLBUDGET_HOME": str(home)}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(self.proc.stderr.read().decode())
                time.sleep(0.1)
        raise AssertionError("the desk did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def test_clerk_round_trip(chromium, artifacts, demo_dir, books, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    server = Server(f"sqlite:///{tmp_path / 'desk.sqlite3'}", tmp_path / "data", tmp_path / "home")
    server.start()
    demo_files = [demo_dir / n for n in ("template.xlsx", "disclosure.xlsx", "filled.xlsx")]
    first = demo_files + [books["other"], books["broken"], *OFFICIAL_FORMAT_WORKBOOKS]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True,
                                       locale="zh-CN").new_page()
            page.goto(server.url + "/")
            page.screenshot(path=str(artifacts / "1-empty.png"), full_page=True)

            page.set_input_files("#pick-files", [str(f) for f in first])
            expect(page.locator(".progress")).to_be_visible()
            # the page follows the checks and reloads itself when they are done
            row = page.locator("#overview tr", has_text=DEPARTMENT)
            expect(row).to_contain_text("有错误", timeout=60_000)
            expect(page.locator("#overview tr", has_text=OTHER)).to_contain_text("通过")
            expect(page.get_by_text("无法识别部门的文件")).to_be_visible()
            page.screenshot(path=str(artifacts / "2-overview.png"), full_page=True)

            row.locator("a .badge").click()
            finding = page.locator('tr[data-rule="S1"]')
            expect(finding).to_contain_text("表10!B11")
            expect(finding).to_contain_text("18.00")
            cell = page.locator("#cell-表10-B11")
            expect(cell).to_have_class("num mark mark-error")
            finding.locator("a.cellref").first.click()
            expect(cell).to_be_in_viewport()
            page.screenshot(path=str(artifacts / "3-submission-cell.png"))
            page.screenshot(path=str(artifacts / "3-submission.png"), full_page=True)

            with page.expect_download() as dl:
                page.click("#dl-report-xlsx")
            saved = artifacts / dl.value.suggested_filename
            dl.value.save_as(saved)
            assert saved.name == "filled.check.xlsx"
            rows = list(openpyxl.load_workbook(saved).worksheets[1].iter_rows(values_only=True))
            assert any("S1" in r for r in rows)

            page.goto(server.url + "/")
            page.set_input_files("#pick-files", [str(books["corrected"])])
            expect(page.locator("#overview tr", has_text=DEPARTMENT)).to_contain_text("通过", timeout=60_000)
            page.screenshot(path=str(artifacts / "4-corrected.png"), full_page=True)

            page.locator("#overview tr", has_text=DEPARTMENT).locator("td a").first.click()
            expect(page.locator("#diff-fixed")).to_contain_text("S1")
            page.screenshot(path=str(artifacts / "5-history.png"), full_page=True)

            page.goto(server.url + "/archive")
            expect(page.locator("#archive tbody tr")).to_have_count(len(first) + 1)
            page.screenshot(path=str(artifacts / "6-archive.png"), full_page=True)
            page.goto(server.url + "/build")
            page.screenshot(path=str(artifacts / "7-build.png"), full_page=True)
            page.goto(server.url + "/?lang=en")
            expect(page.locator("#overview tr", has_text=DEPARTMENT)).to_contain_text("Passed")
            page.screenshot(path=str(artifacts / "8-overview-en.png"), full_page=True)

            # a file dropped on the page goes the same way as the chooser
            data = books["broken"].read_bytes()
            page.goto(server.url + "/?lang=zh")
            page.evaluate("""(bytes) => {
                const dt = new DataTransfer();
                dt.items.add(new File([new Uint8Array(bytes)], "dropped.xlsx"));
                document.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
            }""", list(data))
            expect(page.get_by_role("link", name="dropped.xlsx")).to_be_visible(timeout=30_000)

            server.stop()
            server.start()
            page.goto(server.url + "/archive")
            expect(page.locator("#archive tbody tr")).to_have_count(len(first) + 2)
            page.goto(server.url + "/")
            expect(page.locator("#overview tr", has_text=DEPARTMENT)).to_contain_text("通过")
            page.screenshot(path=str(artifacts / "9-after-restart.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
    blobs = list((tmp_path / "data" / "blobs").rglob("*.xlsx"))
    assert len(blobs) == len(first) + 1                    # the dropped file is the broken one again: stored once
    print(f"screenshots: {artifacts}")
