"""`xlbudget demo`: the main job on the built-in example."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator


def run_demo(outdir: Path, tableset: str = "xj11") -> Iterator[str]:
    from .layout import layout_for
    from .model import budget_from_document, load_example
    from .outputs import output_folder
    from .writer.template import write_workbook

    output_folder(outdir)
    spec, doc = load_example(tableset)
    layout = layout_for(spec)
    p = write_workbook(layout, outdir / "template.xlsx")
    yield f"已写出 {p}：{spec.department} {spec.year} 年空白填报模板"
    budget = budget_from_document(doc, spec)
    filled = write_workbook(layout, outdir / "filled.xlsx", budget)
    yield f"已写出 {filled}：按公开文件填好的工作簿"
    try:
        from .check import check_paths
    except ImportError:
        check_paths = None
    if check_paths is not None:
        report = check_paths([filled])
        report.write_json(outdir / "check.json")
        c = report.counts
        yield (f"已写出 {outdir / 'check.json'}：校验结果 错误 {c.get('error', 0)} 项、警告 {c.get('warning', 0)} 项、"
               f"提示 {c.get('info', 0)} 项")
    try:
        from .build import build
    except ImportError:
        build = None
    if build is not None:
        from .libreoffice import find_soffice

        pdf = outdir / "disclosure.pdf" if find_soffice() else None
        result = build([filled], outdir / "disclosure.xlsx", force=True, pdf=pdf)
        stamp = "" if getattr(result, "verified", True) else \
            "（示例的公开数据本身有不一致之处，见 check.json；按 --force 生成，封面标注“未经校验”）"
        yield f"已写出 {outdir / 'disclosure.xlsx'}：公开文件{stamp}"
        if pdf is not None and pdf.exists():
            yield f"已写出 {pdf}：公开文件 PDF"
