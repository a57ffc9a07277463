"""What every command shares: the language, click's own texts in that language, exit codes, colour, and
the one way a command fails.

Language: ``--lang zh|en`` of a command, else the environment variable ``XLBUDGET_LANG``, else Simplified
Chinese. click's own texts ("Usage:", "Error: Invalid value for …", "Show this message and exit.") go
through :mod:`gettext`; click binds ``gettext`` and ``ngettext`` as module globals, which are replaced here
by functions that look the message up in :data:`CLICK_ZH` whenever Chinese is the language.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from ..outputs import OutputError

__all__ = ["EXIT_CODES", "Command", "Group", "current_lang", "end_process", "ends_process", "fail", "lang_option",
           "output_failure", "run_as_process", "set_lang", "use_color"]

LANG_ENV = "XLBUDGET_LANG"

# The exit codes of every command (also in the README).
EXIT_CODES = (
    "\b\n退出码 / exit codes:\n"
    "  0  成功，没有错误 / success, no errors\n"
    "  1  数据有问题：发现错误、提交的文件无法读取或不合格、拒绝生成 /\n"
    "     the data has problems: errors found, a submission unreadable or invalid, build refused\n"
    "  2  命令无法执行：用法错误、输出无法写入或会覆盖输入、read 或 template --like 的文件无法读取 /\n"
    "     the command could not run: bad usage, an output unwritable or naming an input,\n"
    "     the file of read or template --like unreadable"
)

CLICK_ZH: dict[str, str] = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "Error: {message}": "错误：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少子命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Did you mean {possibility}?": "是否想用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否想用其中之一：{possibilities}？）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "{value!r} is not one of {choices}.": "{value!r} 不是 {choices} 之一。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否值，可用：{states}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "required": "必需",
    "Aborted!": "已中止！",
    "unknown error": "未知错误",
}
# Names of click's parameter types (class attributes, not passed through gettext), as in "'x' is not a valid
# integer range."
TYPE_NAMES_ZH = {"integer": "整数", "integer range": "整数", "float": "数", "float range": "数", "text": "文本",
                 "boolean": "是/否", "choice": "选项"}
_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils",
                  "shell_completion", "_termui_impl")
_CLICK_ON_FIRST_USE = ("shell_completion", "_termui_impl")

_lang = os.environ.get(LANG_ENV, "zh") if os.environ.get(LANG_ENV) in ("zh", "en") else "zh"


_ends_process = False


def run_as_process() -> None:
    """Called by the ``xlbudget`` program (not by a library call or a test's runner): the command's end is
    the process's end."""
    global _ends_process
    _ends_process = True


def ends_process() -> bool:
    """True when what the running command leaves in memory is freed by the process's exit."""
    return _ends_process


def end_process(code: object = 0) -> NoReturn:
    """End the ``xlbudget`` program as ``SystemExit(code)`` would, without tearing the interpreter down: the
    exit handlers run and the standard streams are flushed, but the objects the command left (a large
    department's layouts, plans and caches) are not freed one by one, nor collected, first: that took 30 ms
    after a one-file check of a small department and 50 ms after a large one. Where a thread of the command
    still runs, the interpreter's own exit waits for it as usual."""
    import atexit
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as the interpreter does with a message
        print(code, file=sys.stderr)
        status = 1
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and status == 0:
                status = 120  # what the interpreter exits with when it cannot flush its output
    os._exit(status)


def current_lang() -> str:
    return _lang


def set_lang(lang: str) -> None:
    global _lang
    _lang = "en" if lang == "en" else "zh"


def _gettext(message: str) -> str:
    return CLICK_ZH.get(message, message) if _lang == "zh" else message


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def _translate(module: Any) -> None:
    if hasattr(module, "_"):
        module._ = _gettext  # type: ignore[attr-defined]
    if hasattr(module, "ngettext"):
        module.ngettext = _ngettext  # type: ignore[attr-defined]


class _TranslateOnImport:
    """Finder on ``sys.meta_path`` for the click modules that click imports on first use only (shell
    completion, the progress bar, the pager): each is translated as it is imported, so that a command that
    never uses them does not import them at start."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.names:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            run = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                run(module)
                _translate(module)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _install() -> None:
    import importlib

    later = set()
    for name in _CLICK_MODULES:
        full = f"click.{name}"
        if full not in sys.modules and name in _CLICK_ON_FIRST_USE:
            later.add(full)
            continue
        try:
            module = importlib.import_module(full)
        except ImportError:  # pragma: no cover - a click without that module
            continue
        _translate(module)
    if later:
        sys.meta_path.insert(0, _TranslateOnImport(later))


_install()


def _lang_in(args: list[str]) -> str | None:
    for i, a in enumerate(args):
        if a == "--":
            break
        if a == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--lang="):
            return a.partition("=")[2]
    return None


_REVERSE = {v: k for k, v in CLICK_ZH.items()}


def _relocalise(cmd: click.Command) -> None:
    """Texts click made when the command was declared (a Path's "file", the --help and --version help) in
    the language chosen now."""
    helps = [cmd._help_option] if getattr(cmd, "_help_option", None) is not None else []  # noqa: SLF001
    for p in list(cmd.params) + helps:
        if isinstance(p.type, click.Path):
            kind = "file" if not p.type.dir_okay else ("directory" if not p.type.file_okay else "path")
            p.type.name = _gettext(kind)
        else:
            english = getattr(type(p.type), "name", None)
            if english in TYPE_NAMES_ZH:
                p.type.name = TYPE_NAMES_ZH[english] if _lang == "zh" else english
        h = getattr(p, "help", None)
        if isinstance(h, str) and (h in CLICK_ZH or h in _REVERSE):
            p.help = _gettext(_REVERSE.get(h, h))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _relocalise(sub)


class _Localised:
    """Mixin: pick the language from the arguments (or the environment) before click parses them."""

    def main(self, args: Any = None, prog_name: str | None = None, *a: Any, **kw: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        chosen = _lang_in(argv) or os.environ.get(LANG_ENV)
        set_lang(chosen if chosen in ("zh", "en") else "zh")
        _relocalise(self)  # type: ignore[arg-type]
        return super().main(args, prog_name, *a, **kw)  # type: ignore[misc]


class Command(_Localised, click.Command):
    """A click command speaking the chosen language."""


class Group(_Localised, click.Group):
    """A click group speaking the chosen language; its commands are :class:`Command` by default."""

    command_class = Command


Group.group_class = Group


def lang_option(what: str = "提示信息语言") -> Any:
    """The ``--lang zh|en`` option (default from ``XLBUDGET_LANG``, else zh)."""
    return click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, envvar=LANG_ENV,
                        help=f"{what}（也可用环境变量 {LANG_ENV}）")


def _installed(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from ..errors import XlbudgetError
    from ..tableset import installed_tableset

    try:
        installed_tableset(value)
    except XlbudgetError as e:
        raise click.BadParameter(str(e)) from None
    return value


def table_set_option() -> Any:
    """``--table-set ID``: the table set of workbooks in an official layout (default: detected from the
    titles found); our templates carry their own. Only installed sets, by id."""
    return click.option("--table-set", "table_set", default=None, callback=_installed,
                        help="公开表版式工作簿的表套编号（xlbudget tablesets 列出；默认按表题识别），本工具的模板自带表套")


def fail(zh: str, en: str | None = None, code: int = 2, lang: str | None = None) -> NoReturn:
    """Print one line "错误：…" / "error: …" on stderr and end the command with ``code``."""
    lang = lang or _lang
    click.echo(("error: " + (en or zh)) if lang == "en" else ("错误：" + zh), err=True)
    sys.exit(code)


def use_color(stream: Any) -> bool:
    """Colour only for a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def output_failure(exc: "OutputError", lang: str | None = None) -> NoReturn:
    """End the command for an output that cannot or must not be written (exit 2)."""
    fail(exc.message("zh"), exc.message("en"), 2, lang)
