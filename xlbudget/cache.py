"""The content-hash cache of check results, shared by ``xlbudget check --cache`` and the desk.

A file's check result depends on its bytes and on what judges them: the table sets (descriptions and rule
books), the code catalogues in force, the tolerance and xlbudget itself. :func:`fingerprint` digests all of
these once; :func:`cache_key` joins it with a file's SHA-256. A result stored under a key is valid for as
long as neither the file nor any of those inputs changes, so a re-run of a batch after a few corrections
re-checks only the changed files.

Results are stored as JSON text (:func:`dump_report` / :func:`load_report`, a lossless round trip of a
:class:`~xlbudget.report.FileReport`: Decimals stay Decimals). Where they are stored is a
:class:`ReportCache`: :class:`DirectoryCache` (one file per key, written atomically) for the command line,
a database table for the desk.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from msgspec import Struct

from . import __version__
from .findings import Finding, Severity
from .report import FileReport
from .utility import atomic_write

__all__ = ["DirectoryCache", "Fingerprint", "ReportCache", "cache_key", "default_cache_dir", "dump_report",
           "fingerprint", "load_report", "sha256_file"]

FORMAT = 1


class ReportCache(Protocol):
    """Where cached results live: text by key."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str) -> None: ...


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _digest_tree(root: Path, patterns: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    if root.is_dir():
        for pat in patterns:
            for f in sorted(root.rglob(pat)):
                if f.is_file() and "__pycache__" not in f.parts:
                    digest.update(f.relative_to(root).as_posix().encode() + b"\0")
                    digest.update(f.read_bytes() + b"\0")
    return digest.hexdigest()


def _tablesets() -> tuple[tuple[str, str, str], ...]:
    """(id, version, rule-book digest) of every installed table set, plus one digest of all their files: the
    shipped sets and those installed under $XLBUDGET_HOME/tablesets or $XLBUDGET_TABLESETS (a bureau's own,
    which a check uses as it uses the shipped ones). Worked out once per process for a list of folders; the
    sets are loaded once per process too (``load_tableset``)."""
    from .tableset import installed_dirs

    return _tablesets_in(tuple(str(d) for d in installed_dirs()))


@functools.lru_cache(maxsize=4)
def _tablesets_in(dirs: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    from .errors import XlbudgetError
    from .tableset import load_tableset

    out = []
    trees = hashlib.sha256()
    seen: set[str] = set()
    for base in map(Path, dirs):
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and (p / "tableset.toml").is_file()):
            if folder.name in seen:  # found in an earlier folder: that one is the set a check loads
                continue
            seen.add(folder.name)
            tree = _digest_tree(folder, ("*.toml",))
            trees.update(f"{folder.name}\0{tree}\0".encode())
            try:
                ts = load_tableset(folder.name)
            except XlbudgetError:  # a broken set: checked by no one, but its files still count
                out.append((folder.name, "", "unreadable:" + tree[:12]))
                continue
            rules = ts.rules_file.read_bytes() if ts.rules_file and ts.rules_file.is_file() else b""
            out.append((ts.id, ts.version, hashlib.sha256(rules).hexdigest()[:12]))
    out.append(("*", "", trees.hexdigest()[:16]))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """xlbudget's version and its source (a changed rule implementation changes the results)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for f in sorted(root.rglob("*.py")):
        if "desk" in f.relative_to(root).parts or "__pycache__" in f.parts:
            continue
        digest.update(f.read_bytes())
    digest.update(_digest_tree(root / "data", ("*",)).encode())
    return digest.hexdigest()[:16]


def _catalogue_digest(catalogue_dir: str | os.PathLike[str] | None) -> str:
    """The catalogues in force: the one named, else every imported list under XLBUDGET_HOME (shipped lists
    are part of the code digest)."""
    if catalogue_dir:
        return "dir:" + _digest_tree(Path(catalogue_dir), ("*",))[:16]
    from .catalogue import default_catalogue_dir

    imported = default_catalogue_dir().parent
    return "imported:" + _digest_tree(imported, ("*",))[:16] if imported.is_dir() else "shipped"


class Fingerprint(Struct, frozen=True):
    """What a check result depends on, besides the file."""

    xlbudget: str
    code: str
    tablesets: tuple[tuple[str, str, str], ...]
    catalogue: str
    tolerance: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.xlbudget, self.code, self.tablesets, self.catalogue,
                                          self.tolerance]).encode()).hexdigest()

    def tableset(self, tid: str | None) -> tuple[str, str]:
        """(version, rule-book digest) of a table set, ("", "") when unknown."""
        for i, version, rules in self.tablesets:
            if i == tid:
                return version, rules
        return "", ""


def fingerprint(tolerance: str = "interval", catalogue_dir: str | os.PathLike[str] | None = None) -> Fingerprint:
    return Fingerprint(__version__, _code_digest(), _tablesets(), _catalogue_digest(catalogue_dir), str(tolerance))


def cache_key(sha256: str, fp: Fingerprint) -> str:
    return hashlib.sha256(f"{sha256}:{fp.digest}".encode()).hexdigest()


# --- a FileReport as JSON, losslessly ----------------------------------------------------------------------
def _enc(v: Any) -> Any:
    if isinstance(v, Decimal):
        return {"$d": format(v, "f")}
    if isinstance(v, tuple):
        return {"$t": [_enc(x) for x in v]}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _enc(x) for k, x in v.items()}
    if isinstance(v, Severity):
        return v.value
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def _dec(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"$d"}:
            return Decimal(v["$d"])
        if set(v) == {"$t"}:
            return tuple(_dec(x) for x in v["$t"])
        return {k: _dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x) for x in v]
    return v


_NUMBERS = ("expected", "actual", "difference", "tolerance")


def dump_report(fr: FileReport) -> str:
    findings = []
    for f in fr.findings:
        d = {"kind": f.kind, "rule": f.rule, "severity": f.severity.value, "cells": list(f.cells),
             "tolerance_mode": f.tolerance_mode, "table": f.table, "params": _enc(dict(f.params))}
        for k in _NUMBERS:
            d[k] = _enc(getattr(f, k))
        findings.append(d)
    return json.dumps({"format": FORMAT, "sha256": fr.sha256, "meta": _enc(fr.meta), "readable": fr.readable,
                       "tables": fr.tables, "seconds": fr.seconds, "findings": findings}, ensure_ascii=False)


def load_report(text: str, path: str | os.PathLike[str]) -> FileReport:
    """The stored report, as the report of the file at ``path``. Raises ValueError for an unknown format."""
    d = json.loads(text)
    if d.get("format") != FORMAT:
        raise ValueError("unknown cached report format")
    findings = [Finding(f["kind"], f["rule"], Severity(f["severity"]), cells=tuple(f["cells"]),
                        tolerance_mode=f["tolerance_mode"], table=f["table"], params=_dec(f["params"]),
                        **{k: _dec(f[k]) for k in _NUMBERS}) for f in d["findings"]]
    return FileReport(path=str(path), findings=findings, sha256=d["sha256"], meta=_dec(d["meta"]),
                      readable=d["readable"], tables=dict(d["tables"]), seconds=float(d["seconds"]))


# --- the command line's store --------------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """``$XLBUDGET_HOME/cache/check``, else ``~/.xlbudget/cache/check``."""
    home = os.environ.get("XLBUDGET_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".xlbudget"
    return base / "cache" / "check"


class DirectoryCache:
    """One JSON file per key under ``folder`` (two-level fan-out), each written atomically."""

    def __init__(self, folder: str | os.PathLike[str] | None = None):
        self.folder = Path(folder) if folder else default_cache_dir()

    def _file(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        try:
            return self._file(key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, key: str, text: str) -> None:
        try:
            atomic_write(self._file(key), text)
        except OSError:  # a cache that cannot be written costs speed, never the check
            pass
