"""Describe clusters as themes: c-TF-IDF labels, top terms and representative quotes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ml.normalise import EMAIL_TOKEN, MENTION_TOKEN, NUMBER_TOKEN, URL_TOKEN
from ml.stopwords import LABEL_STOP_WORDS


@dataclass(frozen=True)
class Theme:
    """One theme found in a corpus; ``id`` equals the label value given to its texts."""

    id: int
    label: str
    top_terms: list[str] = field(default_factory=list)
    size: int = 0
    quote_indices: list[int] = field(default_factory=list)


# Function words make poor labels even when a theme uses them unusually often. The lists are
# short on purpose: c-TF-IDF already pushes most common words down.
_PLACEHOLDERS = {URL_TOKEN, EMAIL_TOKEN, MENTION_TOKEN, NUMBER_TOKEN}
_STOP = LABEL_STOP_WORDS | _PLACEHOLDERS
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _is_stop(part: str) -> bool:
    # Single letters and punctuation are noise, but an emoji can be the whole message.
    return part in _STOP or (
        len(part) == 1 and not _CJK.match(part) and unicodedata.category(part) != "So"
    )


def is_label_term(term: str) -> bool:
    """Whether a vocabulary entry may appear in a label (no prefixes, stop words, lone CJK)."""
    if term.startswith("~"):
        return False  # truncated stems read badly; the full words carry the same signal
    parts = term.split(" ")
    if all(_is_stop(p) for p in parts) or any(p in _PLACEHOLDERS for p in parts):
        return False
    if _CJK.match(parts[0]) and len(parts) == 1 and len(term) == 1:
        return False  # one Chinese character is rarely a word on its own
    return not (_is_stop(parts[0]) or _is_stop(parts[-1]))


def display_term(term: str) -> str:
    """Render a feature as text: Chinese units join without the analyzer's space."""
    parts = term.split(" ")
    out = parts[0]
    for prev, part in zip(parts, parts[1:], strict=False):
        out += part if _CJK.match(prev[-1]) and _CJK.match(part[0]) else " " + part
    return out


def class_tfidf(X_binary: sp.csr_matrix, labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """c-TF-IDF: each cluster is one document; ``tf`` is the share of its texts with a term.

    Returns a dense (n_clusters, n_terms) matrix. The idf part, log(1 + mean cluster mass /
    term mass), is BERTopic's, so a term common to every cluster scores near zero.
    """
    assigned = labels >= 0
    member = sp.csr_matrix(
        (np.ones(int(assigned.sum())), (labels[assigned], np.flatnonzero(assigned))),
        shape=(n_clusters, X_binary.shape[0]),
    )
    counts = np.asarray((member @ X_binary).todense(), dtype=np.float64)
    sizes = np.maximum(np.asarray(member.sum(axis=1)).ravel(), 1.0)
    tf = counts / sizes[:, None]
    term_mass = counts.sum(axis=0)
    mean_mass = counts.sum() / max(n_clusters, 1)
    idf = np.log1p(mean_mass / np.maximum(term_mass, 1.0))
    return tf * idf[None, :]


def top_terms(
    scores: np.ndarray, vocabulary: np.ndarray, labelable: np.ndarray, n_terms: int
) -> list[str]:
    """The highest-scoring labelable terms, skipping ones already inside a chosen phrase."""
    chosen: list[str] = []
    for j in np.argsort(-scores, kind="stable"):
        if len(chosen) >= n_terms or scores[j] <= 0:
            break
        if not labelable[j]:
            continue
        term = display_term(str(vocabulary[j]))
        # "card" adds nothing next to "card arrived"; "酒店" nothing next to "酒店服务".
        if any(term in c or c in term for c in chosen):
            continue
        chosen.append(term)
    return chosen


def make_label(terms: list[str], n_words: int = 3) -> str:
    """A short label from the leading terms: the first two or three, joined by ' / '."""
    if not terms:
        return "(no distinctive words)"
    label = terms[0]
    for term in terms[1:n_words]:
        label += " / " + term
    return label


def representative_quotes(
    Z: np.ndarray,
    members: np.ndarray,
    centre: np.ndarray,
    texts_key: list[str],
    n_quotes: int,
    max_similarity: float = 0.95,
) -> list[int]:
    """Indices of the members closest to ``centre`` that are not near-copies of each other."""
    order = members[np.argsort(-(Z[members] @ centre), kind="stable")]
    picked: list[int] = []
    seen: set[str] = set()
    # Second pass: when the closest texts are all paraphrases, differing wording still beats
    # returning fewer than the three quotes a reader expects.
    for limit in (max_similarity, 1.01):
        for i in order:
            if len(picked) >= n_quotes:
                return picked
            key = texts_key[i]
            if key in seen or (picked and float(np.max(Z[picked] @ Z[i])) > limit):
                continue
            picked.append(int(i))
            seen.add(key)
        if len(picked) >= 3:
            break
    return picked
