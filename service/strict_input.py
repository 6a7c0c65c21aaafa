"""Request input read strictly: JSON bodies, alike for the API and the widget, and the rule
against text no database stores, for bodies, query strings and forms.

Python's parser takes more than JSON (`NaN`, `Infinity`), turns `1e309` into an infinite float
and fails with a ValueError past 4,300 digits; PostgreSQL refuses NUL in text and neither
database nor UTF-8 holds an unpaired surrogate (`"\\ud800"`). Here what is not JSON is
`MalformedJson` (400), a number out of every range reaches the field that reads it as an
infinite float (a 422 naming it), and unstorable text is `UnstorableText` (422 naming where).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

# More digits than any 64-bit number: read as infinite rather than converted (a conversion
# of many thousand digits is slow, and refused past Python's limit).
_MAX_INTEGER_DIGITS = 40
_MAX_REPORTED = 10
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
TEXT_MESSAGE = "text must not hold NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff)"
NAME_MESSAGE = "a name holds NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff)"


class MalformedJson(ValueError):
    """The body is not one JSON document in UTF-8, or nests beyond what the parser reads."""


class UnstorableText(ValueError):
    """Strings of the body (`value`) hold NUL or unpaired surrogates; `messages` says where,
    shaped as marshmallow's."""

    def __init__(self, value: Any, messages: dict[Any, Any] | list[str]) -> None:
        super().__init__("unstorable text")
        self.value, self.messages = value, messages


def _refuse_constant(name: str) -> Any:
    raise MalformedJson(f"{name} is not JSON")


def _integer(text: str) -> int | float:
    if len(text) > _MAX_INTEGER_DIGITS:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


# Stateless, so built once: `json.loads` with options builds a decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_integer)


def loads(data: bytes | str) -> Any:
    """The body as JSON; `MalformedJson` or `UnstorableText` when it cannot be taken."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise MalformedJson(str(exc)) from exc
    # NUL and surrogates can only come as \u escapes: strict JSON refuses raw control
    # characters and strict UTF-8 refuses encoded surrogates. Most bodies have none.
    if "\\u" in text:
        problems = text_problems(value)
        if problems:
            raise UnstorableText(value, problems)
    return value


def _place(problems: dict[Any, Any], path: list[Any], message: str) -> None:
    node = problems
    for step in path[:-1]:
        node = node.setdefault(step, {})
        if not isinstance(node, dict):  # a message already stands higher up
            return
    node.setdefault(path[-1], [message])


def text_problems(value: Any) -> dict[Any, Any] | list[str] | None:
    """Where `value` holds text no database stores, as marshmallow shapes errors ({"comment":
    [...]}, {"people": {3: {"name": [...]}}}); None when nowhere. A bad name is reported at
    the object holding it, never echoed. Walked without recursion: a body may nest as deep
    as the parser allows."""
    if isinstance(value, str):
        return [TEXT_MESSAGE] if UNSTORABLE_TEXT.search(value) else None
    problems: dict[Any, Any] = {}
    found = 0
    # (value, path as (parent path, step) pairs): a path is spelt out only for a problem.
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack and found < _MAX_REPORTED:
        item, link = stack.pop()
        children: Iterable[tuple[Any, Any]]
        if isinstance(item, dict):
            if any(UNSTORABLE_TEXT.search(key) for key in item):
                found += 1
                _place(problems, _spelt(link) or ["_schema"], NAME_MESSAGE)
                continue
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            if isinstance(item, str) and UNSTORABLE_TEXT.search(item):
                found += 1
                _place(problems, _spelt(link), TEXT_MESSAGE)
            continue
        stack.extend((child, (link, step)) for step, child in children)
    return problems or None


def _spelt(link: Any) -> list[Any]:
    path: list[Any] = []
    while link is not None:
        link, step = link
        path.append(step)
    return path[::-1]


def field_problems(fields: Any) -> dict[str, list[str]] | None:
    """Fields of a query string or form (a werkzeug `MultiDict`) holding NUL, the only
    unstorable text werkzeug's decoding lets through, by name."""
    problems: dict[str, list[str]] = {}
    for name, value in fields.items(multi=True):
        if UNSTORABLE_TEXT.search(name):
            problems["_schema"] = [NAME_MESSAGE]
        elif UNSTORABLE_TEXT.search(value):
            problems[name] = [TEXT_MESSAGE]
    return problems or None
