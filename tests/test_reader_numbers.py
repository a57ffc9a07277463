"""The reader's quick path for number cells gives what the general parse gives, digit for digit."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlbudget.parse import clean_float, parse_amount
from xlbudget.reader import _number


def _general(v):
    d, how = parse_amount(v)
    return clean_float(d) if how == "number" and d is not None else None


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**17, max_value=10**17),
                 st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False).map(float)))
@example(0.0)
@example(-0.0)
@example(0.30000000000000004)
@example(1e-12)
@example(1e14)
@example(99999999999999.98)
@example(10**15)
def test_quick_number_is_the_general_parse(v):
    got, want = _number(v), _general(v)
    assert str(got) == str(want), (v, got, want)
