"""``xlbudget catalogue``: import and inspect classification-code catalogues.

Thin by design: parsing, detection and storage live in :mod:`xlbudget.catalogue`.
"""

from __future__ import annotations

from pathlib import Path

import click

from xlbudget.catalogue import (
    KINDS,
    Catalogue,
    CatalogueError,
    default_catalogue_dir,
    import_catalogue,
    load_active_catalogue,
    load_catalogue,
)
from xlbudget.commands.base import EXIT_CODES, Command, Group


def _counts_text(catalogue: Catalogue) -> str:
    parts = "，".join(f"{level} {count}" for level, count in catalogue.counts().items())
    return f"共 {len(catalogue)} 条（{parts}）"


def _state_text(catalogue: Catalogue) -> str:
    if catalogue.complete:
        return "完整目录"
    return "部分目录（不完整：目录中没有的编码不一定无效）"


@click.group(name="catalogue", cls=Group, epilog=EXIT_CODES)
def catalogue() -> None:
    """科目目录：支出功能分类和部门预算支出经济分类。"""


@catalogue.command(name="import", cls=Command, epilog=EXIT_CODES)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=2025, show_default=True, help="目录所属预算年度。")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="存放目录；默认为 $XLBUDGET_HOME/catalogue/<年度> 或 ~/.xlbudget/catalogue/<年度>。",
)
@click.option("--kind", type=click.Choice(KINDS), default=None, help="只导入一类目录。")
@click.option("--partial", "completeness", flag_value="partial",
              help="所导入的目录并不完整。默认：目录自身显示不完整（缺上级科目、缺类级科目、条数少于内置部分目录）时按部分目录导入，否则视为完整。")
@click.option("--complete", "completeness", flag_value="complete", help="所导入的确是完整的官方目录。")
def import_command(file: Path, year: int, dest: Path | None, kind: str | None, completeness: str | None) -> None:
    """导入财政部门下发的科目目录（.xlsx / .xls / .csv）。"""
    dest = dest if dest is not None else default_catalogue_dir(year)
    try:
        complete = {"partial": False, "complete": True}.get(completeness or "")
        imported = import_catalogue(file, dest, year, kind, complete=complete)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已导入 {year} 年度科目目录，来源：{file.name}")
    for item in imported:
        click.echo(f"  {item.label}：{_counts_text(item)}，{_state_text(item)}")
    notes = dict.fromkeys(note for item in imported for note in item.notes)
    for note in notes:
        click.echo(f"  提示：{note}")
    click.echo(f"存放位置：{dest}")


@catalogue.command(name="show", cls=Command, epilog=EXIT_CODES)
@click.option("--year", type=int, default=2025, show_default=True, help="预算年度。")
@click.option(
    "--catalogue",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="已导入目录的存放位置；默认先找默认存放位置，再用 xlbudget 内置的部分目录。",
)
@click.option("--kind", type=click.Choice(KINDS), default=None, help="只显示一类目录。")
def show_command(year: int, directory: Path | None, kind: str | None) -> None:
    """显示目录的条数、是否完整和来源。"""
    kinds = (kind,) if kind else KINDS
    shown = 0
    for name in kinds:
        try:
            item = load_catalogue(name, year, directory) if directory else load_active_catalogue(name, year)
        except CatalogueError as exc:
            if kind or directory is None:
                raise click.ClickException(str(exc)) from exc
            click.echo(str(exc))
            continue
        shown += 1
        click.echo(f"{item.label}（{item.year}年度）：{_counts_text(item)}")
        click.echo(f"  {_state_text(item)}")
        click.echo(f"  来源：{item.origin}")
    if shown == 0:
        raise click.ClickException("没有可显示的科目目录")
