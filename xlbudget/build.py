"""Build the consolidated, print-ready disclosure: read → check → consolidate → check → write.

``build(paths, out, ...)`` reads each submitted workbook, checks it, sums the units into one department
budget (:func:`xlbudget.consolidate.consolidate`), checks the result and writes the disclosure workbook
(:func:`xlbudget.writer.disclosure.write_disclosure`), optionally its PDF (LibreOffice headless) and the
Fiscal Data Package (:func:`xlbudget.datapackage.write_datapackage`).

An error finding in any input or in the consolidated result blocks the build (:class:`BuildError`, nothing
is written) unless ``force=True``; a forced build is stamped "未经校验" on its cover and page headers.
``build_from_budgets`` does the same from budgets already in memory (the demo and the tests use it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable, Sequence

from msgspec import Struct, field

from .collector import few_collections
from .consolidate import UnitFigures, consolidate
from .errors import XlbudgetError
from .findings import Finding, Severity
from .model import Budget
from .outputs import TEMP_PREFIX, OutputError, atomic_output, finish_output, first_same_files, output_folder

__all__ = ["BuildError", "BuildResult", "InputReport", "build", "build_from_budgets", "write_pdf"]

Checker = Callable[[Budget], list[Finding]]
CONSOLIDATED = "汇总结果"


class BuildError(XlbudgetError):
    """The build was refused (errors found, or unreadable inputs); the message is in Chinese."""

    def __init__(self, message: str, reports: Sequence["InputReport"] = ()):
        super().__init__(message)
        self.reports = list(reports)


class InputReport(Struct):
    """Findings about one input (a file or a budget), or about the consolidated result."""

    label: str
    findings: list[Finding] = field(default_factory=list)
    checked: bool = True
    note: str = ""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]


class BuildResult(Struct):
    out: Path | None
    budget: Budget
    inputs: list[InputReport]
    consolidated: InputReport
    forced: bool = False
    pdf: Path | None = None
    pdf_error: str | None = None
    datapackage: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reports(self) -> list[InputReport]:
        return self.inputs + [self.consolidated]

    @property
    def errors(self) -> list[tuple[str, Finding]]:
        return [(r.label, f) for r in self.reports for f in r.errors]

    @property
    def verified(self) -> bool:
        """True when every input and the result were checked and no error was found."""
        return all(r.checked for r in self.reports) and not self.errors


def _default_checker() -> Checker | None:
    try:
        from .check import check_budget
    except ImportError:  # pragma: no cover - the rule book ships with xlbudget
        return None
    return check_budget


def _run_check(checker: Checker | None, budget: Budget, label: str) -> InputReport:
    if checker is None:
        return InputReport(label, [], checked=False)
    return InputReport(label, list(checker(budget)))


def _error_summary(reports: Sequence[InputReport], limit: int = 20) -> str:
    lines = []
    n = 0
    for r in reports:
        for f in r.errors:
            n += 1
            if len(lines) < limit:
                lines.append(f"  [{r.label}] {f.rule} {f.message()}")
    more = f"\n  ……另有 {n - limit} 个错误" if n > limit else ""
    return "\n".join(lines) + more


def write_pdf(xlsx: str | os.PathLike, pdf: str | os.PathLike, *, timeout: float = 300) -> Path:
    """Export a workbook to PDF with LibreOffice headless (formulas recalculated); atomic.

    Raises :class:`xlbudget.libreoffice.LibreOfficeNotFound` (with installation advice in Chinese) when
    LibreOffice is not installed, or another :class:`~xlbudget.libreoffice.LibreOfficeError`.
    """
    from .libreoffice import convert

    target = Path(pdf)
    try:
        work = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX + "pdf-", dir=str(output_folder(target.parent))))
    except OSError as exc:
        raise OutputError(f"无法写入 {target}：{exc.strerror}", f"cannot write {target}: {exc.strerror}") from None
    try:
        produced = convert(xlsx, work, "pdf", recalc=True, timeout=timeout)
        finish_output(produced, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def build_from_budgets(budgets: Sequence[Budget], out: str | os.PathLike | None, *, name: str | None = None,
                       force: bool = False, pdf: str | os.PathLike | None = None,
                       datapackage: str | os.PathLike | None = None, zero_last_year: str = "100",
                       labels: Sequence[str] | None = None, checker: Checker | None | str = "default",
                       input_reports: Sequence[InputReport] | None = None) -> BuildResult:
    """Consolidate ``budgets``, check, and write the disclosure (and optionally its PDF and data package).

    ``out`` may be None to consolidate and check only. ``checker`` defaults to
    :func:`xlbudget.check.check_budget`; pass None to skip checking (the output is then stamped unverified).
    """
    with few_collections():
        return _build(budgets, out, name=name, force=force, pdf=pdf, datapackage=datapackage,
                      zero_last_year=zero_last_year, labels=labels, checker=checker, input_reports=input_reports)


def _build(budgets: Sequence[Budget | UnitFigures], out: str | os.PathLike | None, *, name: str | None = None,
           force: bool = False, pdf: str | os.PathLike | None = None,
           datapackage: str | os.PathLike | None = None, zero_last_year: str = "100",
           labels: Sequence[str] | None = None, checker: Checker | None | str = "default",
           input_reports: Sequence[InputReport] | None = None, pool=None) -> BuildResult:
    """``build_from_budgets``; with a process ``pool`` (and the default checker) the consolidated result is
    checked in a worker while this process writes the disclosure to a temporary file, which becomes ``out``
    only once the check allows it."""
    from .narrative import ZERO_LAST_YEAR  # here: the reading workers, which import this module, need no templates

    if zero_last_year not in ZERO_LAST_YEAR:
        raise BuildError(f"上年预算数为 0 时的增幅写法应为 {' 或 '.join(ZERO_LAST_YEAR)}，而不是 {zero_last_year!r}")
    budgets = list(budgets)
    if not budgets:
        raise BuildError("没有输入文件：请至少给出一个已填报的工作簿")
    chk: Checker | None = _default_checker() if checker == "default" else checker  # type: ignore[assignment]
    labels = list(labels) if labels is not None else [b.spec.department for b in budgets]
    reports: list[InputReport] = []
    prior = list(input_reports or [])
    for i, (b, label) in enumerate(zip(budgets, labels)):
        rep = _run_check(chk, b, label)  # type: ignore[arg-type]
        if i < len(prior):
            rep.findings = list(prior[i].findings) + rep.findings
        reports.append(rep)
    with few_collections():  # (the units, read, are most of the heap: out of the collector's passes)
        result_budget = consolidate(budgets, name=name)
    if len(budgets) > 1 or name:
        merged = _start_check(chk, result_budget, pool if chk is not None else None)
    else:  # one unit under its own name: the result is that unit's data, already checked above
        done = InputReport(CONSOLIDATED, [], checked=reports[0].checked, note="与输入相同，不重复校验")
        merged = lambda: done  # noqa: E731
    result = BuildResult(out=None, budget=result_budget, inputs=reports, consolidated=InputReport(CONSOLIDATED),
                         forced=force)
    if chk is None:
        result.notes.append("未找到校验模块，数据未经校验；公开文件将标注“未经校验”。")

    def judged() -> None:
        result.consolidated = merged()
        if result.errors and not force:
            raise BuildError(
                f"校验发现 {len(result.errors)} 个错误，未生成公开文件。请修改后重试，"
                f"或使用 --force 强制生成（封面将标注“未经校验”）：\n{_error_summary(result.reports)}",
                result.reports)

    known = out is None or not result.verified  # nothing to write, or the inputs decide already
    if known:
        judged()
        if out is None:
            return result
    from .writer.disclosure import write_disclosure

    options = {"zero_last_year": zero_last_year}
    with atomic_output(out) as tmp, few_collections():  # (and the result too, now)
        # written while the result may still be under check: an error found there refuses the build (the
        # temporary file is removed) or, forced, has the disclosure written again stamped unverified
        write_disclosure(result_budget, tmp, unverified=not result.verified, narrative_options=options)
        if not known:
            judged()
            if not result.verified:
                write_disclosure(result_budget, tmp, unverified=True, narrative_options=options)
    result.out = Path(out)
    if result.errors:
        result.notes.append(f"存在 {len(result.errors)} 个校验错误，已按 --force 强制生成，封面标注“未经校验”。")
    if datapackage is not None:
        from .datapackage import write_datapackage

        result.datapackage = write_datapackage(result_budget, datapackage)
    if pdf is not None:
        from .libreoffice import LibreOfficeError

        try:
            result.pdf = write_pdf(result.out, pdf)
        except LibreOfficeError as e:
            result.pdf_error = f"未能生成 PDF：{e}"
    return result


def _start_check(checker: Checker | None, budget: Budget, pool) -> Callable[[], InputReport]:
    """The consolidated result's report, to be collected: computed here, or by a worker of ``pool``."""
    if pool is None:
        report = _run_check(checker, budget, CONSOLIDATED)
        return lambda: report
    future = pool.submit(_check_one, _state(budget))
    return lambda: InputReport(CONSOLIDATED, future.result())


def build(paths: Sequence[str | os.PathLike], out: str | os.PathLike, *, name: str | None = None,
          force: bool = False, pdf: str | os.PathLike | None = None, datapackage: str | os.PathLike | None = None,
          zero_last_year: str = "100", checker: Checker | None | str = "default",
          tableset: str | None = None, jobs: int = 1) -> BuildResult:
    """Read the submitted workbooks ``paths`` and build the consolidated disclosure ``out``.

    ``tableset`` names the set of inputs in an official layout (default: detected from their titles).
    With ``jobs > 1`` the workbooks are read (and, with the default checker, checked) in that many processes.
    Raises :class:`BuildError` when a file cannot be read, when two inputs are one submission (the same file,
    the same content, or the same department and year: consolidating them would double every figure), or
    when errors are found and ``force`` is False;
    :class:`xlbudget.errors.DataError` when the inputs cannot be consolidated (different years or table sets).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise BuildError("没有输入文件：请至少给出一个已填报的工作簿")
    twice = first_same_files(paths)
    if twice is not None:
        p, q = paths[twice[0]], paths[twice[1]]
        raise BuildError(f"{p} 与 {q} 是同一个文件：每份提交只能给一次，否则每个数字都会被加两次，未生成公开文件")
    with contextlib.ExitStack() as stack:
        stack.enter_context(few_collections())  # (the reading, the consolidation and the writing)
        pool = None
        if jobs > 1 and len(paths) > 1:
            from .check import preload_reader
            from .workers import process_pool

            pool = stack.enter_context(process_pool(min(jobs, len(paths)), preload=preload_reader))
        return _build_files(paths, out, pool, name=name, force=force, pdf=pdf, datapackage=datapackage,
                            zero_last_year=zero_last_year, checker=checker, tableset=tableset)


def _build_files(paths: list[Path], out: str | os.PathLike, pool, *, checker: Checker | None | str,
                 tableset: str | None, **options) -> BuildResult:
    budgets: list[Budget | UnitFigures] = []
    prior: list[InputReport] = []
    unreadable: list[InputReport] = []
    checked: dict[int, list[Finding]] = {}   # id(budget) -> its findings, when a worker checked it already
    seen: dict[object, Path] = {}
    warming: threading.Thread | None = None
    for p, (findings, budget, found, sha256) in zip(paths, _read_all(paths, pool, checker == "default", tableset)):
        rep = InputReport(p.name, findings)
        if budget is None:
            unreadable.append(rep)
            continue
        if warming is None and pool is not None:
            warming = threading.Thread(target=_prepare_writer, args=(budget.spec.tableset,), daemon=True)
            warming.start()
        _refuse_duplicate(seen, p, sha256, budget)
        budgets.append(budget)
        prior.append(rep)
        if found is not None:
            checked[id(budget)] = found
    if warming is not None:
        warming.join()
    if unreadable:
        detail = "\n".join(f"  [{r.label}] " + "；".join(f.message() for f in r.findings[:3]) for r in unreadable)
        raise BuildError(f"{len(unreadable)} 个文件无法读取，未生成公开文件：\n{detail}", unreadable + prior)
    remote = pool if checker == "default" else None   # the default checker can run in a worker
    if checked:
        default = _default_checker()
        assert default is not None
        checker = lambda b: checked[id(b)] if id(b) in checked else default(b)  # noqa: E731
    return _build(budgets, out, labels=[p.name for p in paths], checker=checker, input_reports=prior,
                  pool=remote, **options)


def _prepare_writer(tableset: str) -> None:
    """While the workers read the inputs: load what the writer reads first (it is idle time here)."""
    try:
        from .tableset import load_tableset
        from .writer.disclosure import prepare

        prepare(load_tableset(tableset))
    except Exception:  # noqa: BLE001 - the writer meets the same problem again and reports it
        pass


def _refuse_duplicate(seen: dict[object, Path], path: Path, sha256: str, budget: Budget) -> None:
    """Two copies of one submission (same content, or same department and year) would double every figure."""
    keys = [("sha", sha256)] if sha256 else []
    keys.append(("unit", budget.spec.department.strip(), budget.spec.year))
    for key in keys:
        if key in seen:
            why = "内容完全相同" if key[0] == "sha" else f"是同一单位同一年度（{budget.spec.department} {budget.spec.year} 年）"
            raise BuildError(f"{path} 与 {seen[key]} {why}，像是同一份提交的两个副本：汇总会把每个数字加两次，"
                             f"未生成公开文件。请只保留其中一份")
        seen[key] = path


def _read_all(paths: list[Path], pool, check: bool, tableset: str | None = None):
    """(read findings, budget or None, check findings or None, sha256) of each path, in order."""
    if pool is None:
        from .reader import read_workbook

        for p in paths:
            res = read_workbook(p, tableset=tableset)
            yield list(res.findings), res.budget, None, res.sha256
        return
    n = len(paths)
    for findings, state, found, sha256 in pool.map(_read_one, paths, [check] * n, [tableset] * n, chunksize=4):
        yield findings, _rebuilt(state), found, sha256


# What a budget read from a workbook carries besides its document: constants over formulas, and for a
# workbook in an official layout the real cells, the printed names and the tables it does not have.
_CARRIED = ("overrides", "cell_map", "printed_labels", "absent_tables", "source")


def _read_one(path: Path, check: bool, tableset: str | None = None):
    """In a worker: read (and check) one workbook. A checked budget travels back as what consolidation
    takes from it (:class:`~xlbudget.consolidate.UnitFigures`); otherwise as its spec, inputs and what it
    carries besides (``_CARRIED``), to be laid out again in the parent."""
    from .reader import read_workbook

    with few_collections():
        res = read_workbook(path, tableset=tableset)
        b = res.budget
        if b is None:
            return list(res.findings), None, None, res.sha256
        checker = _default_checker() if check else None
        found = list(checker(b)) if checker is not None else None
        if b.spec.generic or found is None:  # (a checker given by the caller is run on the budget in the parent)
            state = _state(b)
        else:  # checked here: what consolidation takes is enough, the parent need not lay the unit out again
            figures = UnitFigures.of(b)
            figures.spec = b.spec.to_dict()  # type: ignore[assignment]  # a spec travels as its text
            state = figures
        return list(res.findings), state, found, res.sha256


def _state(b: Budget):
    """A budget as it travels between processes: its spec, document and what it carries (``_rebuilt``)."""
    return b.spec.to_dict(), b.doc, {k: getattr(b, k) for k in _CARRIED}


def _check_one(state) -> list[Finding]:
    """In a worker: the default checker's findings about a budget sent as its ``_state``."""
    checker = _default_checker()
    assert checker is not None
    with few_collections():
        return list(checker(_rebuilt(state)))  # type: ignore[arg-type]


def _rebuilt(state) -> Budget | UnitFigures | None:
    if state is None:
        return None
    from .spec import Spec

    if isinstance(state, UnitFigures):
        state.spec = Spec.from_dict(state.spec)  # type: ignore[arg-type]
        return state
    from .layout import layout_for

    spec, doc, carried = state
    budget = Budget(layout_for(Spec.from_dict(spec)), doc)
    for k, v in carried.items():
        setattr(budget, k, v)
    return budget


def summary_lines(result: BuildResult) -> list[str]:
    """Short Chinese summary of a build for the command line."""
    lines: list[str] = []
    for r in result.reports:
        if r.note:
            lines.append(f"{r.label}：{r.note}")
            continue
        if not r.checked:
            lines.append(f"{r.label}：未校验")
            continue
        e, w = len(r.errors), len(r.warnings)
        lines.append(f"{r.label}：错误 {e} 个，警告 {w} 个")
    return lines
