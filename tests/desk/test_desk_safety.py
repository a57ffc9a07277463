"""Safe on a shared network: one test per point (loopback default, token, limits, names, CSRF, hostile input)."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

from click.testing import CliRunner

from xlbudget.commands.serve import serve


def test_serve_refuses_a_network_address_without_token(monkeypatch):
    monkeypatch.delenv("XLBUDGET_TOKEN", raising=False)
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(k))
    r = CliRunner().invoke(serve, ["--host", "0.0.0.0", "--port", "8123"])
    assert r.exit_code == 2 and "必须用 --token" in r.output and not started
    r = CliRunner().invoke(serve, ["--host", "0.0.0.0", "--token", "short"])
    assert r.exit_code == 2 and "至少 8 个字符" in r.output and not started
    ok = CliRunner().invoke(serve, ["--host", "0.0.0.0", "--token", "a-long-secret-token"])
    assert ok.exit_code == 0 and started[-1]["host"] == "0.0.0.0"
    default = CliRunner().invoke(serve, [])
    assert default.exit_code == 0 and started[-1]["host"] == "127.0.0.1"   # loopback unless told otherwise


def test_a_request_without_the_token_is_refused(make_desk, books):
    desk = make_desk(token="a-long-secret-token")
    c = desk.client
    assert c.get("/api/overview").status_code == 401
    page = c.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    files = [("files", ("filled.xlsx", books["filled"].read_bytes()))]
    assert c.post("/api/submissions", files=files).status_code == 401
    assert c.get("/api/overview", headers={"Authorization": "Bearer wrong-token-xyz"}).status_code == 401
    bearer = {"Authorization": "Bearer a-long-secret-token"}
    assert c.get("/api/overview", headers=bearer).status_code == 200
    assert c.post("/api/submissions", files=files, headers=bearer).status_code == 201
    assert c.post("/login", data={"token": "guess", "csrf": desk.csrf}).status_code == 401
    c.post("/login", data={"token": "a-long-secret-token", "csrf": desk.csrf})
    assert c.get("/").status_code == 200                               # the session cookie of the login


def test_a_path_like_file_name_is_stored_safely(make_desk, books, tmp_path):
    desk = make_desk()
    data = books["filled"].read_bytes()
    names = ["../../escaped.xlsx", "..\\..\\windows.xlsx", "/etc/absolute.xlsx", "a/../../b.xlsx",
             "=cmd|' /C calc'!A0.xlsx"]
    batch = desk.upload(*[(n, data + bytes([i])) for i, n in enumerate(names)])
    assert [s["name"] for s in batch["submissions"]] == names            # kept as given, as text
    desk.wait(batch)
    data_dir = tmp_path / "data"
    stored = sorted(p for p in data_dir.rglob("*") if p.is_file())
    assert all(p.parent.parent == data_dir / "blobs" and p.name == f"{p.parent.name}{p.name[2:]}" for p in stored)
    assert {p.stem for p in stored} == {s["sha256"] for s in batch["submissions"]}
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o222 == 0 for p in stored)     # read-only
    for p in (tmp_path / "escaped.xlsx", tmp_path.parent / "escaped.xlsx", tmp_path / "b.xlsx",
              Path("/etc/absolute.xlsx")):
        assert not p.exists()
    sid = batch["submissions"][0]["id"]
    disposition = desk.client.get(f"/submissions/{sid}/download/original").headers["content-disposition"]
    assert "/" not in disposition.split("filename=")[1].split(";")[0] and "escaped.xlsx" in disposition
    page = desk.client.get(f"/submissions/{batch['submissions'][4]['id']}").text
    assert "=cmd|&#39; /C calc&#39;!A0.xlsx" in page                    # shown escaped


def test_an_oversized_upload_is_refused_with_a_clear_message(make_desk, books):
    desk = make_desk(max_file_mb=1, max_upload_mb=2, max_files=3)
    big = ("big.xlsx", b"PK" + os.urandom(1024 * 1024 + 10))
    r = desk.client.post("/api/submissions", files=[("files", big)], headers={"X-CSRF-Token": desk.csrf})
    assert r.status_code == 413 and r.json()["error"] == "文件“big.xlsx”超过单个文件 1 MB 的上限，未接收。"
    whole = [("files", (f"f{i}.xlsx", os.urandom(800 * 1024))) for i in range(3)]
    r = desk.client.post("/api/submissions", files=whole, headers={"X-CSRF-Token": desk.csrf})
    assert r.status_code == 413 and "每次 2 MB 的上限" in r.json()["error"]
    many = [("files", (f"f{i}.xlsx", books["broken"].read_bytes())) for i in range(4)]
    r = desk.client.post("/api/submissions?lang=en", files=many, headers={"X-CSRF-Token": desk.csrf})
    assert r.status_code == 413 and r.json()["error"].startswith("at most 3 files per upload")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.xlsx", b"\0" * (3 * 1024 * 1024))            # 3 MB of zeros in a few KB
    r = desk.client.post("/api/submissions", files=[("files", ("in.zip", bomb.getvalue()))],
                         headers={"X-CSRF-Token": desk.csrf})
    assert r.status_code == 413 and "in.zip/bomb.xlsx" in r.json()["error"]
    def chunks():                                                        # no Content-Length: counted as it comes
        boundary = b"--b0undary\r\n"
        yield boundary + b'Content-Disposition: form-data; name="files"; filename="x.xlsx"\r\n\r\n'
        for _ in range(40):
            yield b"\0" * (64 * 1024)
        yield b"\r\n--b0undary--\r\n"

    r = desk.client.post("/api/submissions?lang=zh", content=chunks(),
                         headers={"X-CSRF-Token": desk.csrf, "Content-Type": "multipart/form-data; boundary=b0undary"})
    assert r.status_code == 413 and "每次 2 MB 的上限" in r.json()["error"]
    assert desk.overview()["departments"] == [] and desk.overview()["unfiled"] == []   # nothing was accepted


def test_forms_need_the_csrf_token(make_desk, books):
    desk = make_desk()
    sid = desk.submit(books["filled"])["submissions"][0]["id"]
    c = desk.client
    assert c.post(f"/submissions/{sid}/recheck", data={}).status_code == 403
    assert c.post(f"/submissions/{sid}/recheck", data={"csrf": "forged"}).status_code == 403
    assert c.post("/expected", data={"names": "x"}).status_code == 403
    assert c.post("/build", data={"sid": [sid]}).status_code == 403
    files = [("files", ("filled.xlsx", books["filled"].read_bytes()))]
    assert c.post("/api/submissions", files=files).status_code == 403          # a browser's cookie, no token
    foreign = {"X-CSRF-Token": desk.csrf, "Origin": "http://evil.example"}
    assert c.post("/api/submissions", files=files, headers=foreign).status_code == 403
    assert c.post(f"/submissions/{sid}/recheck", data={"csrf": desk.csrf}, follow_redirects=False).status_code == 303
    # a client that is no browser (no cookie, no origin) may use the API of a loopback desk without token
    from starlette.testclient import TestClient

    bare = TestClient(desk.app, base_url="http://127.0.0.1:8000")
    assert bare.post("/api/submissions", files=files).status_code == 201


def test_hostile_uploads_cost_their_own_file_only(make_desk, books):
    desk = make_desk()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:     # an xlsx that is a zip bomb inside
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<x>" + b" " * (60 * 1024 * 1024) + b"</x>")
    hostile = [("bomb.xlsx", bomb.getvalue()), ("legacy.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
               ("empty.xlsx", b""), ("text.xlsx", "不是工作簿".encode())]
    batch = desk.upload(*hostile, books["other"])
    desk.wait(batch)
    ov = desk.overview()
    assert [r["status"] for r in ov["departments"]] == ["ok"]
    assert sorted(u["status"] for u in ov["unfiled"]) == ["unreadable"] * 4
    for s in batch["submissions"][:4]:
        rep = desk.client.get(f"/api/submissions/{s['id']}").json()["report"]
        assert rep["findings"][0]["rule"].startswith("READ.") and "Traceback" not in rep["findings"][0]["message"]
