"""The content-hash cache of check results (``xlbudget.cache``) and ``xlbudget check --cache``."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlbudget import cache as cache_mod
from xlbudget.cache import DirectoryCache, cache_key, dump_report, fingerprint, load_report, sha256_file
from xlbudget.check import check_file, check_paths
from xlbudget.commands.check import check
from xlbudget.model import budget_from_document, load_example
from xlbudget.reader import read_workbook
from xlbudget.writer.template import write_workbook


@pytest.fixture(autouse=True)
def _home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path_factory.mktemp("xlbudget-home")))


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cache-books")
    spec, doc = load_example()
    seed = budget_from_document(doc, spec)
    write_workbook(seed.layout, folder / "seed.xlsx", budget=seed)
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"
    clean = budget_from_document(doc, spec)
    write_workbook(clean.layout, folder / "clean.xlsx", budget=clean)
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制更新公务用车 1 辆"
    fixed = budget_from_document(doc, spec)
    (folder / "later").mkdir()
    write_workbook(fixed.layout, folder / "later" / "fixed.xlsx", budget=fixed)
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    return folder


def test_report_round_trip_is_lossless(books: Path):
    fr = check_file(books / "seed.xlsx")
    back = load_report(dump_report(fr), fr.path)
    assert back.findings == fr.findings          # Decimals, tuples and severities come back as they were
    assert back.to_dict() == fr.to_dict()
    assert any(isinstance(f.expected, D) for f in back.findings)


class _Counting:
    def __init__(self):
        self.read: list[str] = []

    def __call__(self, path):
        self.read.append(Path(path).name)
        return read_workbook(path)


def test_second_run_reads_only_changed_files(books: Path, tmp_path: Path):
    batch = tmp_path / "batch"
    shutil.copytree(books, batch, ignore=shutil.ignore_patterns("later"))
    store = DirectoryCache(tmp_path / "cache")
    first_reader = _Counting()
    first = check_paths([batch], cache=store, reader=first_reader)
    assert sorted(first_reader.read) == ["broken.xlsx", "clean.xlsx", "seed.xlsx"] and first.cached == 0
    shutil.copy(books / "later" / "fixed.xlsx", batch / "seed.xlsx")      # a corrected submission
    again = _Counting()
    second = check_paths([batch], cache=store, reader=again)
    assert again.read == ["seed.xlsx"] and second.cached == 2
    uncached = check_paths([batch])
    def same(fr):
        return {k: v for k, v in fr.to_dict().items() if k != "seconds"}

    assert [same(f) for f in second.files] == [same(f) for f in uncached.files]


def test_key_changes_with_rules_catalogue_and_tolerance(books: Path, tmp_path: Path, monkeypatch):
    sha = sha256_file(books / "seed.xlsx")
    base = cache_key(sha, fingerprint())
    assert cache_key(sha, fingerprint()) == base
    assert cache_key(sha, fingerprint("fixed:0.01")) != base
    cat = tmp_path / "cat"
    cat.mkdir()
    (cat / "function.csv").write_text("code,name,level\n201,一般公共服务支出,类\n", encoding="utf-8")
    assert cache_key(sha, fingerprint(catalogue_dir=cat)) != base
    changed = cache_mod._tablesets() + (("zz", "9", "rules-changed"),)
    monkeypatch.setattr(cache_mod, "_tablesets", lambda: changed)
    assert cache_key(sha, fingerprint()) != base


def test_cli_cache_flag(books: Path, tmp_path: Path):
    runner = CliRunner()
    args = [str(books / "seed.xlsx"), str(books / "clean.xlsx"), "--format", "json", "--cache"]
    first = runner.invoke(check, args)
    assert "0 个文件未改变" in first.stderr
    second = runner.invoke(check, args)
    assert second.exit_code == first.exit_code == 1
    assert "2 个文件未改变，结果取自缓存" in second.stderr
    assert json.loads(second.stdout)["files"] == json.loads(first.stdout)["files"]
    assert list((cache_mod.default_cache_dir()).rglob("*.json"))
