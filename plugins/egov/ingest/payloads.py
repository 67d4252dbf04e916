"""A record as PostgreSQL can store it, whatever the source sent.

A parsed record can hold what a ``jsonb`` column (and COPY's text) cannot: NaN and ±Infinity (JSON has no such
numbers, yet Python's json reads and writes them), the character NUL, lone surrogates (a JSON ``"\\ud800"``
without its partner, which has no UTF-8 form), integers Python will not write as text (over 4,300 digits),
values that are no JSON at all (a time of day read from a workbook), and nesting deep enough to exhaust a
parser's stack. One such value anywhere in a record, in a field nobody reads included, used to fail the whole
batch's COPY. :func:`unstorable` finds it and says where; :func:`escaped_json` writes the record in a form that
can be stored, so that the loader quarantines it, keeps what it held, and loads the rest of its batch.
"""

from __future__ import annotations

import json
import math

from egov.core.fields import UNSTORABLE_CHARACTER, printable, quoted

#: Deeper than this, a record is refused: no registry field nests at all, and PostgreSQL's and Python's JSON
#: readers and writers recurse once per level.
MAX_DEPTH = 64
#: About 3,900 digits: Python refuses to write an integer of more than 4,300 digits as text.
MAX_INTEGER_BITS = 13_000


def _where(path: str) -> str:
    return f"field {quoted(path)}" if path else "the record"


def _unstorable_scalar(value: object, path: str) -> str | None:
    if isinstance(value, str):
        found = UNSTORABLE_CHARACTER.search(value)
        if found:
            return (f"{_where(path)} holds U+{ord(found.group()):04X}, which PostgreSQL cannot store (a NUL or half "
                    f"a surrogate pair): {quoted(value)}")
        return None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() > MAX_INTEGER_BITS:
            return f"{_where(path)} is {quoted(value)}, too long an integer to write as text"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{_where(path)} is {value!r}, a number JSON and jsonb do not have"
    return f"{_where(path)} is {quoted(value)}, which is not a JSON value"


def unstorable(value: object, path: str = "") -> str | None:
    """Why ``value`` (a record, or the value of field ``path``) cannot be stored as jsonb; None if it can.

    Iterative, so that a record nested far deeper than Python's recursion limit is judged like any other."""
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return f"{_where(where)} nests more than {MAX_DEPTH} levels deep"
            if isinstance(item, list):
                stack.extend((element, f"{where}[{index}]", depth + 1) for index, element in enumerate(item))
                continue
            for key, element in item.items():
                if not isinstance(key, str):
                    return f"{_where(where)} has a field name that is not text: {quoted(key)}"
                if UNSTORABLE_CHARACTER.search(key):
                    return (f"the field name {quoted(key)} holds a character PostgreSQL cannot store (a NUL or half "
                            "a surrogate pair)")
                stack.append((element, f"{where}.{key}" if where else key, depth + 1))
        elif (problem := _unstorable_scalar(item, where)) is not None:
            return problem
    return None


def _escaped_text(text: str) -> str:
    """``text`` as a JSON string PostgreSQL can store: a NUL or a lone surrogate is written as its escape."""
    if UNSTORABLE_CHARACTER.search(text):
        text = UNSTORABLE_CHARACTER.sub(lambda found: ascii(found.group())[1:-1], text)
    return json.dumps(text, ensure_ascii=False)


def _escaped_scalar(value: object) -> str:
    if isinstance(value, str):
        return _escaped_text(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if value.bit_length() <= MAX_INTEGER_BITS else _escaped_text(hex(value))
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else _escaped_text(repr(value))
    return _escaped_text(printable(repr(value)))


def escaped_json(value: object, max_depth: int | None = MAX_DEPTH) -> str:
    """``value`` as JSON that PostgreSQL's jsonb stores, keeping everything it holds: what JSON or PostgreSQL
    cannot hold is written as a string of its Python form (NaN as "nan", a NUL as "\\x00", an integer too long
    for text in hex, a time of day as "datetime.time(9, 30)"), and what nests deeper than ``MAX_DEPTH`` as a
    string of its own escaped JSON. Keys sorted, as the loader's canonical JSON sorts them."""
    parts: list[str] = []
    # Work items: (True, text to write) or (False, value to write, its depth).
    stack: list[tuple[bool, object, int]] = [(False, value, 0)]
    while stack:
        is_text, item, depth = stack.pop()
        if is_text:
            parts.append(str(item))
        elif isinstance(item, dict | list) and max_depth is not None and depth >= max_depth:
            parts.append(_escaped_text(escaped_json(item, max_depth=None)))
        elif isinstance(item, dict):
            entries = sorted(((key if isinstance(key, str) else printable(repr(key)), element)
                              for key, element in item.items()), key=lambda entry: entry[0])
            work: list[tuple[bool, object, int]] = [(True, "{", depth)]
            for number, (key, element) in enumerate(entries):
                work += [(True, ("," if number else "") + _escaped_text(key) + ":", depth), (False, element, depth + 1)]
            stack.extend(reversed([*work, (True, "}", depth)]))
        elif isinstance(item, list):
            work = [(True, "[", depth)]
            for number, element in enumerate(item):
                work += [(True, ",", depth)] if number else []
                work.append((False, element, depth + 1))
            stack.extend(reversed([*work, (True, "]", depth)]))
        else:
            parts.append(_escaped_scalar(item))
    return "".join(parts)
