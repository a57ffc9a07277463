"""Check the words against the figures: the 情况说明 and the project texts of a disclosure.

    check_narrative(budget, lines) -> list[Finding]
    narrative_lines(path) / lines_of_sheets(workbook, sheets) / companion(workbook)

* :mod:`.sources`     where the narrative is (a sheet, .txt, .docx, PDF) and its sentences, positioned
* :mod:`.vocabulary`  the set's names of figures (``templates/<set>/vocabulary.toml``) and their values
* :mod:`.statements`  statements read from the sentences (amounts, shares, changes, none, lists …)
* :mod:`.rules`       each statement against its figure (rule ids ``N.*``, severities as data)
* :mod:`.projects`    a project's 资金分配 against its 年度预算总额 and its 绩效 cost indicators
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from ..findings import Finding
    from ..model import Budget
    from ..tableset import TableSet
    from .sources import Line, NarrativeError, lines_of_sheets, read_file
    from .statements import Statement
    from .vocabulary import load_vocabulary

__all__ = ["check_narrative", "statements_of", "read_file", "lines_of_sheets", "companion", "NarrativeError",
           "Line", "load_vocabulary", "narrative_sheets", "set_narrative_sheets"]

# Names kept in the modules above, imported on first use: a check whose workbook has no narrative loads
# none of the statement and rule machinery.
_LAZY = {"read_file": "sources", "lines_of_sheets": "sources", "NarrativeError": "sources", "Line": "sources",
         "load_vocabulary": "vocabulary"}
SUFFIXES = (".txt", ".docx", ".pdf")    # the narrative files read (:func:`.sources.read_file`)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def companion(workbook: str | os.PathLike) -> Path | None:
    """A narrative file beside a workbook with the same stem (``单位A.xlsx`` → ``单位A.docx``), if any."""
    p = Path(workbook)
    for suffix in SUFFIXES:
        for cand in (p.with_suffix(suffix), p.with_suffix(suffix.upper())):
            if cand.is_file():
                return cand
    return None


def statements_of(budget: Budget, lines: Sequence[Line]) -> list[Statement]:
    from .sources import sentences
    from .statements import extract
    from .vocabulary import Figures, load_vocabulary

    vocab = load_vocabulary(budget.layout.tableset)
    if vocab is None:
        return []
    figures = Figures(budget, vocab)
    return extract(vocab, list(vocab.terms) + figures.row_terms(), sentences(lines, vocab.tables))


def check_narrative(budget: Budget, lines: Sequence[Line], *, projects: bool = True) -> list[Finding]:
    """Findings of the narrative ``lines`` against the budget's tables (none when the set has no vocabulary)."""
    from .projects import check_projects
    from .rules import check_statements
    from .sources import sentences
    from .statements import extract
    from .vocabulary import Figures, load_vocabulary

    vocab = load_vocabulary(budget.layout.tableset)
    if vocab is None:
        return []
    figures = Figures(budget, vocab)
    sts = extract(vocab, list(vocab.terms) + figures.row_terms(), sentences(lines, vocab.tables))
    findings = check_statements(figures, vocab, sts)
    if projects:
        findings.extend(check_projects(figures, vocab))
    return findings


def narrative_sheets(budget: Budget) -> tuple[str, ...]:
    """The sheets of a workbook that hold the narrative: the text sheets of the set's disclosure
    (``disclosure.toml``) and the sheets the vocabulary adds (those of an official template). Found out
    when the set was checked (:func:`xlbudget.tableset.set_facts`), so that a workbook without them is
    checked without loading the vocabulary."""
    from ..tableset import set_facts

    ts = budget.layout.tableset
    known = set_facts(ts).get("narrative_sheets")
    if isinstance(known, list) and all(isinstance(s, str) for s in known):
        return tuple(known)
    return set_narrative_sheets(ts)


def set_narrative_sheets(ts: TableSet) -> tuple[str, ...]:
    """:func:`narrative_sheets` of any workbook of the set ``ts``, from its files."""
    from ..setdata import disclosure_plan
    from .vocabulary import load_vocabulary

    vocab = load_vocabulary(ts)
    if vocab is None:
        return ()
    text = tuple(s.name for s in disclosure_plan(ts).sheets if s.kind == "text" and s.name)
    return tuple(dict.fromkeys(text + vocab.sheets))
