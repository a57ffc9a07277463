"""Reading a workbook in an official layout against reading our own template of the same department.

    python bench/official_read.py [--runs 7]

For a small department (like the built-in example) and a large one (150 function 项, 80 projects), the
same filled document is written twice: as our template (xlbudget.template.fill) and as an official-format
workbook (tests/officialgen.py: plain numbers, no formulas, no identity). Both are read with
``read_workbook`` (warm, median of N runs, in this process) and the ratio official / template is printed.
Target (issue "check any workbook in an official layout"): at most 1.5.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import large_spec, machine, median_time, random_document, small_spec, verdict  # noqa: E402

from xlbudget.model import budget_from_document, normalise_document  # noqa: E402
from xlbudget.layout import layout_for  # noqa: E402
from xlbudget.reader import read_workbook  # noqa: E402
from xlbudget.template import fill  # noqa: E402

TARGET = 1.5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    from officialgen import write_official

    print(f"# official-layout read vs template read — {machine()}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as d:
        for label, spec in (("small", small_spec()), ("large", large_spec())):
            doc = normalise_document(layout_for(spec), random_document(spec, seed=7))
            tpl = fill(doc, Path(d) / f"{label}-template.xlsx", spec)
            budget = budget_from_document(doc, spec)
            off = write_official(budget, Path(d) / f"{label}-official.xlsx", "sheets")
            assert read_workbook(off).budget is not None, "the official workbook must be readable"
            t_tpl, _ = median_time(lambda: read_workbook(tpl), runs=args.runs)
            t_off, _ = median_time(lambda: read_workbook(off), runs=args.runs)
            ratio = t_off / t_tpl
            worst = max(worst, ratio)
            print(f"{label:6s} template {t_tpl * 1000:7.1f} ms   official {t_off * 1000:7.1f} ms   "
                  f"ratio {ratio:4.2f}  {verdict(ratio, TARGET)}")
    print(f"worst ratio {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
