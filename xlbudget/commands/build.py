"""``xlbudget build``: consolidate submitted workbooks into the print-ready disclosure.

Thin by design: reading, checking, consolidation and writing live in :mod:`xlbudget.build`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xlbudget.build import BuildError, build as build_disclosure, summary_lines
from xlbudget.commands.base import EXIT_CODES, Command, fail, output_failure, table_set_option
from xlbudget.errors import XlbudgetError
from xlbudget.outputs import Output, OutputError, guard_outputs


@click.command(name="build", cls=Command, epilog=EXIT_CODES)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="输出的公开文件（.xlsx）")
@click.option("--name", default=None, help="部门名称（合并多个单位时使用；默认取第一个文件的单位名称）")
@click.option("--force", is_flag=True, help="校验有错误时仍然生成，封面标注“未经校验”")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="同时用 LibreOffice 导出 PDF（需已安装 LibreOffice）")
@click.option("--datapackage", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="同时把汇总数据写成财政数据包（CSV + datapackage.json）到此文件夹")
@click.option("--zero-last-year", type=click.Choice(["100", "na"]), default="100", show_default=True,
              help="上年预算数为 0 时增幅的写法：100 写“增长 100.00%”，na 写“上年无预算，不计算增长率”")
@table_set_option()
def build(files: tuple[Path, ...], out: Path, name: str | None, force: bool, pdf: Path | None,
          datapackage: Path | None, zero_last_year: str, table_set: str | None) -> None:
    """汇总一个或多个已填报的工作簿（FILES），生成可直接打印的部门预算公开文件。

    同一份提交给了两次（同一文件、内容相同，或同一单位同一年度）时拒绝汇总（退出码 1），以免每个数字被加两次。
    """
    package = [Output("--datapackage", datapackage / n) for n in ("expenditure.csv", "revenue.csv",
                                                                    "datapackage.json")] if datapackage else []
    try:
        guard_outputs(files, [Output("-o", out, "xlsx"), Output("--pdf", pdf, "pdf")] + package)
        result = build_disclosure(list(files), out, name=name, force=force, pdf=pdf, datapackage=datapackage,
                                  zero_last_year=zero_last_year, tableset=table_set)
    except OutputError as e:
        output_failure(e)
    except BuildError as e:
        fail(str(e), code=1)
    except (XlbudgetError, ValueError) as e:
        fail(str(e), code=2)
    for line in summary_lines(result):
        click.echo(line, err=True)
    for note in result.notes:
        click.echo(f"注意：{note}", err=True)
    click.echo(f"已生成公开文件：{result.out}")
    if result.datapackage is not None:
        click.echo(f"已生成财政数据包：{result.datapackage}")
    if result.pdf is not None:
        click.echo(f"已生成 PDF：{result.pdf}")
    if result.pdf_error:
        click.echo(f"错误：{result.pdf_error}", err=True)
        sys.exit(1)
