"""xlbudget.jsontext writes the characters json.dumps(ensure_ascii=False, indent=N) writes."""

from __future__ import annotations

import enum
import json
import random
from decimal import Decimal

import pytest

from xlbudget.jsontext import dumps, records


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


SAMPLES = [
    {},
    [],
    (),
    "表6!C12",
    0,
    -3,
    2.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    True,
    None,
    {"a": {}, "b": [], "c": [{}], "d": [[]]},
    {"rule": "X1", "cells": ["表1!C5", "表2!D7"], "expected": "12.30", "actual": None, "params": {"n": 3}},
    {"mixed": [1, "两", {"k": [None, True, 1.5]}, [], "末"], "t": (1, (2, 3), ())},
    {1: "int key", 2.5: "float key", True: "bool key", None: "none key", "s": "str key"},
    {"control": "a\nb\t\"c\"\\\x00\x1f\u2028", "emoji": "💰", "quote": "“引号”"},
    [Level.LOW, Name("子类"), {"v": Level.LOW, "w": Name("x")}],
    [{"a": 1}, 2, 3, {"b": [4, {"c": 5}]}, 6],
]


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice(["", "x", "金额", "a\nb", "\"q\"", "表3!E9"])
    if kind == 1:
        return rng.randint(-10**6, 10**6)
    if kind == 2:
        return rng.choice([0.0, 1.25, -3.5e-7, 1e21])
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return None
    if kind in (5, 6):
        return {rng.choice(["k", "键", "x"]) + str(i): _random_value(rng, depth + 1) for i in range(rng.randrange(5))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randrange(5))]


@pytest.mark.parametrize("indent", [1, 2, 4])
def test_same_text_as_json_dumps(indent):
    rng = random.Random(14)
    for obj in SAMPLES + [_random_value(rng) for _ in range(300)]:
        assert dumps(obj, indent) == json.dumps(obj, ensure_ascii=False, indent=indent), obj


def test_nested_level_indents_every_following_line():
    obj = {"findings": [{"rule": "X1", "cells": ["A1"], "params": {}}], "n": 1}
    want = json.dumps(obj, ensure_ascii=False, indent=2).replace("\n", "\n    ")
    assert dumps(obj, 2, level=2) == want


@pytest.mark.parametrize("bad", [Decimal("1.5"), {"a": object()}, [1, {2, 3}], {(1, 2): "tuple key"}])
def test_refuses_what_json_refuses(bad):
    with pytest.raises(TypeError):
        json.dumps(bad, ensure_ascii=False, indent=2)
    with pytest.raises(TypeError):
        dumps(bad)


@pytest.mark.parametrize("level", [0, 1, 3])
def test_records_are_the_text_of_their_objects(level):
    rng = random.Random(7)
    keys = ("rule", "cells", "键{0}", "params", "n")
    rows = [tuple(_random_value(rng, 3) for _ in keys) for _ in range(300)]
    rows += [("X1", ["表1!C5"], None, {}, 1), ("X1", (), "", {"k": "v"}, 2.5),
             (Name("子类"), [Name("a"), "b"], Level.LOW, {"v": [1, {"w": []}]}, True),
             ("a\nb", ["\x00", "“”"], [None, 1], [[]], -0.0)]
    for n in (0, 1, len(rows)):
        objs = [dict(zip(keys, row)) for row in rows[:n]]
        want = json.dumps(objs, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)
        assert records(keys, rows[:n], 2, level) == want
    assert records((), [(), ()], 4) == json.dumps([{}, {}], indent=4)


def test_records_refuse_what_json_refuses_and_rows_of_another_length():
    with pytest.raises(TypeError):
        records(("a",), [(Decimal("1"),)])
    with pytest.raises(TypeError):
        records(("a",), [([1, object()],)])
    with pytest.raises(ValueError):
        records(("a", "b"), [("only one",)])
