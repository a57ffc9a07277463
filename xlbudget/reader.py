"""Read filled workbooks back into the canonical model, with integrity evidence.

``read_workbook(path)`` never writes the file and never raises for a bad file: whatever cannot be read
becomes a finding. Values come from the fast raw reader (cached values are evidence only); every total is
recomputed from the input cells by the table descriptions, and compared with what the file stores.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from .catalogue import normalize_code
from .errors import SpecError, XlbudgetError
from .findings import Finding, Severity
from .io.errors import WorkbookError
from .io.rawxlsx import RawWorkbook, parse_ref
from .layout import CHECK_SHEET, CODE_SHEET, META_SHEET, Layout, LRow, LTable, a1, is_static, layout_for
from .model import FORMAT, Budget, cell_type, holder, set_path, step
from .parse import (QUICK_LARGEST, clean_float, normalize_formula, number_places, parse_amount, parse_int,
                    parse_lines, parse_mapping, parse_number, parse_text)
from .spec import Spec, parse_spec_text
from .tableset import load_tableset
from .formulas import TableFormulas
from .formulas import formula as cell_formula

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
STALE = Decimal("0.000001")


class ReadResult(Struct):
    """A workbook read: its model (None when unreadable), the findings of reading it, its digest and metadata."""

    path: Path
    budget: Budget | None
    findings: list[Finding] = field(default_factory=list)
    sha256: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    sheets: tuple[str, ...] | None = None   # the names of the workbook's sheets (None: not known)

    @property
    def ok(self) -> bool:
        return self.budget is not None


def _unreadable(path: Path, err: Exception, sha: str = "") -> ReadResult:
    zh = str(err)
    en = getattr(err, "message_en", zh)
    code = getattr(err, "code", "unreadable")
    f = Finding("file-unreadable", f"READ.{code}", E, params={"reason": zh, "reason_en": en})
    return ReadResult(path=path, budget=None, findings=[f], sha256=sha)


def read_workbook(path: str | Path, tableset: str | None = None) -> ReadResult:
    """Read one submission. Never raises for a bad file; see ``ReadResult.findings``.

    A workbook made from our template is read by its identity; any other workbook is read as an official
    layout (:mod:`xlbudget.official`): its tables found by title and header, the table set detected from
    the titles found (``tableset`` names it instead)."""
    p = Path(path)
    try:
        # no rule reads the 校验 and 代码表 sheets; the identity is read first, the tables meanwhile
        wb = RawWorkbook.open(p, unread=(CHECK_SHEET, CODE_SHEET), first=(META_SHEET,))
    except WorkbookError as e:
        return _unreadable(p, e)
    except Exception:  # last line of defence: one bad file never stops a batch
        return _unreadable(p, WorkbookError("corrupt", "文件内容异常，无法读取",
                                            "the file's content is abnormal and cannot be read", p))
    try:
        result = _Reader(p, wb, tableset).read()
        result.sheets = tuple(wb.sheet_names)
        return result
    except WorkbookError as e:
        return _unreadable(p, e, wb_sha(wb))
    except XlbudgetError as e:
        return _unreadable(p, WorkbookError("bad-template", f"模板内容无法解析：{e}",
                                          f"template content cannot be parsed: {getattr(e, 'message_en', e)}", p),
                           wb_sha(wb))
    except Exception:  # a shape of workbook nobody foresaw: still one clear finding, never a traceback
        return _unreadable(p, WorkbookError("bad-template", "模板内容异常，无法按模板读取",
                                          "the template's content is abnormal and cannot be read", p), wb_sha(wb))


def _clip(value: Any, n: int = 40) -> str:
    text = str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def wb_sha(wb: Any) -> str:
    return getattr(wb, "sha256", "") or ""


class _TablePlan(Struct, dict=True):
    """What the reader visits in one table: computed once per layout, or once for every table of a description
    laid out alike whatever the department (the per-project sheets of one department, and of the next)."""

    # The rows with inputs: (row key, sheet row, keyed, cells), each cell (column, sheet column, figure, text):
    # figure when the cell is a grid or record number, whose value in the model is what the cell holds (see
    # Budget.know); text when it holds plain text. Keyed when the row's values are held in one mapping by
    # column key (a grid or record row, not a form row whose value has a path of its own). Last the keys of
    # the row's figures.
    inputs: list[tuple[str, int, bool, tuple[tuple[Any, int, bool, bool], ...], tuple[str, ...]]]
    # (row key, column, sheet row, sheet column, formula); the formula is None where it names another table
    # (its text then depends on that table's layout and is written per table)
    formulas: list[tuple[str, Any, int, int, str | None]]
    anchors: list[tuple[int, int, int, str]]                 # coded rows: (sheet row, first code column, width, code)
    input_cells: frozenset[tuple[int, int]]                  # (sheet row, sheet column) of every input
    records: bool                                            # rows of records (most of them blank, spare)

    def __post_init__(self) -> None:
        # a cache, not a field (no part of ==): (offset, merged ranges) -> those that do not stand as laid out
        self.__dict__["merged"] = {}


_SHARED_PLANS: dict[int, tuple[Any, _TablePlan]] = {}
# What reading a table by its plan raises on a sheet of another shape than the template's (a finding of that
# table: _Reader._guard)
_SHAPE_ERRORS = (ArithmeticError, LookupError, TypeError, ValueError, AttributeError, RecursionError)


def _local(t: LTable, expr) -> bool:
    """True when every operand of ``expr`` is a cell of table ``t`` itself."""
    return all((term.ref.table or t.id) == t.id for term in expr.terms)


def _plan(layout: Layout, t: LTable) -> _TablePlan:
    """The plan of a table: one per layout; one for all layouts of a description whose rows do not depend on
    the department (``layout.is_static``), such as a per-project form."""
    cache = layout.__dict__.setdefault("_read_plans", {})
    plan = cache.get(t.id)
    if plan is not None:
        return plan
    if is_static(t.desc):
        shared = _SHARED_PLANS.get(id(t.desc))
        if shared is not None and shared[0] is t.desc:
            plan = shared[1]
        else:
            plan = _make_plan(layout, t)
            _SHARED_PLANS[id(t.desc)] = (t.desc, plan)  # kept with its description: the id is never reused
    else:
        plan = _make_plan(layout, t)
    cache[t.id] = plan
    return plan


def _make_plan(layout: Layout, t: LTable) -> _TablePlan:
    inputs, formulas, anchors = [], [], []
    texts = TableFormulas(layout, t)
    local: dict[int, bool] = {}  # id(expression) -> it names only cells of this table
    # rows alike (Layout.roles) and of one value type have the same input cells and formula columns
    kinds: dict[tuple[int, str], tuple[tuple, bool, tuple, tuple, tuple]] = {}
    for row in t.rows.values():
        roles = layout.roles(t, row)
        kind = kinds.get((id(roles), row.type))
        if kind is None:
            kind = kinds[(id(roles), row.type)] = _row_kind(t, row, roles)
        cells, keyed, figures, computed, codes = kind
        if cells:
            inputs.append((row.key, row.r, keyed, cells, figures))
        for col, c0, role in computed:
            if role == "formula":
                expr = layout.expr_of(t, row, col)
                if expr is not None:
                    here = local.get(id(expr))
                    if here is None:
                        here = local[id(expr)] = _local(t, expr)
                    if not here:  # written per table (it may have no operand)
                        formulas.append((row.key, col, row.r, c0, None))
                        continue
            want = texts.text(row, col, role)
            if want is not None:
                formulas.append((row.key, col, row.r, c0, want))
        if codes and row.code and not (row.spare or row.record is not None):
            anchors.append((row.r, codes[0], codes[1], row.code))
    return _TablePlan(inputs, formulas, anchors,
                      frozenset((r, c) for _, r, _, cells, _ in inputs for _, c, _, _ in cells),
                      any(row.record is not None for row in t.rows.values()))


def _row_kind(t: LTable, row: LRow, roles) -> tuple[tuple, bool, tuple, tuple, tuple]:
    """What the plan takes from a row of this kind: its input cells (column, sheet column, figure, text),
    whether its values are keyed by column, the keys of its figures, its formula and sum cells (column,
    sheet column, role), and its code column (first sheet column, width) if any."""
    colpos = t.colpos
    cells, computed = [], []
    for col, role in roles:
        if role == "input":
            cells.append((col, colpos[(row.block, col.key)][0], col.numeric and col.kind != "field" and not row.total,
                          not row.spare and cell_type(row, col) == "text"))
        elif role in ("formula", "sum") and (col.numeric or col.kind == "field"):
            computed.append((col, colpos[(row.block, col.key)][0], role))
    keyed = row.record is not None or all(col.kind != "field" for col, _, _, _ in cells)
    code_col = next((c for c, _ in roles if c.kind == "code"), None)
    codes = colpos[(row.block, code_col.key)] if code_col is not None else ()
    figures = tuple(col.key for col, _, figure, _ in cells if figure)
    return tuple(cells), keyed, figures, tuple(computed), codes


_NORMALISED: dict[str, str] = {}


def _normalised(f: str) -> str:
    """``normalize_formula`` of a formula found in a file (the same texts recur in every sheet of a kind)."""
    n = _NORMALISED.get(f)
    if n is None:
        if len(_NORMALISED) > 4096:
            _NORMALISED.clear()
        n = _NORMALISED[f] = normalize_formula(f)
    return n


class _Reader:
    def __init__(self, path: Path, wb: RawWorkbook, tableset: str | None = None):
        self.path = path
        self.wb = wb
        self.tableset = tableset
        self.findings: list[Finding] = []
        self._offsets: dict[str, int] = {}   # table id -> rows inserted above the table (0 when in place)
        self._resolved: dict[str, list] = {}  # table id -> its formula cells (see _formulas)
        self._parents: dict[tuple[str, str], dict] = {}  # (table, row) -> the mapping of its values (_put)
        self._containers: dict[tuple, Any] = {}  # a path -> what it leads to in the document (_put)
        self._known: dict[tuple[str, str, str], Decimal] = {}  # input figures read (see Budget.know)

    def add(self, kind: str, rule: str, sev: Severity, cells=(), table=None, **kw) -> None:
        self.findings.append(Finding.of(kind, rule, sev, cells, table, **kw))

    # --- identity ------------------------------------------------------------------------------------
    def _meta(self) -> tuple[dict[str, str], Spec | None]:
        meta: dict[str, str] = {}
        for k, v in (self.wb.custom_properties or {}).items():
            if k.startswith("xlbudget."):
                meta[k[len("xlbudget."):]] = str(v)
        spec_json = ""
        if META_SHEET in self.wb.sheet_names:
            sh = self.wb.sheet(META_SHEET)
            rows: dict[int, dict[int, Any]] = {}
            for (r, c), v in sh.values.items():
                rows.setdefault(r, {})[c] = v
            for r in sorted(rows):
                k, v = rows[r].get(0), rows[r].get(1)
                if k == "spec":
                    spec_json += str(v or "")
                elif isinstance(k, str) and k not in meta:
                    meta[k] = "" if v is None else str(v)
        spec = None
        if spec_json:
            try:
                spec = Spec.from_dict(parse_spec_text(spec_json, json_form=True))
            except SpecError as e:
                raise WorkbookError("bad-template", f"模板标识中的部门规格无效：{e}",
                                    f"the spec embedded in the template is invalid: {getattr(e, 'message_en', e)}",
                                    self.path) from None
        return meta, spec

    def read(self) -> ReadResult:
        meta, spec = self._meta()
        sha = wb_sha(self.wb)
        if getattr(self.wb, "has_macros", False):
            self.add("macros-present", "READ.macros", W)
        disclosure = meta.get("kind") == "disclosure"   # a disclosure we built: printed in the official layout
        if spec is None and (not meta.get("tableset") or disclosure):  # not our template: an official layout
            from .official import read_official
            from .tableset import installed_tablesets

            ts = self.tableset or (meta.get("tableset") if disclosure and meta.get("tableset") in installed_tablesets()
                                   else None)
            result = read_official(self.path, self.wb, ts)
            result.findings[:0] = self.findings
            return result
        if spec is None or not meta.get("tableset"):
            self.add("template-unknown", "READ.template-unknown", E,
                     detail="文件不是由 xlbudget 模板生成，或模板标识被删除")
            return ReadResult(self.path, None, self.findings, sha, meta)
        try:  # the spec names the table set (an id shipped under templates/, or a folder of one's own)
            ts = load_tableset(spec.tableset or meta["tableset"])
        except XlbudgetError:
            self.add("template-unknown", "READ.template-unknown", E, detail=f"未知表套 {meta['tableset']}")
            return ReadResult(self.path, None, self.findings, sha, meta)
        if ts.id != meta["tableset"]:  # the two records of the identity disagree: tampered or mixed up
            self.add("template-unknown", "READ.template-unknown", E,
                     detail=f"表套标识不一致（{meta['tableset']} 与 {ts.id}）")
            return ReadResult(self.path, None, self.findings, sha, meta)
        per_project = sum(1 for d in ts.tables if d.per == "project")
        if per_project and len(spec.projects) * per_project > len(self.wb.sheet_names):
            # each project has its own sheet: a spec naming more projects than the file has sheets is not its own
            n, sheets = len(spec.projects), len(self.wb.sheet_names)
            raise WorkbookError("bad-template", f"模板标识中的部门规格列出 {n} 个项目，工作簿只有 {sheets} 个工作表",
                                f"the spec embedded in the template lists {n} projects, the workbook has {sheets} "
                                "sheets", self.path)
        if meta.get("version") and meta["version"] != ts.version:
            self.add("template-version", "READ.template-version", W, found=meta["version"], current=ts.version)
        if meta.get("spec_hash") and meta["spec_hash"] != spec.hash:
            self.add("template-spec-changed", "READ.spec-hash", W, found=meta["spec_hash"], computed=spec.hash)
        layout = layout_for(spec)
        self._layout = layout
        budget = Budget(layout, {"format": FORMAT, "spec": spec.to_dict(), "tables": {}})
        self._structure(layout)
        names = set(self.wb.sheet_names)
        for t in layout.tables.values():  # what the tables' reading needs from the layout, while their cells
            if t.sheet in names:            # may still be read in the background (RawWorkbook.open's first)
                try:
                    _plan(layout, t)
                    self._formulas(layout, t)
                except _SHAPE_ERRORS:
                    pass  # (the table's own reading meets it again, and reports it)
        present = []
        for t in layout.tables.values():
            if t.sheet in names and self._guard(t, self._read_table, layout, t, budget):
                present.append(t)
        budget.invalidate()
        budget.know(self._known)
        # First every overwrite, each compared with the total recomputed from the inputs alone; then the
        # constants take effect, so that the rules and the comparisons below see what the file shows.
        self._pending: dict[tuple[str, str, str], Decimal | None] = {}
        present = [t for t in present if self._guard(t, self._integrity, layout, t, budget, True)]
        budget.overrides.update(self._pending)
        budget.invalidate()
        budget.know(self._known)
        for t in present:
            self._guard(t, self._integrity, layout, t, budget, False)
        # no invalidate here: inputs and overrides are final, so the figures computed for the comparisons
        # above are the ones the rules see (computing them again cost a fifth of a check)
        meta = {**meta, "department": spec.department, "year": spec.year}
        return ReadResult(self.path, budget, self.findings, sha, meta)

    def _guard(self, t: LTable, step, *args) -> bool:
        """Run one step on one table; whatever the sheet's shape, a surprise becomes a finding of that table."""
        try:  # a WorkbookError (a bomb, an absurd sheet) still refuses the whole file
            step(*args)
            return True
        except _SHAPE_ERRORS:
            self.add("table-unreadable", "READ.table-unreadable", E, cells=(f"{t.sheet}!A1",), table=t.id,
                     sheet=t.sheet, reason="表样与模板不符，无法按模板读取",
                     reason_en="the layout differs from the template and cannot be read")
        self._offsets.setdefault(t.id, 0)
        return False

    def _structure(self, layout: Layout) -> None:
        names = set(self.wb.sheet_names)
        expected = {t.sheet for t in layout.tables.values()}
        for t in layout.tables.values():
            if t.sheet not in names:
                self.add("sheet-missing", "READ.sheet-missing", E, table=t.id, sheet=t.sheet)
        for n in self.wb.sheet_names:
            if n not in expected and n not in (META_SHEET, CODE_SHEET, CHECK_SHEET):
                self.add("sheet-added", "READ.sheet-added", W, sheet=n)
        if not getattr(self.wb, "workbook_protected", True):
            self.add("workbook-unprotected", "READ.workbook-unprotected", W)

    # --- values --------------------------------------------------------------------------------------
    def _row_offset(self, t: LTable, sh) -> int:
        """Detect inserted/deleted rows by finding the title and the first coded row; 0 when in place."""
        values = sh.values
        here = values.get((1, 0))
        if isinstance(here, str) and here.strip() == t.title:  # in place: the common case
            return 0
        title_pos = [r for (r, c), v in values.items() if c == 0 and isinstance(v, str) and v.strip() == t.title]
        if title_pos and 1 not in title_pos:
            return title_pos[0] - 1
        return 0

    def _read_table(self, layout: Layout, t: LTable, budget: Budget) -> None:
        sh = self.wb.sheet(t.sheet)
        if not sh.protected:
            self.add("sheet-unprotected", "READ.sheet-unprotected", W, table=t.id, sheet=t.sheet)
        plan = _plan(layout, t)
        off = self._offsets[t.id] = self._row_offset(t, sh)
        shifted = self._check_anchors(plan, sh, off)
        if off or shifted:
            self.add("layout-shifted", "READ.layout-shifted", E, cells=(f"{t.sheet}!A1",), table=t.id,
                     detail=shifted or f"表头偏移 {off} 行")
        if sh.merged:
            self._merges(plan, t, sh, off)
        values = sh.values
        rows = t.rows
        known = self._known
        tid = t.id
        parents = self._parents
        filled = {r for r, _ in values} if plan.records else None  # the sheet rows holding anything
        for rkey, r, keyed, cells, figures in plan.inputs:
            r += off
            if filled is not None and r not in filled:  # a blank row (a spare record): its figures blank
                for ckey in figures:
                    known[(tid, rkey, ckey)] = None
                continue
            row_values = None  # the mapping of the row's values, once a text has been put there
            for col, c0, figure, text in cells:
                raw = values.get((r, c0))
                if raw is None:
                    if figure:  # a blank figure: nothing to look up when the totals are computed
                        known[(tid, rkey, col.key)] = None
                    continue
                if text and raw.__class__ is str:  # plain text (most cells of a form): parse_text's strip, put
                    raw = raw.strip()
                    if not raw:
                        continue
                    if row_values is not None:
                        row_values[col.key] = raw
                        continue
                    self._put(budget, (tid, rkey), budget.input_path(t, rows[rkey], col), raw)
                    if keyed:
                        row_values = parents.get((tid, rkey))
                    continue
                self._store(layout, t, rows[rkey], col, raw, budget, (r, c0))

    def _merges(self, plan: _TablePlan, t: LTable, sh, off: int) -> None:
        """Merged ranges over several input cells: a merge keeps the first and hides what was typed in the others."""
        key = (off, tuple(sh.merged))
        bad = plan.merged.get(key)
        if bad is None:
            inputs = plan.input_cells
            bad = []
            for ref in sh.merged:
                a, _, b = ref.partition(":")
                try:
                    (r0, c0), (r1, c1) = parse_ref(a), parse_ref(b or a)
                except (ValueError, KeyError):
                    continue
                covered = sum((r - off, c) in inputs for r in range(r0, min(r1, r0 + 500) + 1)
                              for c in range(c0, min(c1, c0 + 100) + 1))
                if covered > 1:  # a form's text field spans several columns by design: one input, never two
                    bad.append(ref)
            if len(plan.merged) > 16:
                plan.merged.clear()
            plan.merged[key] = bad
        for ref in bad:
            self.add("cells-merged", "READ.cells-merged", E, cells=(f"{t.sheet}!{ref}",), table=t.id, range=ref)

    def _check_anchors(self, plan: _TablePlan, sh, off: int) -> str:
        values = sh.values
        for r, c0, n, code in plan.anchors:
            found = "".join(str(values.get((r + off, c0 + i), "") or "") for i in range(n)).replace(" ", "")
            if found == code:
                continue
            if normalize_code(found) != code[: len(found)]:
                return f"第 {r + off + 1} 行应为科目 {code}，实为 {found or '空'}"
        return ""

    def _store(self, layout: Layout, t: LTable, row: LRow, col, raw: Any, budget: Budget, rc) -> None:
        def pos() -> str:
            return f"{t.sheet}!{a1(*rc)}"

        path = budget.input_path(t, row, col)
        if row.spare and col.kind in ("code", "project"):
            if col.kind == "code":
                v = normalize_code(raw)
                if raw not in (None, "") and v is None:
                    self.add("input-not-number", "READ.code-format", E, cells=(pos(),), table=t.id, text=str(raw))
            else:
                v = parse_text(raw)
            if v is not None:
                set_path(budget.doc, ("tables", t.id, row.key, col.key), v)
            return
        typ = cell_type(row, col)
        if typ == "amount":
            d = parse_number(raw) if raw.__class__ is float or raw.__class__ is int else None
            how = "number"
            if d is None:
                d, how = parse_amount(raw)
                if how == "bad":
                    self.add("input-not-number", "READ.not-number", E, cells=(pos(),), table=t.id, text=str(raw))
                    return
                if how == "range":
                    self.add("value-out-of-range", "READ.out-of-range", E, cells=(pos(),), table=t.id, text=_clip(raw))
                    return
                if d is None:
                    return
                if how == "number":
                    d = clean_float(d)
                if how == "text":
                    self.add("input-text-number", "READ.text-number", I, cells=(pos(),), table=t.id, text=str(raw),
                             actual=d)
            entry = layout.precision(t.id, col.key).entry_decimals
            if number_places(raw, d) > entry:
                self.add("excess-digits", "READ.excess-digits", W, cells=(pos(),), table=t.id, actual=d,
                         decimals=entry)
            if d < 0:
                self.add("negative-amount", "READ.negative", E, cells=(pos(),), table=t.id, actual=d)
            self._put(budget, (t.id, row.key), path, d)
            if col.kind == "amount":  # a grid or record figure: its value in the model is the Decimal itself
                self._known[(t.id, row.key, col.key)] = d
        elif typ in ("int", "signed_int"):
            if raw.__class__ is float and raw.is_integer() and -QUICK_LARGEST < raw < QUICK_LARGEST:  # parse_int, quick
                v, how = int(raw), "number"
            else:
                v, how = parse_int(raw)
            if how == "range":
                self.add("value-out-of-range", "READ.out-of-range", E, cells=(pos(),), table=t.id, text=_clip(raw))
            elif how == "bad":
                self.add("input-not-number", "READ.not-number", E, cells=(pos(),), table=t.id, text=str(raw))
            elif v is not None:
                self._put(budget, (t.id, row.key), path, v)
                if col.kind == "int":  # a grid or record count: the model reads it as a Decimal
                    self._known[(t.id, row.key, col.key)] = Decimal(v)
        elif typ == "lines":
            v2 = parse_lines(raw)
            if v2:
                self._put(budget, (t.id, row.key), path, v2)
        elif typ == "mapping":
            v3 = parse_mapping(raw)
            if v3:
                self._put(budget, (t.id, row.key), path, v3)
        else:
            s = parse_text(raw)
            if s is not None:
                self._put(budget, (t.id, row.key), path, s)

    def _put(self, budget: Budget, row: tuple[str, str], path: tuple, value: Any) -> None:
        """``set_path`` of the document, the mapping that holds the values of a row (table id, row key) found
        once: every column of a grid or record row, and the one value of a form row, share it."""
        parent = self._parents.get(row)
        if parent is None:
            # the rows of a block of records (or of a table) have their holders in one container: found once
            up = self._containers.get(path[:-2]) if len(path) > 2 else None
            if up is None:
                parent = holder(budget.doc, path)
                if len(path) > 2:
                    self._containers[path[:-2]] = holder(budget.doc, path[:-1])
            else:
                parent = step(up, path[-2], path[-1])
            if not (isinstance(parent, dict) and isinstance(path[-1], str)):
                set_path(budget.doc, path, value)
                return
            self._parents[row] = parent
        parent[path[-1]] = value

    # --- formulas ------------------------------------------------------------------------------------
    def _integrity(self, layout: Layout, t: LTable, budget: Budget, overwrites: bool) -> None:
        sh = self.wb.sheet(t.sheet)
        off = self._offsets[t.id]  # found while reading the table's values
        formulas, values = sh.formulas, sh.values
        cells = self._formulas(layout, t)
        if overwrites:
            for rkey, col, r, c0, want in cells:
                rc = (r + off, c0)
                if formulas.get(rc) is None:
                    self._overwritten(t, t.rows[rkey], col, rc, values.get(rc), budget, want)
            return
        tid, value, overrides = t.id, budget.value, budget.overrides
        for rkey, col, r, c0, want in cells:
            rc = (r + off, c0)
            found_f = formulas.get(rc)
            if found_f is None:
                continue
            # as written (the common case), else alike in another spelling
            if found_f[1:] != want and _normalised(found_f) != normalize_formula(want):
                self.add("formula-changed", "READ.formula-changed", E, cells=(f"{t.sheet}!{a1(*rc)}",), table=t.id,
                         formula=want, found=found_f.lstrip("="))
            cached = values.get(rc)
            if cached.__class__ is float or cached.__class__ is int:
                d = parse_number(cached)
                if d is None:
                    continue
            else:
                d, how = parse_amount(cached)
                if how != "number" or d is None:
                    continue
                d = clean_float(d)
            # (Budget.recomputed: the value unless the cell is overwritten)
            expected = budget.recomputed(tid, rkey, col.key) if overrides else value(tid, rkey, col.key)
            exp = expected if expected is not None else ZERO
            if abs(d - exp) > STALE:
                self.add("cached-value-stale", "READ.cached-stale", W, cells=(f"{t.sheet}!{a1(*rc)}",), table=t.id,
                         actual=d, expected=exp, difference=d - exp)

    def _formulas(self, layout: Layout, t: LTable) -> list[tuple[str, Any, int, int, str]]:
        """The formula cells of a table with their text, those naming another table written for this layout."""
        got = self._resolved.get(t.id)
        if got is None:
            plan = _plan(layout, t)
            if all(f[4] is not None for f in plan.formulas):  # none names another table: the plan's own list
                self._resolved[t.id] = plan.formulas
                return plan.formulas
            got = []
            for rkey, col, r, c0, want in plan.formulas:
                if want is None:  # names another table: its text follows that table's layout
                    want = cell_formula(layout, t, t.rows[rkey], col)
                    if want is None:  # no operand in this layout: not a formula cell
                        continue
                got.append((rkey, col, r, c0, want))
            self._resolved[t.id] = got
        return got

    def _overwritten(self, t: LTable, row: LRow, col, rc: tuple[int, int], cached: Any, budget: Budget,
                     want: str) -> None:
        """A formula cell holding a constant, or emptied: reported, and the constant kept for the rules."""
        pos = f"{t.sheet}!{a1(*rc)}"
        expected = budget.recomputed(t.id, row.key, col.key)
        d, how = parse_amount(cached)
        if d is not None or how in ("bad", "range"):
            shown = d if d is not None else _clip(cached)
            self.add("formula-overwritten", "READ.formula-overwritten", E, cells=(pos,), table=t.id,
                     formula=want, actual=shown, expected=expected)
            self._pending[(t.id, row.key, col.key)] = clean_float(d) if d is not None else None
        elif cached is None:
            self.add("formula-emptied", "READ.formula-overwritten", E, cells=(pos,), table=t.id,
                     formula=want, expected=expected)
            self._pending[(t.id, row.key, col.key)] = None


ZERO = Decimal(0)
