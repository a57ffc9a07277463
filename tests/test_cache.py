"""The content-hash cache of check results (``xlbudget.cache``) and ``xlbudget check --cache``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


def _local_set(root: Path, tid: str) -> Path:
    """A copy of the shipped xj11 set under another id, in ``root`` (a folder of installed sets)."""
    from xlbudget.tableset import tableset_dir

    folder = root / tid
    shutil.copytree(tableset_dir("xj11"), folder, ignore=shutil.ignore_patterns("__pycache__"))
    toml = folder / "tableset.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'id = "xj11"' in text
    toml.write_text(text.replace('id = "xj11"', f'id = "{tid}"', 1), encoding="utf-8")
    return folder


def test_key_changes_with_a_table_set_installed_beside_the_shipped_ones(tmp_path: Path, monkeypatch):
    """A bureau's own set (in $XLBUDGET_TABLESETS or $XLBUDGET_HOME/tablesets) judges its submissions as a
    shipped set does: its rule book and descriptions are part of the key, and the desk records its version.
    (The key took the shipped sets only: a result checked under a local rule book was served again after
    the rule book changed.)"""
    from xlbudget.tableset import load_tableset

    sets = tmp_path / "sets"
    sets.mkdir()
    shipped = fingerprint()
    assert shipped.tableset("zz-local") == ("", "")
    folder = _local_set(sets, "zz-local")
    monkeypatch.setenv("XLBUDGET_TABLESETS", str(sets))
    load_tableset.cache_clear()
    installed = fingerprint()
    assert installed.digest != shipped.digest
    version, rules = installed.tableset("zz-local")
    assert version == load_tableset("xj11").version and rules == installed.tableset("xj11")[1]

    def next_process() -> "cache_mod.Fingerprint":  # (sets and their digest are read once per process)
        cache_mod._tablesets_in.cache_clear()
        load_tableset.cache_clear()
        return fingerprint()

    assert next_process() == installed
    with open(folder / "rules.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# 本局补充说明\n")
    edited = next_process()
    assert edited.digest != installed.digest
    assert edited.tableset("zz-local")[1] != rules and edited.tableset("xj11") == installed.tableset("xj11")
    with open(folder / "T10.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# 表样说明\n")
    described = next_process()
    assert described.digest != edited.digest and described.tableset("zz-local") == edited.tableset("zz-local")
    # a folder of the same id later in the list is not the set a check loads: it changes nothing
    later = tmp_path / "later"
    later.mkdir()
    _local_set(later, "zz-local")
    (later / "zz-local" / "rules.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("XLBUDGET_TABLESETS", os.pathsep.join([str(sets), str(later)]))
    assert next_process() == described


def test_a_local_rule_book_changed_is_checked_again(tmp_path: Path, monkeypatch):
    """The consequence: a submission of a bureau's own set, checked with the cache, is checked again (not
    served from the cache) once that set's rule book changes."""
    from msgspec.structs import replace

    from xlbudget.layout import layout_for
    from xlbudget.tableset import load_tableset

    sets = tmp_path / "sets"
    sets.mkdir()
    folder = _local_set(sets, "zz-local")
    monkeypatch.setenv("XLBUDGET_TABLESETS", str(sets))
    load_tableset.cache_clear()
    spec, doc = load_example()
    spec = replace(spec, tableset="zz-local")
    doc["spec"] = spec.to_dict()
    budget = budget_from_document(doc, spec)
    book = tmp_path / "local.xlsx"
    write_workbook(layout_for(spec), book, budget=budget)

    def check_cached() -> str:  # each run a process of its own, as a bureau runs it
        run = subprocess.run([sys.executable, "-m", "xlbudget", "check", str(book), "--cache", "--format", "json"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode in (0, 1), run.stderr
        assert json.loads(run.stdout)["files"][0]["meta"]["tableset"] == "zz-local"
        return run.stderr

    assert "0 个文件未改变" in check_cached()
    assert "1 个文件未改变，结果取自缓存" in check_cached()
    with open(folder / "rules.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# 本局补充说明\n")
    assert "0 个文件未改变" in check_cached()
    assert "1 个文件未改变，结果取自缓存" in check_cached()


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
