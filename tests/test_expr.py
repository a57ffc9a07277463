"""The expression language of the table descriptions: parsed alike whatever characters its keys use."""

from __future__ import annotations

import pytest

from xlbudget.errors import DescriptionError
from xlbudget.expr import Ref, Term, parse
from xlbudget.rules import base


@pytest.mark.parametrize("text, terms", [
    ("basic + project", [(1, None, None, "basic"), (1, None, None, "project")]),
    ("total.gp", [(1, None, "total", "gp")]),
    (" T2.total.gp - T2.total.gp_transfer ", [(1, "T2", "total", "gp"), (-1, "T2", "total", "gp_transfer")]),
    ("{table}.r_{code}.amount", [(1, "{table}", "r_{code}", "amount")]),
    ("T7.*.amount", [(1, "T7", "*", "amount")]),
    ("表3.合计.金额 - 支出", [(1, "表3", "合计", "金额"), (-1, None, None, "支出")]),   # CJK keys: the whole pattern
    ("合计.amount+T1.r1.x", [(1, None, "合计", "amount"), (1, "T1", "r1", "x")]),
])
def test_expressions_parse_to_their_terms(text, terms):
    got = parse(text)
    assert got.terms == tuple(Term(s, Ref(t, r, c)) for s, t, r, c in terms)


@pytest.mark.parametrize("text", ["", "a b", "a + (b)", "a + b.c.d.e", "a * b", "合计 金额", "a + é", "甲 + 乙（丙）"])
def test_what_is_not_a_signed_sum_of_references_is_refused(text):
    with pytest.raises(DescriptionError):
        parse(text)


@pytest.mark.parametrize("value, word", [
    ("2010301", True), ("T6", True), ("p_1:x", True), ("项目一", True), ("r_一般", True),
    ("", False), ("a.b", False), ("a b", False), ("é", False), ("（", False), ("a-b", False),
])
def test_a_word_that_fills_a_placeholder(value, word):
    assert base._is_word(value) is word


def test_a_pattern_for_text_compiles_its_cjk_classes_only_for_a_text_that_needs_them():
    from xlbudget.expr import pattern_for_text

    word = pattern_for_text(r"[a-z\u4e00-\u9fff]+\Z")
    assert word("abc").match("abc") and not word("abc").match("ab1")
    assert word("abc").pattern == r"[a-z]+\Z"
    assert word("项目").match("项目") and word("项目").pattern == r"[a-z\u4e00-\u9fff]+\Z"
    assert word("项目") is word("合计")          # compiled once
    with pytest.raises(ValueError):
        pattern_for_text(r"[a-z]+")             # nothing to leave out: a mistake in the pattern
