"""Normalise raw feedback text so that surface noise does not create spurious themes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sklearn.base import BaseEstimator, TransformerMixin

# Placeholders are plain lowercase words so every tokeniser keeps them intact; they let
# "call 555-1234" and "call 555-9876" look alike without letting the digits become themes.
URL_TOKEN = "xurl"
EMAIL_TOKEN = "xemail"
MENTION_TOKEN = "xuser"
NUMBER_TOKEN = "xnum"
PLACEHOLDERS = (URL_TOKEN, EMAIL_TOKEN, MENTION_TOKEN, NUMBER_TOKEN)

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w@])@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")
# Three or more of the same punctuation mark ("!!!!", "????", "....") carry emphasis, not
# content; one copy keeps the emphasis signal without inflating character n-grams.
_REPEATED_PUNCT = re.compile(r"([^\w\s])\1{2,}")
# Letters stretched for emphasis ("sooooo", "оооочень") are shortened to two copies.
_REPEATED_LETTER = re.compile(r"(\w)\1{2,}")
_SPACE = re.compile(r"\s+")


def normalise_text(text: str, max_chars: int = 2000) -> str:
    """Return a lower-cased, placeholder-substituted, whitespace-collapsed copy of ``text``."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    # Very long texts cost time in every later step but rarely add a new theme; their opening
    # usually states the complaint.
    text = text[:max_chars]
    # NFKC folds full-width Latin letters and digits (common in Chinese input) onto ASCII.
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    text = _MENTION.sub(f" {MENTION_TOKEN} ", text)
    text = _NUMBER.sub(f" {NUMBER_TOKEN} ", text)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    text = _REPEATED_LETTER.sub(r"\1\1", text)
    return _SPACE.sub(" ", text).strip()


class TextNormaliser(TransformerMixin, BaseEstimator):
    """Pipeline step applying :func:`normalise_text` to every text; it learns nothing."""

    def __init__(self, max_chars: int = 2000) -> None:
        self.max_chars = max_chars

    def fit(self, X: Iterable[str], y: object = None) -> TextNormaliser:
        return self

    def transform(self, X: Iterable[str]) -> list[str]:
        return [normalise_text(t, self.max_chars) for t in X]
