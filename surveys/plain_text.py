"""Control characters in stored texts: which a one-line or a multi-line text may not hold.

A one-line text (a person's name, a survey's name, product name or email subject) can end
up in an email header, where a line break would start a header or the body of the
attacker's choosing. It holds no control character at all: no C0 (tab included: it folds
headers), no DEL, no C1 (U+0085 is a line break to some readers) and no Unicode line or
paragraph separator. A multi-line text (a question, an intro paragraph) may hold tab, line
feed, carriage return and the Unicode separators, and no other control character.
"""

from __future__ import annotations

import re

_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def is_single_line(text: str) -> bool:
    return _SINGLE_LINE.search(text) is None


def is_multi_line(text: str) -> bool:
    return _MULTI_LINE.search(text) is None


def single_line(text: str) -> str:
    """The text with each run of control characters made one space: a stored text from
    before the rule, fit for a header."""
    return _SINGLE_LINE.sub(" ", text)
