"""Messages render the same as ``string.Formatter`` renders their templates, for every template we ship.

``xlbudget.findings`` fills each template through a precompiled format text; the reference here is the
renderer it replaced, kept verbatim: every param formatted (Decimals in fixed point, lists joined with
"、", echoed user text clipped), the template filled by ``string.Formatter().vformat`` with a dict in which
a missing param renders as "". Hypothesis draws the params: missing ones, lists, Decimals (also NaN and
infinities), long echoed texts, texts holding braces, and params that override a finding's own fields.
"""

from __future__ import annotations

import string
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from xlbudget.findings import ECHO_MAX, ECHO_PARAMS, NUMBERS, Finding, Severity, messages, render


# --- the reference: the renderer before templates were compiled -------------------------------------------
class _Safe(dict):
    def __missing__(self, key):
        return ""


def _ref_fmt(v):
    if isinstance(v, Decimal):
        return format(v, "f") if v.is_finite() else str(v)
    if isinstance(v, (list, tuple)):
        return "、".join(_ref_fmt(x) for x in v)
    return str(v)


def _ref_clip(key, text):
    return text[:ECHO_MAX] + "…" if key in ECHO_PARAMS and len(text) > ECHO_MAX else text


def ref_render(template, params):
    data = _Safe({k: _ref_clip(k, _ref_fmt(v)) for k, v in params.items()})
    return string.Formatter().vformat(template, (), data)


def ref_message(f: Finding, lang: str) -> str:
    m = messages().get(f.kind)
    if m is None:
        return f"[{f.kind}] {dict(f.params)}"
    p = {"position": f.cells[0] if f.cells else "", "cells": f.cells, "rule": f.rule, "table": f.table or ""}
    for k in NUMBERS:
        v = getattr(f, k)
        if v is not None:
            p[k] = v
    p.update(f.params)
    return ref_render(m["template"][lang if lang in m["template"] else "zh"], p)


def ref_title(f: Finding, lang: str) -> str:
    return messages().get(f.kind, {}).get("title", {}).get(lang, f.kind)


# --- what hypothesis draws ------------------------------------------------------------------------------------
def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


TEMPLATES = sorted({(kind, lang, t) for kind, m in messages().items() for lang, t in m["template"].items()})
KINDS = sorted(messages())
ALL_FIELDS = sorted({n for _, _, t in TEMPLATES for n in _fields(t)})

texts = st.one_of(st.text(max_size=8), st.text(min_size=ECHO_MAX - 2, max_size=ECHO_MAX + 40),
                  st.sampled_from(["{", "}", "{position}", "{{x}}", "表6!C12", "科目编码", ""]))
decimals = st.one_of(st.decimals(allow_nan=True, allow_infinity=True, places=2),
                     st.decimals(allow_nan=False, allow_infinity=False),
                     st.sampled_from([Decimal("1E+3"), Decimal("-0.00"), Decimal("0E-7"), Decimal("sNaN")]))
scalars = st.one_of(texts, decimals, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.one_of(scalars, st.lists(st.one_of(texts, decimals, st.integers()), max_size=4),
                   st.tuples(texts, decimals))
cells = st.lists(st.sampled_from(["表6!C12", "表1!A1", "Sheet 1!B2", "表6!" + "C" * 70]), max_size=3)
figures = st.one_of(st.none(), decimals, texts)


@st.composite
def findings(draw, kind=None):
    kind = kind or draw(st.sampled_from(KINDS + ["no-such-kind"]))
    wanted = sorted({n for k, _, t in TEMPLATES if k == kind for n in _fields(t)})
    any_name = st.sampled_from(ALL_FIELDS + ["extra"])  # the params of other kinds, or of none
    names = draw(st.lists(st.one_of(st.sampled_from(wanted), any_name) if wanted else any_name, unique=True,
                          max_size=len(wanted) + 3))
    params = {n: draw(values) for n in names}
    return Finding(kind, draw(st.sampled_from(["X7", "T6.sum", "READ.formula-overwritten", ""])),
                   draw(st.sampled_from(list(Severity))), cells=tuple(draw(cells)), expected=draw(figures),
                   actual=draw(figures), difference=draw(figures), tolerance=draw(figures),
                   table=draw(st.one_of(st.none(), st.sampled_from(["T6", ""]))), params=params)


# --- the tests ----------------------------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(findings())
def test_messages_render_as_the_formatter_renders_them(f):
    for lang in ("zh", "en", "fr"):  # "fr": a language without templates falls back to Chinese
        assert f.message(lang) == ref_message(f, lang)
        assert f.title(lang) == ref_title(f, lang)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_template_renders_as_the_formatter_renders_it(kind, data):
    f = data.draw(findings(kind))
    assert f.message("zh") == ref_message(f, "zh")
    assert f.message("en") == ref_message(f, "en")


@pytest.mark.parametrize("kind,lang,template", TEMPLATES, ids=[f"{k}-{lang}" for k, lang, _ in TEMPLATES])
def test_every_template_with_all_params_missing_or_given(kind, lang, template):
    bare = Finding(kind, "", Severity.ERROR)
    assert bare.message(lang) == ref_message(bare, lang)
    full = Finding(kind, "R", Severity.WARNING, cells=("表6!C12", "表6!C13"), expected=Decimal("1.50"),
                   actual=Decimal("2"), difference=Decimal("-0.5"), tolerance=Decimal("0.005"), table="T6",
                   params={n: ["甲" * 70, Decimal("1E+2")] for n in _fields(template)})
    assert full.message(lang) == ref_message(full, lang)
    assert all(("{" + n + "}") not in full.message(lang) for n in _fields(template))


pieces = st.one_of(texts, st.sampled_from(["{x}", "{y}", "{name}", "{x:>6}", "{x!r}", "{x[0]}",
                                           "{x.__class__.__name__}",
                                           "{{", "}}", "{0}", "{}", "{x:{y}}", "{项目}"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=6).map("".join),
       st.dictionaries(st.sampled_from(["x", "y", "name", "项目", "text"]), values, max_size=4))
def test_render_of_any_template_is_the_formatters(template, params):
    try:
        want = ref_render(template, params)
    except Exception as exc:  # a template the formatter refuses is refused alike
        with pytest.raises(type(exc)):
            render(template, params)
    else:
        assert render(template, params) == want
