"""Command line: a thin layer over the library (click)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .commands.base import (EXIT_CODES, Group, end_process, fail, lang_option, output_failure, run_as_process,
                            table_set_option)
from .errors import XlbudgetError


class _LazyGroup(Group):
    """The commands kept in ``xlbudget.commands.<name>`` are imported when used: ``xlbudget check FILE``
    imports the checker only, not the builder and its writers."""

    lazy = ("build", "catalogue", "check", "serve")

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            from .collector import few_collections

            try:  # (a command's modules, classes and tables live as long as the process: not collected for)
                with few_collections():
                    module = __import__(f"xlbudget.commands.{name}", fromlist=[name])
            except ImportError:
                return None
            self.add_command(getattr(module, name))
        return self.commands.get(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *(n for n in self.lazy if self.get_command(ctx, n) is not None)})


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="xlbudget")
def cli() -> None:
    """xlbudget：部门预算公开表的模板、读取、校验与公开文件生成。"""


@cli.command(epilog=EXIT_CODES)
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出的模板文件 (.xlsx)")
@click.option("--like", type=click.Path(exists=True, dir_okay=False), help="上年已填报的工作簿：按相同行次生成下一年模板，并带入上年预算数")
@click.option("--department", default=None, help="编制部门名称（通用模板；与 --like 同用时为新名称）")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="预算年度：通用模板默认 2025；与 --like 同用时默认为上年的下一年")
@click.option("--spare-rows", type=click.IntRange(1, 1000), default=None, help="通用模板每张表的备用行数（1–1000，默认 30）")
@click.option("--table-set", "table_set", default=None, help="表套编号（xlbudget tablesets 列出）；默认取部门规格的 tableset，或 xj11")
def template(spec: str | None, out: str, like: str | None, department: str | None, year: int | None,
             spare_rows: int | None, table_set: str | None) -> None:
    """生成锁定的填报模板：SPEC 为部门规格文件（TOML/JSON）；不给则生成通用模板；--like 按上年工作簿生成下一年模板。"""
    from .outputs import Output, OutputError, guard_outputs
    from .spec import generic_spec, load_spec
    from .tableset import installed_tableset
    from .template import make_next_year, make_template

    if spec and like:
        raise click.UsageError("SPEC 与 --like 只能用一个：部门规格生成新模板，--like 按上年工作簿生成下一年模板")
    given = [name for name, v in (("--department", department), ("--year", year), ("--spare-rows", spare_rows))
             if v is not None]
    if spec and given:
        raise click.UsageError(f"{'、'.join(given)} 只用于通用模板或 --like；部门规格生成的模板按规格文件中的部门、年度和行次")
    if like and spare_rows is not None:
        raise click.UsageError("--spare-rows 只用于通用模板；--like 的行次与上年工作簿相同")
    try:
        if table_set is not None:
            installed_tableset(table_set)
        guard_outputs([p for p in (spec, like) if p], [Output("-o", Path(out), "xlsx")])
        if like:
            path = make_next_year(like, out, year=year, department=department)
        elif spec:
            s = load_spec(spec)
            if table_set is not None and table_set != s.tableset:
                fail(f"--table-set {table_set} 与部门规格中的表套 {s.tableset} 不一致")
            path = make_template(s, out)
        else:
            path = make_template(generic_spec(department or "", year or 2025, spare_rows or 30,
                                              tableset=table_set or "xj11"), out)
    except OutputError as e:
        output_failure(e)
    except (XlbudgetError, ValueError) as e:
        fail(str(e))
    click.echo(f"已生成模板：{path}")


@cli.command(epilog=EXIT_CODES)
@click.argument("file", type=click.Path())
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="输出文件（默认输出到屏幕）")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@table_set_option()
@lang_option()
def read(file: str, out: str | None, fmt: str, lang: str, table_set: str | None) -> None:
    """读取已填报的工作簿，输出统一数据模型（JSON）或长表（CSV）。文件不会被修改。"""
    from .export import to_csv, to_json
    from .jsontext import dumps
    from .outputs import Output, OutputError, atomic_write, guard_outputs
    from .reader import read_workbook

    try:
        guard_outputs([file], [Output("-o", Path(out) if out else None, "text")])
    except OutputError as e:
        output_failure(e, lang)
    res = read_workbook(file, tableset=table_set)
    for f in res.findings:
        click.echo(f"[{f.severity.label(lang)}] {f.rule} {f.message(lang)}", err=True)
    if res.budget is None:
        sys.exit(2)
    text = dumps(to_json(res, lang), indent=1) + "\n" if fmt == "json" else to_csv(res)
    if out:
        try:
            atomic_write(out, text)
        except OutputError as e:
            output_failure(e, lang)
        click.echo(("已写出：" if lang == "zh" else "written: ") + out, err=True)
    else:
        click.echo(text, nl=False)


@cli.command(epilog=EXIT_CODES)
@click.argument("outdir", required=False, default="xlbudget-demo", type=click.Path(file_okay=False))
@click.option("--table-set", "table_set", default="xj11", show_default=True, help="用哪个表套的内置示例")
def demo(outdir: str, table_set: str) -> None:
    """用表套的内置示例（默认 xj11：克州数字化发展局 2025）演示全部流程，写出模板、填报表、校验报告和公开文件。"""
    from .demo import run_demo
    from .outputs import OutputError
    from .tableset import installed_tableset

    try:
        installed_tableset(table_set)
        for line in run_demo(Path(outdir), table_set):
            click.echo(line)
    except OutputError as e:
        output_failure(e)
    except (XlbudgetError, FileNotFoundError) as e:
        fail(str(e))


@cli.command()
def tablesets() -> None:
    """列出已安装的表套：编号、名称、金额单位、版本。"""
    from .tableset import installed_tablesets, load_tableset

    for tid in installed_tablesets():
        ts = load_tableset(tid)
        units = list(dict.fromkeys(t.table_precision.unit for t in ts.tables if t.number))
        click.echo(f"{ts.id}\t{ts.name}\t{'、'.join(units) or ts.unit}\t{ts.version}")


def main() -> None:
    run_as_process()
    try:
        cli(prog_name="xlbudget")
    except SystemExit as stop:  # (click ends every command so)
        end_process(stop.code)
    end_process(0)


if __name__ == "__main__":  # pragma: no cover
    main()
