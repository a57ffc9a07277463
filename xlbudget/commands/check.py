"""``xlbudget check``: reconcile submitted workbooks. Thin: options → library call → render → exit code."""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from pathlib import Path

import click

from xlbudget.check import check_paths, collect_paths
from xlbudget.commands.base import (EXIT_CODES, Command, ends_process, lang_option, output_failure, table_set_option,
                                    use_color)
from xlbudget.outputs import Output, OutputError, guard_outputs, output_folder
from xlbudget.report import TextSpool, render_ahead
from xlbudget.rules import Tolerance


def _interactive() -> bool:
    """A progress bar only for a person watching a terminal (never in pipes, files or CI logs)."""
    return sys.stderr.isatty()


def _tolerance(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return str(Tolerance.parse(value))
    except ValueError as e:
        raise click.BadParameter(str(e), ctx, param) from None


@click.command(name="check", cls=Command, epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="并行检查的进程数。")
@click.option("--tolerance", default="interval", show_default=True, callback=_tolerance,
              help="容差：interval（区间法，n 个数相比容差 n×0.005）、fixed:0.01 或 exact。")
@click.option("--catalogue", "catalogue_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="完整科目目录的存放位置（xlbudget catalogue import 导入）；默认用已导入的目录或内置部分目录。")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True,
              help="报告格式。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="报告写入此文件（xlsx 格式必须指定）。")
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="在此文件夹写出标注问题单元格的副本（原文件不变）。")
@lang_option("报告语言")
@click.option("--narrative", "narrative", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="情况说明文件（.txt、.docx 或 .pdf），与工作簿中的数字核对（只能用于一个工作簿；批量检查时把与工作簿同名的"
                   "情况说明文件放在工作簿旁边即可自动核对）。")
@click.option("--min-severity", type=click.Choice(["error", "warning", "info"]), default="info", show_default=True,
              help="终端报告列出的最低级别。")
@table_set_option()
@click.option("--cache", "use_cache", is_flag=True, default=False,
              help="按文件内容缓存结果（XLBUDGET_HOME/cache）：文件、表套、规则、目录均未改变时不再重复检查。")
def check(paths: tuple[Path, ...], jobs: int, tolerance: str, catalogue_dir: Path | None, fmt: str,
          output: Path | None, annotate_dir: Path | None, lang: str, min_severity: str, table_set: str | None,
          narrative: Path | None, use_cache: bool) -> None:
    """检查部门预算公开工作簿（.xlsx/.xlsm，可给文件夹）：表内、表间勾稽，三公、绩效、科目编码，情况说明文字与数字。

    本工具生成的模板按模板标识读取；其他工作簿（预算系统导出、地区官方模板、手工制作）按表题和表头识别公开表。

    文件夹中的其他表格文件（.xls、.ods、.csv 等）列为“无法读取”并说明原因。
    """
    zh = lang != "en"
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx 需要用 -o 指定报告文件" if zh else "--format xlsx needs -o REPORT.xlsx")
    files = collect_paths(paths, exclude=[annotate_dir] if annotate_dir else [])
    if not files:
        raise click.UsageError("没有找到 .xlsx 或 .xlsm 文件" if zh else "no .xlsx or .xlsm file found")
    if narrative is not None and len(files) > 1:
        raise click.UsageError("--narrative 只能与一个工作簿一起使用；批量检查时，把与工作簿同名的情况说明文件放在工作簿旁边"
                               if zh else "--narrative takes one workbook; in a batch, put each narrative "
                               "beside its workbook with the same name")
    try:
        guard_outputs(files, [Output("-o", output, "xlsx" if fmt == "xlsx" else "text")])
        if annotate_dir is not None:
            output_folder(annotate_dir, "--annotate")
    except OutputError as e:
        output_failure(e, lang)
    if len(files) == 1 and ends_process():
        # One workbook, then the process ends: the garbage collector would walk the tables, layouts and
        # findings kept until the exit frees them (a tenth of a one-file check); a batch keeps collecting.
        gc.disable()
    bar = None
    if _interactive():
        bar = click.progressbar(length=len(files), label="检查中" if zh else "Checking", file=sys.stderr)
        bar.__enter__()
    cache = None
    if use_cache:
        from xlbudget.cache import DirectoryCache

        cache = DirectoryCache()
    # a batch's report (JSON, text or the rows of the xlsx findings sheet) is rendered file by file while the
    # others are checked, each part kept in a spool file; its findings are then let go, unless the workbooks
    # are to be annotated with them. Each part is rendered in the worker that checked its file: what comes
    # back is the part's text and the counts, not thousands of findings (with --cache: here, once the result
    # with its findings is stored)
    release = annotate_dir is None
    color = fmt == "text" and output is None and use_color(sys.stdout)
    prepare = None
    with TextSpool() if len(files) > 1 else contextlib.nullcontext() as spool:
        if spool is None:
            arrived = None
        elif release:  # each part rendered where its file was checked: what arrives is its text, kept in the spool
            prepare = functools.partial(render_ahead, fmt=fmt, lang=lang, min_severity=min_severity, color=color)
            arrived = lambda fr: fr.spool_prepared(spool)  # noqa: E731
        elif fmt == "json":  # (annotated: the findings kept)
            arrived = lambda fr: fr.prepare_json(lang, spool=spool)  # noqa: E731
        elif fmt == "xlsx":  # the rows of the spreadsheet's findings sheet likewise
            arrived = lambda fr: fr.prepare_xlsx(lang, spool=spool)  # noqa: E731
        else:  # the terminal report likewise, file by file
            arrived = lambda fr: fr.prepare_text(lang, min_severity, color, spool=spool)  # noqa: E731
        try:
            report = check_paths(files, jobs=jobs, tolerance=tolerance, catalogue_dir=catalogue_dir,
                                 tableset=table_set, narrative=narrative,
                                 progress=(lambda done, total, path: bar.update(1)) if bar else None,
                                 cache=cache, arrived=arrived, prepare=prepare)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        try:
            _write(report, fmt, output, lang, min_severity, color)
            if annotate_dir is not None:
                _annotate(report, annotate_dir, lang, jobs)
        except OutputError as e:
            output_failure(e, lang)
    if use_cache:
        click.echo((f"{report.cached} 个文件未改变，结果取自缓存" if zh else
                    f"{report.cached} unchanged files served from the cache"), err=True)
    if output is not None:
        click.echo((f"报告已写入 {output}" if zh else f"report written to {output}"), err=True)
    click.get_current_context().exit(0 if report.valid else 1)


def _write(report, fmt: str, output: Path | None, lang: str, min_severity: str, color: bool) -> None:
    if fmt == "json" and output is not None:
        report.write_json(output, lang)
    elif fmt == "json":
        click.echo(report.to_json(lang) + "\n", nl=False)
    elif fmt == "xlsx":
        assert output is not None
        report.write_xlsx(output, lang)
    elif output is not None:
        report.write_text(output, lang, min_severity)
    else:
        for piece in report.iter_text(lang, min_severity, color=color):
            click.echo(piece, nl=False)


def _annotate(report, annotate_dir: Path, lang: str, jobs: int) -> None:
    zh = lang != "en"
    done = report.annotate_all(annotate_dir, lang, jobs=jobs)
    click.echo((f"已写出 {len(done.written)} 个标注副本：{annotate_dir}" if zh else
                f"wrote {len(done.written)} annotated copies to {annotate_dir}"), err=True)
    for src, reason in done.skipped:
        click.echo((f"未写标注副本：{src}：{reason}" if zh else f"no annotated copy of {src}: {reason}"), err=True)
