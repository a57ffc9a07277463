"""Indented JSON text, the same characters as ``json.dumps(obj, ensure_ascii=False, indent=N)``, in about
half the time.

The standard library encodes with its C accelerator only without ``indent``; indented text goes through
its pure-Python generator, value by value. Here each list or object goes through the C encoder at once,
with the separators of its depth, a null standing for each nested container; only the nested containers
are walked in Python.

``dumps(obj, indent, level)`` also writes a value nested ``level`` deep in a larger document (the check
report writes one submission at a time). ``records(keys, rows, indent, level)`` writes a list of objects
that share their keys (the findings of a submission) from the rows of their values, without the objects.
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring
from typing import Any, Callable, Iterable, Sequence

__all__ = ["dumps", "records"]

_PLAIN = (str, int, float, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)  # a container of exactly these is flat (of their subclasses too, told slower)
_ENCODERS: dict[Any, Any] = {}  # encoders and format texts by what they are for


def _refuse(o: Any) -> Any:
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _flat(indent: int, level: int) -> Callable[[Any], str]:
    """The text of a container of plain values at ``level`` (its items one level deeper), from the C
    encoder with the separators of that depth; the standard library's pure-Python one without it."""
    key = (indent, level)
    enc = _ENCODERS.get(key)
    if enc is None:
        sep = ",\n" + " " * (indent * (level + 1))
        if c_make_encoder is not None:
            make = c_make_encoder(None, _refuse, encode_basestring, None, ": ", sep, False, False, True)
            enc = _ENCODERS[key] = lambda o: "".join(make(o, 0))
        else:  # pragma: no cover - a Python without the C accelerator
            enc = _ENCODERS[key] = json.JSONEncoder(ensure_ascii=False, separators=(sep, ": ")).encode
    return enc


def _encode(o: Any, indent: int, level: int) -> str:
    if isinstance(o, _PLAIN):
        return json.dumps(o, ensure_ascii=False)
    is_dict = isinstance(o, dict)
    if not is_dict and not isinstance(o, (list, tuple)):
        return json.dumps(o)  # what json itself refuses: its own error
    opening, closing = ("{", "}") if is_dict else ("[", "]")
    if not o:
        return opening + closing
    flat = _flat(indent, level)
    inner = "\n" + " " * (indent * (level + 1))
    if _PLAIN_TYPES.issuperset(map(type, o.values() if is_dict else o)):
        return opening + inner + flat(o)[1:-1] + "\n" + " " * (indent * level) + closing
    values = list(o.values()) if is_dict else o
    nested = [i for i, v in enumerate(values) if not isinstance(v, _PLAIN)]
    # the container once through the C encoder with null for each nested value; its items split at the
    # separator (the text of a plain key or value never holds a line break), each null replaced by the
    # text of its value
    if is_dict:
        plain = dict(o)
        keys = list(o)
        for i in nested:
            plain[keys[i]] = None
    else:
        plain = list(o)
        for i in nested:
            plain[i] = None
    items = flat(plain)[1:-1].split("," + inner)
    for i in nested:
        items[i] = items[i][:-4] + _encode(values[i], indent, level + 1)  # "null" → the value's text
    return opening + inner + ("," + inner).join(items) + "\n" + " " * (indent * level) + closing


def _record_format(keys: tuple[str, ...], indent: int, level: int) -> str:
    """A format text of an object of ``keys`` at ``level``: ``{0}``, ``{1}``… stand for the values' texts."""
    key = ("record", keys, indent, level)
    fmt = _ENCODERS.get(key)
    if fmt is None:
        if not all(isinstance(k, str) for k in keys):
            raise TypeError("the keys of records must be str")
        inner = "\n" + " " * (indent * (level + 1))
        items = [inner + encode_basestring(k).replace("{", "{{").replace("}", "}}") + ": {" + str(i) + "}"
                 for i, k in enumerate(keys)]
        fmt = "{{" + ",".join(items) + "\n" + " " * (indent * level) + "}}" if keys else "{{}}"
        _ENCODERS[key] = fmt
    return fmt


def records(keys: Sequence[str], rows: Iterable[Sequence[Any]], indent: int = 2, level: int = 0) -> str:
    """``dumps([dict(zip(keys, row)) for row in rows], indent, level)``, from the rows: each row's strings
    through the C string encoder, its lists and objects of plain values through the C encoder at once,
    anything else through :func:`dumps`; the texts of a row fill a format text of its keys made once."""
    keys = tuple(keys)
    fmt = _record_format(keys, indent, level + 1)
    deeper = level + 2
    flat = _flat(indent, deeper)
    inner = "\n" + " " * (indent * (deeper + 1))
    outer = "\n" + " " * (indent * deeper)
    dict_open, dict_close, list_open, list_close = "{" + inner, outer + "}", "[" + inner, outer + "]"
    plain = _PLAIN_TYPES.issuperset
    enc = encode_basestring

    def container(v: Any) -> str:
        cls = v.__class__
        if cls is dict:
            if v and plain(map(type, v.values())):
                return dict_open + flat(v)[1:-1] + dict_close
        elif (cls is list or cls is tuple) and v and plain(map(type, v)):
            return list_open + flat(v)[1:-1] + list_close
        return _encode(v, indent, deeper)

    out = []
    for row in rows:
        if len(row) != len(keys):
            raise ValueError(f"a row of {len(row)} values for {len(keys)} keys")
        out.append(fmt.format(*[enc(v) if v.__class__ is str else "null" if v is None else container(v)
                                for v in row]))
    if not out:
        return "[]"
    inner = "\n" + " " * (indent * (level + 1))
    return "[" + inner + ("," + inner).join(out) + "\n" + " " * (indent * level) + "]"


def dumps(obj: Any, indent: int = 2, level: int = 0) -> str:
    """``json.dumps(obj, ensure_ascii=False, indent=indent)``, as if the value were nested ``level`` deep:
    every line after the first indented ``level × indent`` more."""
    return _encode(obj, indent, level)
