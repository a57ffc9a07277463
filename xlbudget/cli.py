"""Command line: a thin layer over the library (click)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import XlbudgetError


def _fail(msg: str, code: int = 2) -> None:
    click.echo(f"错误：{msg}", err=True)
    sys.exit(code)


class _LazyGroup(click.Group):
    """The commands kept in ``xlbudget.commands.<name>`` are imported when used: ``xlbudget check FILE``
    imports the checker only, not the builder and its writers."""

    lazy = ("build", "catalogue", "check")

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            try:
                module = __import__(f"xlbudget.commands.{name}", fromlist=[name])
            except ImportError:
                return None
            self.add_command(getattr(module, name))
        return self.commands.get(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *(n for n in self.lazy if self.get_command(ctx, n) is not None)})


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlbudget")
def cli() -> None:
    """xlbudget：部门预算公开表的模板、读取、校验与公开文件生成。"""


@cli.command()
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出的模板文件 (.xlsx)")
@click.option("--like", type=click.Path(exists=True, dir_okay=False), help="上年已填报的工作簿：按相同行次生成下一年模板，并带入上年预算数")
@click.option("--department", default="", help="通用模板的编制部门名称（无部门规格时）")
@click.option("--year", type=int, default=2025, show_default=True, help="通用模板的预算年度（无部门规格时）")
@click.option("--spare-rows", type=int, default=30, show_default=True, help="通用模板每张表的备用行数")
def template(spec: str | None, out: str, like: str | None, department: str, year: int, spare_rows: int) -> None:
    """生成锁定的填报模板：SPEC 为部门规格文件（TOML/JSON）；不给则生成通用模板。"""
    from .spec import generic_spec, load_spec
    from .template import make_next_year, make_template

    try:
        if like:
            path = make_next_year(like, out)
        elif spec:
            path = make_template(load_spec(spec), out)
        else:
            path = make_template(generic_spec(department, year, spare_rows), out)
    except (XlbudgetError, ValueError) as e:
        _fail(str(e))
    click.echo(f"已生成模板：{path}")


@cli.command()
@click.argument("file", type=click.Path())
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="输出文件（默认输出到屏幕）")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="提示信息语言")
def read(file: str, out: str | None, fmt: str, lang: str) -> None:
    """读取已填报的工作簿，输出统一数据模型（JSON）或长表（CSV）。文件不会被修改。"""
    from .export import to_csv, to_json
    from .reader import read_workbook
    from .utility import atomic_write

    res = read_workbook(file)
    for f in res.findings:
        click.echo(f"[{f.severity.label(lang)}] {f.rule} {f.message(lang)}", err=True)
    if res.budget is None:
        sys.exit(2)
    text = json.dumps(to_json(res, lang), ensure_ascii=False, indent=1) + "\n" if fmt == "json" else to_csv(res)
    if out:
        atomic_write(out, text)
        click.echo(("已写出：" if lang == "zh" else "written: ") + out, err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("outdir", required=False, default="xlbudget-demo", type=click.Path(file_okay=False))
def demo(outdir: str) -> None:
    """用内置示例（克州数字化发展局 2025）演示全部流程，写出模板、填报表、校验报告和公开文件。"""
    from .demo import run_demo

    for line in run_demo(Path(outdir)):
        click.echo(line)




def main() -> None:
    cli(prog_name="xlbudget")


if __name__ == "__main__":  # pragma: no cover
    main()
