"""Install a table-set folder made by a test in a folder of installed sets ($XLBUDGET_TABLESETS): a workbook
names its set by id only, so a set read back from a workbook must be installed."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@contextlib.contextmanager
def installed(folder: Path):
    """Within the block, the set in ``folder`` is installed under its id (in a fresh folder named by
    XLBUDGET_TABLESETS); yields the id."""
    from xlbudget.tableset import load_tableset

    tid = tomllib.loads((folder / "tableset.toml").read_text(encoding="utf-8"))["id"]
    old = os.environ.get("XLBUDGET_TABLESETS")
    with tempfile.TemporaryDirectory(prefix="xlbudget-sets-") as sets:
        (Path(sets) / tid).symlink_to(folder.resolve(), target_is_directory=True)
        os.environ["XLBUDGET_TABLESETS"] = sets
        load_tableset.cache_clear()
        try:
            yield tid
        finally:
            if old is None:
                os.environ.pop("XLBUDGET_TABLESETS", None)
            else:
                os.environ["XLBUDGET_TABLESETS"] = old
            load_tableset.cache_clear()
