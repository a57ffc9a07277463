"""The readers' quick path for number cells gives what the general parse gives, digit for digit."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from xlbudget.official.read import _amount
from xlbudget.parse import clean_float, decimals_of, number_places, parse_amount, parse_number


def _general(v):
    d, how = parse_amount(v)
    return clean_float(d) if how == "number" and d is not None else None


_NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**17, max_value=10**17),
                     st.decimals(min_value=-10**9, max_value=10**9, places=6, allow_nan=False).map(float))


def _examples(test):
    for v in (0.0, -0.0, 0.30000000000000004, 1e-12, 1e-13, 1e14, 99999999999999.98, 10**15, 2.5e-7, 123.4567890123):
        test = example(v)(test)
    return test


@settings(max_examples=1000, deadline=None)
@given(_NUMBERS)
@_examples
def test_quick_number_is_the_general_parse(v):
    got, want = parse_number(v), _general(v)
    assert str(got) == str(want), (v, got, want)
    if got is not None:
        assert number_places(v, got) == decimals_of(got), v


@settings(max_examples=1000, deadline=None)
@given(_NUMBERS)
@_examples
def test_the_official_readers_amount_of_a_number_is_the_general_parse(v):
    # (the general parse, as the official reader made it for every distinct value before the quick path)
    d, how = parse_amount(v)
    if d is not None and how == "number":
        d = clean_float(d)
    want = (str(d), how, decimals_of(d) if d is not None else 0)
    got = _amount.fn(v)
    assert (str(got[0]), got[1], got[2]) == want, v
