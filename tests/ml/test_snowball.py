"""Snowball stems as the analyzer gives them: Russian for Cyrillic words, English for Latin.

The expected stems are the published Snowball algorithms' (snowballstem.org), a few per step
and exceptional case, so a change of stemmer or of how the analyzer picks one shows here.
"""

from __future__ import annotations

import pytest

from ml.tokenise import MultilingualAnalyzer

ENGLISH = [
    ("generously", "generous"),
    ("communication", "communic"),
    ("international", "internat"),
    ("skies", "sky"),
    ("news", "news"),
    ("caresses", "caress"),
    ("ponies", "poni"),
    ("dying", "die"),
    ("hopping", "hop"),
    ("agreed", "agre"),
    ("charging", "charg"),
    ("happily", "happili"),
    ("hopefulness", "hope"),
    ("geologist", "geolog"),
    ("replacement", "replac"),
    ("controllable", "control"),
]

RUSSIAN = [
    ("доставкой", "доставк"),
    ("армией", "арм"),
    ("подключения", "подключен"),
    ("говорила", "говор"),
    ("работают", "работа"),
    ("умывается", "умыва"),
    ("прочитавши", "прочита"),
    ("улыбнувшись", "улыбнувш"),
    ("мусорные", "мусорн"),
    ("сделанный", "сдела"),
    ("красивейший", "красив"),
    ("организованно", "организова"),
    ("возможность", "возможн"),
    ("ждем", "ждем"),
    ("стол", "стол"),
]


@pytest.fixture(scope="module")
def analyzer() -> MultilingualAnalyzer:
    # Unigrams only: no prefixes, and function words kept so that every word is a feature.
    return MultilingualAnalyzer(stem_length=0, drop_stop_words=False)


@pytest.mark.parametrize(("word", "stem"), ENGLISH)
def test_english_stem(analyzer: MultilingualAnalyzer, word: str, stem: str) -> None:
    assert analyzer(word) == [stem]


@pytest.mark.parametrize(("word", "stem"), RUSSIAN)
def test_russian_stem(analyzer: MultilingualAnalyzer, word: str, stem: str) -> None:
    assert analyzer(word) == [stem]


def test_words_of_other_scripts_are_not_stemmed(analyzer: MultilingualAnalyzer) -> None:
    assert analyzer("ελλάδα") == ["ελλάδα"]
