"""English (Porter2) and Russian Snowball stemmers in pure Python.

They exist so that ``ml/`` depends on numpy, scipy, scikit-learn and joblib only: they
replace PyStemmer (a C extension) and give exactly its stems (PyStemmer 3.1.0, whose English
stemmer is the Snowball 3 revision, with the "inter", "past", "univers", ... region prefixes
and the "-ogist" rule). ``tests/ml/test_snowball.py`` pins stems taken from PyStemmer.

The algorithms are the published Snowball ones (snowballstem.org). Their ``among`` picks the
longest listed suffix that fits and then either applies it or fails; it never falls back to a
shorter one, which is why every step below first finds the longest suffix and only then tests
its condition.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["english_stem", "russian_stem"]


def _by_length(suffixes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(suffixes, key=len, reverse=True))


def _longest_suffix(word: str, suffixes: tuple[str, ...], limit: int = 0) -> str:
    """Longest of ``suffixes`` (sorted longest first) ending ``word`` at or after ``limit``."""
    room = len(word) - limit
    for suffix in suffixes:
        if len(suffix) <= room and word.endswith(suffix):
            return suffix
    return ""


def _after_vowel_run(word: str, start: int, vowels: frozenset[str]) -> int:
    """Index after the first non-vowel that follows a vowel at or after ``start``, else len."""
    n = len(word)
    i = start
    while i < n and word[i] not in vowels:
        i += 1
    while i < n and word[i] in vowels:
        i += 1
    return i + 1 if i < n else n


# --- English (Porter2) ---------------------------------------------------------------------

_EN_V = frozenset("aeiouy")
# "Y" is a y marked as a consonant, so it never counts as a vowel; a short syllable may not
# end in w, x or such a Y.
_EN_V_WXY = _EN_V | frozenset("wxY")
_EN_VALID_LI = frozenset("cdeghkmnrt")
_EN_DOUBLES = frozenset(("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"))

# Whole words the rules would mangle (or that are plurals only in appearance).
_EN_EXCEPTIONS = {
    "skis": "ski",
    "skies": "sky",
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
}
# Prefixes taken whole as the part before R1, so that e.g. "general" and "generous" keep
# "gener" instead of being cut to "gen".
_EN_R1_PREFIXES = (
    "gener", "commun", "arsen", "inter", "past", "univers", "later", "emerg", "organ",
)  # fmt: skip

_EN_APOSTROPHE = _by_length(("'", "'s", "'s'"))
_EN_1A = _by_length(("sses", "ied", "ies", "s", "us", "ss"))
_EN_1B = _by_length(("eed", "eedly", "ed", "edly", "ing", "ingly"))
# "-ing" words left alone because they are not verb + "-ing".
_EN_ING_INVARIANT = frozenset(("inn", "out", "cann", "herr", "earr", "even"))
_EN_STEP2 = {
    "tional": "tion",
    "enci": "ence",
    "anci": "ance",
    "abli": "able",
    "entli": "ent",
    "izer": "ize",
    "ization": "ize",
    "ational": "ate",
    "ation": "ate",
    "ator": "ate",
    "alism": "al",
    "aliti": "al",
    "alli": "al",
    "fulness": "ful",
    "ousli": "ous",
    "ousness": "ous",
    "iveness": "ive",
    "iviti": "ive",
    "biliti": "ble",
    "bli": "ble",
    "ogist": "og",
    "ogi": "og",
    "fulli": "ful",
    "lessli": "less",
    "li": "",
}
_EN_STEP2_KEYS = _by_length(_EN_STEP2)
_EN_STEP3 = {
    "tional": "tion",
    "ational": "ate",
    "alize": "al",
    "icate": "ic",
    "iciti": "ic",
    "ical": "ic",
    "ful": "",
    "ness": "",
    "ative": "",
}
_EN_STEP3_KEYS = _by_length(_EN_STEP3)
_EN_STEP4 = _by_length(
    (
        "al",
        "ance",
        "ence",
        "er",
        "ic",
        "able",
        "ible",
        "ant",
        "ement",
        "ment",
        "ent",
        "ism",
        "ate",
        "iti",
        "ous",
        "ive",
        "ize",
        "ion",
    )
)


def _short_syllable_ends_at(word: str, end: int) -> bool:
    if end >= 3 and (
        word[end - 1] not in _EN_V_WXY and word[end - 2] in _EN_V and word[end - 3] not in _EN_V
    ):
        return True
    if end == 2 and word[1] not in _EN_V and word[0] in _EN_V:
        return True
    # "pasted", "pasting" -> "past" + "e", matching the "past" region prefix.
    return word[end - 4 : end] == "past" if end >= 4 else False


def _english_step_1b(w: str, p1: int) -> str:
    suffix = _longest_suffix(w, _EN_1B)
    if not suffix:
        return w
    stem = w[: -len(suffix)]
    if suffix in ("eed", "eedly"):
        # "proceed", "exceed", "succeed" keep their "ee" even though it is a suffix shape.
        if stem in ("proc", "exc", "succ"):
            return w
        return stem + "ee" if len(stem) >= p1 else w
    if suffix == "ing":
        if stem.endswith("y"):
            # dying -> die, lying -> lie, tying -> tie, vying -> vie.
            if len(stem) == 2 and stem[0] not in _EN_V:
                return stem[0] + "ie"
        elif stem in _EN_ING_INVARIANT:
            return w
    if not any(c in _EN_V for c in stem):
        return w  # "sing", "bed": no vowel before the suffix, so it is not a suffix
    if stem.endswith(("at", "bl", "iz")):
        return stem + "e"
    if stem[-2:] in _EN_DOUBLES:
        # "add", "ebb", "egg", "err", "off" are whole words, not doubled for the suffix.
        if len(stem) == 3 and stem[0] in "aeo":
            return stem
        return stem[:-1]
    if len(stem) == p1 and _short_syllable_ends_at(stem, len(stem)):
        return stem + "e"  # "hoped" -> "hope"
    return stem


def english_stem(word: str) -> str:
    """Snowball English ("Porter2") stem of a lower-case ``word``, as PyStemmer gives it."""
    exception = _EN_EXCEPTIONS.get(word)
    if exception is not None:
        return exception
    if len(word) < 3:
        return word

    # Prelude: a y that acts as a consonant (initial, or after a vowel) becomes "Y".
    w = word[1:] if word.startswith("'") else word
    y_found = False
    if "y" in w:
        chars = list(w)
        if chars[0] == "y":
            chars[0] = "Y"
            y_found = True
        for i in range(1, len(chars)):
            if chars[i] == "y" and chars[i - 1] in _EN_V:
                chars[i] = "Y"
                y_found = True
        w = "".join(chars)

    n = len(w)
    p1 = next((len(p) for p in _EN_R1_PREFIXES if w.startswith(p)), -1)
    if p1 < 0:
        p1 = _after_vowel_run(w, 0, _EN_V)
    p2 = _after_vowel_run(w, p1, _EN_V) if p1 < n else n

    # Step 1a: possessives, then plurals.
    suffix = _longest_suffix(w, _EN_APOSTROPHE)
    if suffix:
        w = w[: -len(suffix)]
    suffix = _longest_suffix(w, _EN_1A)
    if suffix == "sses":
        w = w[:-2]
    elif suffix in ("ied", "ies"):
        # "ties" -> "tie" but "cries" -> "cri": two letters must precede the suffix.
        w = w[:-3] + ("i" if len(w) > 4 else "ie")
    elif suffix == "s" and any(c in _EN_V for c in w[:-2]):
        w = w[:-1]  # "gas", "this" keep their s: no vowel before the letter before it

    w = _english_step_1b(w, p1)

    # Step 1c: a final y after a consonant (not the first letter) becomes i.
    if len(w) > 2 and w[-1] in "yY" and w[-2] not in _EN_V:
        w = w[:-1] + "i"

    suffix = _longest_suffix(w, _EN_STEP2_KEYS)
    if suffix and len(w) - len(suffix) >= p1:
        before = w[-len(suffix) - 1 : -len(suffix)]
        if suffix == "ogi":
            if before == "l":
                w = w[:-3] + "og"
        elif suffix == "li":
            if before and before in _EN_VALID_LI:
                w = w[:-2]
        else:
            w = w[: -len(suffix)] + _EN_STEP2[suffix]

    suffix = _longest_suffix(w, _EN_STEP3_KEYS)
    if suffix and len(w) - len(suffix) >= p1 and (suffix != "ative" or len(w) - 5 >= p2):
        w = w[: -len(suffix)] + _EN_STEP3[suffix]

    suffix = _longest_suffix(w, _EN_STEP4)
    if suffix and len(w) - len(suffix) >= p2:
        if suffix != "ion":
            w = w[: -len(suffix)]
        elif len(w) > 3 and w[-4] in "st":
            w = w[:-3]

    if w.endswith("e"):
        end = len(w) - 1
        if end >= p2 or (end >= p1 and not _short_syllable_ends_at(w, end)):
            w = w[:-1]
    elif w.endswith("ll") and len(w) - 1 >= p2:
        w = w[:-1]

    return w.replace("Y", "y") if y_found else w


# --- Russian -------------------------------------------------------------------------------

_RU_V = frozenset("аеиоуыэюя")

# Endings in group 1 count only after "а" or "я" (which stays); group 2 endings go whole.
_RU_GERUND_1 = frozenset(("в", "вши", "вшись"))
_RU_GERUND = _by_length(_RU_GERUND_1 | {"ив", "ивши", "ившись", "ыв", "ывши", "ывшись"})
_RU_ADJECTIVE = _by_length(
    (
        "ее", "ие", "ые", "ое", "ими", "ыми", "ей", "ий", "ый", "ой", "ем", "им", "ым", "ом",
        "его", "ого", "ему", "ому", "их", "ых", "ую", "юю", "ая", "яя", "ою", "ею",
    )
)  # fmt: skip
_RU_PARTICIPLE_1 = frozenset(("ем", "нн", "вш", "ющ", "щ"))
_RU_PARTICIPLE = _by_length(_RU_PARTICIPLE_1 | {"ивш", "ывш", "ующ"})
_RU_REFLEXIVE = _by_length(("ся", "сь"))
_RU_VERB_1 = frozenset(
    ("ла", "на", "ете", "йте", "ли", "й", "л", "ем", "н", "ло", "но", "ет", "ют", "ны", "ть",
     "ешь", "нно")
)  # fmt: skip
_RU_VERB = _by_length(
    _RU_VERB_1
    | {
        "ила", "ыла", "ена", "ейте", "уйте", "ите", "или", "ыли", "ей", "уй", "ил", "ыл",
        "им", "ым", "ен", "ило", "ыло", "ено", "ят", "ует", "уют", "ит", "ыт", "ены", "ить",
        "ыть", "ишь", "ую", "ю",
    }
)  # fmt: skip
_RU_NOUN = _by_length(
    (
        "а", "ев", "ов", "ие", "ье", "е", "иями", "ями", "ами", "еи", "ии", "и", "ией", "ей",
        "ой", "ий", "й", "иям", "ям", "ием", "ем", "ам", "ом", "о", "у", "ах", "иях", "ях",
        "ы", "ь", "ию", "ью", "ю", "ия", "ья", "я",
    )
)  # fmt: skip
_RU_DERIVATIONAL = _by_length(("ост", "ость"))
_RU_TIDY = _by_length(("ейш", "ейше", "н", "ь"))


def _after_a_or_ya(word: str, suffix: str, rv: int) -> bool:
    i = len(word) - len(suffix) - 1
    return i >= rv and word[i] in "ая"


def _russian_endings(w: str, rv: int) -> str:
    """Strip one gerund, or a reflexive plus an adjectival, verb or noun ending."""
    suffix = _longest_suffix(w, _RU_GERUND, rv)
    if suffix and (suffix not in _RU_GERUND_1 or _after_a_or_ya(w, suffix, rv)):
        return w[: -len(suffix)]

    suffix = _longest_suffix(w, _RU_REFLEXIVE, rv)
    if suffix:
        w = w[: -len(suffix)]

    suffix = _longest_suffix(w, _RU_ADJECTIVE, rv)
    if suffix:
        w = w[: -len(suffix)]
        suffix = _longest_suffix(w, _RU_PARTICIPLE, rv)
        if suffix and (suffix not in _RU_PARTICIPLE_1 or _after_a_or_ya(w, suffix, rv)):
            w = w[: -len(suffix)]
        return w

    suffix = _longest_suffix(w, _RU_VERB, rv)
    if suffix and (suffix not in _RU_VERB_1 or _after_a_or_ya(w, suffix, rv)):
        return w[: -len(suffix)]

    suffix = _longest_suffix(w, _RU_NOUN, rv)
    return w[: -len(suffix)] if suffix else w


def russian_stem(word: str) -> str:
    """Snowball Russian stem of a lower-case ``word``, as PyStemmer gives it."""
    # PyStemmer folds ё onto е itself, so "ёлка" and "елка" share a stem either way.
    w = word.replace("ё", "е")
    n = len(w)
    # RV starts after the first vowel; R2 is R1 of R1, R1 being the region after the first
    # vowel-consonant pair. No ending is looked for before RV.
    rv = next((i + 1 for i, c in enumerate(w) if c in _RU_V), n)
    p2 = _after_vowel_run(w, _after_vowel_run(w, rv - 1, _RU_V), _RU_V) if rv < n else n

    w = _russian_endings(w, rv)
    if w.endswith("и") and len(w) - 1 >= rv:
        w = w[:-1]

    suffix = _longest_suffix(w, _RU_DERIVATIONAL, rv)
    if suffix and len(w) - len(suffix) >= p2:
        w = w[: -len(suffix)]

    suffix = _longest_suffix(w, _RU_TIDY, rv)
    if suffix == "ь":
        w = w[:-1]
    elif suffix:
        if suffix != "н":
            w = w[: -len(suffix)]
        # "-нн" (after a superlative or alone) loses one н.
        if w.endswith("нн") and len(w) - 2 >= rv:
            w = w[:-1]
    return w
