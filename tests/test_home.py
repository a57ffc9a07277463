"""No test reads the user's home: XLBUDGET_HOME points at a folder of the test session (tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlbudget import layout
from xlbudget.catalogue import default_catalogue_dir, import_catalogue, load_active_catalogue
from xlbudget.check import check_budget
from xlbudget.model import budget_from_document, load_example
from xlbudget.rules import base


@pytest.fixture(scope="module")
def home_at_module_setup() -> str | None:
    """XLBUDGET_HOME as a module fixture sees it (module fixtures run before the per-test fixtures)."""
    return os.environ.get("XLBUDGET_HOME")


def _official_list(path: Path) -> Path:
    """A complete official list that lacks most of the seed's codes."""
    path.write_text("科目编码,科目名称\n201,一般公共服务支出\n20141,数据事务\n2014101,行政运行\n"
                    "301,工资福利支出\n30101,基本工资\n", encoding="utf-8")
    return path


def _forget():
    layout.catalogue_for.cache_clear()
    layout.layout_for.cache_clear()
    base._load_catalogue.cache_clear()


def test_module_fixtures_already_see_an_isolated_home(home_at_module_setup):
    assert home_at_module_setup is not None
    assert "xlbudget-session-home" in home_at_module_setup
    assert not Path(home_at_module_setup).resolve().is_relative_to(Path.home().resolve() / ".xlbudget")


def test_each_test_has_a_fresh_empty_home():
    home = Path(os.environ["XLBUDGET_HOME"])
    assert "xlbudget-home" in home.name and list(home.iterdir()) == []
    assert default_catalogue_dir(2025) == home / "catalogue" / "2025"


def test_a_catalogue_imported_in_the_users_home_does_not_reach_the_tests(tmp_path, monkeypatch):
    user = tmp_path / "user"
    monkeypatch.setenv("HOME", str(user))
    import_catalogue(_official_list(tmp_path / "official.csv"), user / ".xlbudget" / "catalogue" / "2025", 2025,
                     complete=True)
    _forget()
    try:
        spec, doc = load_example()
        # inside the tests: the shipped partial list, and the seed's codes are all known
        assert load_active_catalogue("function", 2025).complete is False
        assert [f.kind for f in check_budget(budget_from_document(doc, spec)) if f.rule.startswith("CODE.")] == []
        # without the isolation the very same run would read the user's complete list and report the codes
        monkeypatch.delenv("XLBUDGET_HOME")
        _forget()
        assert load_active_catalogue("function", 2025).complete is True
        kinds = {f.kind for f in check_budget(budget_from_document(doc, spec)) if f.rule.startswith("CODE.")}
        assert "unknown-code" in kinds
    finally:
        monkeypatch.undo()
        _forget()
