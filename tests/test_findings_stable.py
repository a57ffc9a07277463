"""The JSON check report stays the same, byte for byte, whatever is done to make checking fast.

The workbooks in ``tests/data/stable`` are submissions written by the benchmark generator
(``bench/common.py``: three small departments and one large one, 97 sheets). Each test run also derives
mutated copies (changed inputs, overwritten and edited formulas, stale cached values, text in number cells,
removed protection), so that the report holds errors, warnings and rounding notes, not only passes.
The golden reports were written by the checker without the speed work (the code the speed work was merged
with); regenerate them only for an intended change of findings, from code whose findings are trusted:
``XLBUDGET_REGEN_GOLDEN=1 python -m pytest tests/test_findings_stable.py``.
"""

from __future__ import annotations

import lzma
import re
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from golden import assert_golden
from xlbudget.check import check_paths

DATA = Path(__file__).parent / "data" / "stable"
BASES = ("small-1.xlsx", "small-2.xlsx", "small-5.xlsx", "large-2.xlsx")

_NUM_INPUT = rb'(<c r="[A-Z]+[0-9]+" s="[0-9]+"><v>)([0-9.]+)(</v></c>)'
_FORMULA = rb'(<c r="[A-Z]+[0-9]+" s="[0-9]+">)<f>([^<]*)</f>(<v>)([^<]*)(</v></c>)'


def _nth(pattern: bytes, n: int, repl):
    """A substitution of the n-th (0-based) match of ``pattern`` only."""
    def edit(xml: bytes) -> bytes:
        matches = list(re.finditer(pattern, xml))
        assert len(matches) > n, f"the base workbook changed: fewer than {n + 1} matches of {pattern!r}"
        m = matches[n]
        return xml[:m.start()] + repl(m) + xml[m.end():]
    return edit


def add_to_input(n: int, delta: str, pattern: bytes = _NUM_INPUT):
    """The n-th number cell of ``pattern`` (its groups: before, the number, after) with ``delta`` added."""
    from decimal import Decimal
    return _nth(pattern, n, lambda m: m.group(1) + str(Decimal(m.group(2).decode()) + Decimal(delta)).encode()
                + m.group(3))


def text_in_input(n: int, text: str, pattern: bytes = _NUM_INPUT, value_tag: bytes = b"><v>"):
    """The n-th number cell of ``pattern`` holding ``text`` instead (an inline string)."""
    return _nth(pattern, n, lambda m: m.group(1).replace(value_tag, b' t="inlineStr"><is><t>')
                + text.encode() + b"</t></is></c>")


def drop_formula(n: int):  # the formula overwritten by its value
    return _nth(_FORMULA, n, lambda m: m.group(1) + m.group(3) + m.group(4) + m.group(5))


def edit_formula(n: int, text: str):
    return _nth(_FORMULA, n, lambda m: m.group(1) + b"<f>" + text.encode() + b"</f>" + m.group(3) + m.group(4)
                + m.group(5))


def stale_cache(n: int):
    return _nth(_FORMULA, n, lambda m: m.group(1) + b"<f>" + m.group(2) + b"</f>" + m.group(3) + b"12345.6"
                + m.group(5))


def unprotect(xml: bytes) -> bytes:
    out = re.sub(rb"<sheetProtection[^>]*/>", b"", xml)
    assert out != xml
    return out


# mutated copy -> (base, {sheet part: [edits]})
MUTATIONS = {
    "m1-inputs.xlsx": ("small-1.xlsx", {
        "xl/worksheets/sheet3.xml": [add_to_input(0, "1.5"), add_to_input(4, "0.004")],
        "xl/worksheets/sheet6.xml": [add_to_input(2, "-0.3")],
        "xl/worksheets/sheet12.xml": [add_to_input(3, "7")],
    }),
    "m2-formulas.xlsx": ("small-2.xlsx", {
        "xl/worksheets/sheet5.xml": [drop_formula(1), edit_formula(3, "1+1")],
        "xl/worksheets/sheet2.xml": [stale_cache(2)],
        "xl/worksheets/sheet6.xml": [text_in_input(1, "12,5"), text_in_input(3, "约五万")],
        "xl/worksheets/sheet7.xml": [unprotect],
    }),
    "m3-large.xlsx": ("large-2.xlsx", {
        "xl/worksheets/sheet2.xml": [add_to_input(10, "0.01")],
        "xl/worksheets/sheet3.xml": [add_to_input(5, "3"), drop_formula(7)],
        "xl/worksheets/sheet7.xml": [add_to_input(2, "-1.25")],
        "xl/worksheets/sheet10.xml": [add_to_input(0, "2")],
    }),
}


def mutate(src: Path, dst: Path, edits: dict[str, list]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for edit in edits.get(info.filename, ()):
                data = edit(data)
            zout.writestr(info, data)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> list[Path]:
    yield from golden_submissions(tmp_path_factory.mktemp("stable"), DATA, BASES, MUTATIONS)


def golden_submissions(d: Path, data: Path, bases, mutations) -> Iterator[list[Path]]:
    """The base workbooks and their mutated copies (written under ``d``), checked with the shipped partial
    catalogue, never one imported on this machine."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XLBUDGET_HOME", str(d / "home"))
    paths = [data / b for b in bases]
    for name, (base, edits) in mutations.items():
        mutate(data / base, d / name, edits)
        paths.append(d / name)
    yield paths
    mp.undo()


def report_json(paths: list[Path], lang: str) -> str:
    """The JSON report with what legitimately varies between runs (timings, folders) fixed."""
    report = check_paths(paths)
    report.seconds = 0.0
    for fr in report.files:
        fr.seconds = 0.0
        fr.path = Path(fr.path).name
    return report.to_json(lang) + "\n"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_identical_to_golden(submissions, lang):
    got = report_json(submissions, lang)
    assert_golden(got, DATA / f"report-{lang}.json.xz", f"the {lang} report")  # xz: 1 MB each as text


def golden_kinds(data_dir: Path, bases, mutations) -> tuple[dict, set[str]]:
    """The zh golden report and the kinds of finding it holds; every base passes, every mutation fails."""
    import json

    data = json.loads(lzma.decompress((data_dir / "report-zh.json.xz").read_bytes()))
    by_name = {f["name"]: f for f in data["files"]}
    assert set(by_name) == set(bases) | set(mutations)
    for name in bases:
        assert by_name[name]["counts"]["error"] == 0
    for name in mutations:
        assert by_name[name]["counts"]["error"] > 0
    return data, {f["kind"] for fr in data["files"] for f in fr["findings"]}


def test_golden_reports_hold_findings_of_every_severity():
    """The goldens are worth comparing: errors, warnings and rounding notes, in base and mutated files."""
    data, kinds = golden_kinds(DATA, BASES, MUTATIONS)
    assert {"cross-mismatch", "formula-overwritten", "formula-changed", "cached-value-stale",
            "sheet-unprotected", "rounding-residue"} <= kinds
