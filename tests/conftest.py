"""Shared pytest fixtures.  Keep each group in its own section."""

from __future__ import annotations

import os
import shutil

import pytest

# ============================================================================================
# LibreOffice / poppler-utils (tests marked @pytest.mark.libreoffice)
#
# These tools are installed by .ci/run, so a missing tool FAILS the test instead of skipping
# it.  Set XLBUDGET_SKIP_LIBREOFFICE=1 to skip such tests explicitly on a machine without them.
# ============================================================================================

SKIP_LIBREOFFICE_ENV = "XLBUDGET_SKIP_LIBREOFFICE"


def _missing_tool(what: str) -> None:
    message = (
        f"缺少 {what}。请运行 bash .ci/run（会安装 libreoffice-calc fonts-wqy-microhei poppler-utils），"
        f"或设置环境变量 {SKIP_LIBREOFFICE_ENV}=1 显式跳过 LibreOffice 测试。"
    )
    if os.environ.get(SKIP_LIBREOFFICE_ENV) == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of the soffice executable (fails the test when LibreOffice is missing)."""
    from xlbudget.libreoffice import find_soffice

    found = find_soffice()
    if found is None:
        _missing_tool("LibreOffice（soffice）")
    return found


@pytest.fixture(scope="session")
def poppler() -> None:
    """Require pdfinfo, pdftoppm and pdftotext (fails the test when poppler-utils is missing)."""
    missing = [p for p in ("pdfinfo", "pdftoppm", "pdftotext") if shutil.which(p) is None]
    if missing:
        _missing_tool("poppler-utils（" + "、".join(missing) + "）")


# ============================================================================================
# The user's home
#
# No test reads ~/.xlbudget (or a real $XLBUDGET_HOME): a catalogue imported on the machine must not change
# what the tests see. The whole session points XLBUDGET_HOME at an empty folder of its own (module
# fixtures run with it too), and each test at a fresh one; a test that imports a catalogue into its home
# drops the catalogues and layouts cached meanwhile, so the next test does not see it either.
# ============================================================================================

HOME_ENV = "XLBUDGET_HOME"


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv(HOME_ENV, str(tmp_path_factory.mktemp("xlbudget-session-home")))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _test_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("xlbudget-home")
    monkeypatch.setenv(HOME_ENV, str(home))
    yield home
    if any(p.name != "cache" for p in home.iterdir()):  # cache/: parsed set files, no catalogue
        _forget_cached_catalogues()


def _forget_cached_catalogues() -> None:
    from xlbudget import layout
    from xlbudget.rules import base

    layout.catalogue_for.cache_clear()
    layout.layout_for.cache_clear()
    base._load_catalogue.cache_clear()
