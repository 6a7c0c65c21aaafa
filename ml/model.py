"""ThemeModel: fit themes on a corpus of feedback texts and assign new texts to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from ml.clustering import assign, choose_n_themes, fit_centroids, order_by_size
from ml.features import build_embedder
from ml.normalise import normalise_text
from ml.themes import (
    Theme,
    class_tfidf,
    display_term,
    is_label_term,
    make_label,
    representative_quotes,
    top_terms,
)
from ml.tokenise import MultilingualAnalyzer

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, stage: str) -> None:
    return None


class ThemeModel(ClusterMixin, BaseEstimator):
    """Cluster short multilingual feedback into themes; the number of themes is found.

    Steps: normalise -> TF-IDF (word stems, prefixes, bigrams, CJK character n-grams, plus
    character n-grams for spaced scripts) -> truncated SVD -> L2 -> spherical k-means on
    neighbour-smoothed vectors (``n_neighbors``), k chosen by a size-penalised silhouette
    unless ``n_themes`` is given -> each text to its nearest centre -> texts whose cosine
    similarity to their centre is below ``min_similarity`` become unassigned (-1), at most
    ``max_unassigned_share`` of them.
    """

    def __init__(
        self,
        n_themes: int | None = None,
        *,
        random_state: int | None = 0,
        n_components: int = 150,
        stem_length: int = 5,
        segmenter: str = "char",
        stemmer: str | None = "snowball",
        drop_stop_words: bool = True,
        char_ngram_range: tuple[int, int] = (2, 4),
        char_weight: float = 0.8,
        min_df: int = 2,
        max_features: int | None = 100_000,
        max_fit_samples: int = 10_000,
        n_jobs: int | None = 2,
        max_themes: int = 200,
        k_penalty: float = 0.03,
        n_init: int = 10,
        n_neighbors: int = 10,
        min_similarity: float = 0.05,
        max_unassigned_share: float = 0.10,
        min_theme_size: int = 3,
        n_top_terms: int = 10,
        n_quotes: int = 5,
        max_chars: int = 2000,
    ) -> None:
        self.n_themes = n_themes
        self.random_state = random_state
        self.n_components = n_components
        self.stem_length = stem_length
        self.segmenter = segmenter
        self.stemmer = stemmer
        self.drop_stop_words = drop_stop_words
        self.char_ngram_range = char_ngram_range
        self.char_weight = char_weight
        self.min_df = min_df
        self.max_features = max_features
        self.max_fit_samples = max_fit_samples
        self.n_jobs = n_jobs
        self.max_themes = max_themes
        self.k_penalty = k_penalty
        self.n_init = n_init
        self.n_neighbors = n_neighbors
        self.min_similarity = min_similarity
        self.max_unassigned_share = max_unassigned_share
        self.min_theme_size = min_theme_size
        self.n_top_terms = n_top_terms
        self.n_quotes = n_quotes
        self.max_chars = max_chars

    def fit(
        self, texts: Sequence[str], y: object = None, *, progress: Progress | None = None
    ) -> ThemeModel:
        """Find themes in ``texts``; ``progress(fraction, stage)`` is called between stages."""
        report = progress or _no_progress
        texts = ["" if t is None else str(t) for t in texts]
        n = len(texts)
        rng = check_random_state(self.random_state)
        self.n_texts_ = n
        report(0.0, "features")
        # min_df=2 would empty the vocabulary of a tiny corpus, where every word occurs once.
        min_df = self.min_df if n >= 20 * self.min_df else 1
        self.embedder_: Pipeline | None = build_embedder(
            stem_length=self.stem_length,
            segmenter=self.segmenter,
            stemmer=self.stemmer,
            drop_stop_words=self.drop_stop_words,
            char_ngram_range=self.char_ngram_range,
            char_weight=self.char_weight,
            min_df=min_df,
            max_features=self.max_features,
            n_components=self.n_components,
            max_fit_samples=self.max_fit_samples,
            random_state=rng.randint(2**31 - 1),
            max_chars=self.max_chars,
            # Starting worker processes costs about a second: worth it only for big corpora.
            n_jobs=self.n_jobs if n >= 20_000 else None,
        )
        Z = self._fit_embed(texts)
        report(0.5, "choosing the number of themes")
        has_words = np.linalg.norm(Z, axis=1) > 0 if n else np.zeros(0, dtype=bool)
        usable = np.flatnonzero(has_words)
        self.k_scores_: dict[int, float] = {}
        if self.n_themes is not None:
            k = max(1, min(int(self.n_themes), len(usable)))
        else:
            k = choose_n_themes(
                Z[usable],
                self.max_themes,
                self.k_penalty,
                self.min_theme_size,
                rng,
                self.k_scores_,
                self.n_neighbors,
            )
        report(0.7, "clustering")
        if len(usable) == 0:
            self.cluster_centers_ = np.zeros((0, Z.shape[1] if Z.ndim == 2 else 0), np.float32)
        else:
            self.cluster_centers_ = fit_centroids(
                Z[usable],
                k,
                self.n_init,
                self.max_fit_samples,
                self.min_theme_size,
                rng,
                self.n_neighbors,
            )
        labels, sims = assign(Z, self.cluster_centers_)
        self.cluster_centers_, labels = order_by_size(self.cluster_centers_, labels)
        self.threshold_ = self._fit_threshold(sims[labels >= 0])
        labels[(sims < self.threshold_) & (labels >= 0)] = -1
        self.labels_ = labels
        self.unassigned_share_ = float(np.mean(labels < 0)) if n else 0.0
        report(0.85, "describing themes")
        self.themes_ = self._describe(texts, Z, labels)
        report(1.0, "done")
        return self

    def _fit_embed(self, texts: list[str]) -> np.ndarray:
        if not texts or not any(t.strip() for t in texts):
            self.embedder_ = None
            return np.zeros((len(texts), 0), dtype=np.float32)
        try:
            return self.embedder_.fit_transform(texts)
        except ValueError:
            # Only punctuation or one-letter words: there is nothing to cluster on.
            self.embedder_ = None
            return np.zeros((len(texts), 0), dtype=np.float32)

    def _fit_threshold(self, sims: np.ndarray) -> float:
        """Similarity below which a text is unassigned: absolute floor, capped by a quantile."""
        if sims.size == 0:
            return -np.inf
        cap = (
            float(np.quantile(sims, self.max_unassigned_share)) if self.max_unassigned_share else -1
        )
        # A floor alone could unassign a third of a loose corpus; the cap keeps the share low.
        return min(self.min_similarity, cap)

    def _describe(self, texts: list[str], Z: np.ndarray, labels: np.ndarray) -> list[Theme]:
        k = len(self.cluster_centers_)
        if k == 0:
            return []
        words = self.embedder_.named_steps["tfidf"].transformer_list[0][1]
        # Term shares per theme are estimated as well from a sample, at a fraction of the
        # cost of re-tokenising 100,000 texts.
        rows = np.arange(len(texts))
        if len(texts) > self.max_fit_samples:
            rng = check_random_state(self.random_state)
            rows = np.sort(rng.choice(len(texts), self.max_fit_samples, replace=False))
        normalised = self.embedder_.named_steps["normalise"].transform([texts[i] for i in rows])
        surface = CountVectorizer(
            analyzer=self._surface_analyzer(),
            min_df=words.min_df,
            binary=True,
            dtype=np.float32,
        )
        try:
            scores = class_tfidf(surface.fit_transform(normalised), labels[rows], k)
            vocabulary = surface.get_feature_names_out()
        except ValueError:  # no word occurs often enough in the sample: themes without terms
            scores, vocabulary = np.zeros((k, 0)), np.array([], dtype=object)
        labelable = np.fromiter((is_label_term(t) for t in vocabulary), bool, len(vocabulary))
        keys = [" ".join(t.lower().split()) for t in texts]
        themes = []
        for c in range(k):
            members = np.flatnonzero(labels == c)
            terms = top_terms(scores[c], vocabulary, labelable, self.n_top_terms)
            quotes = representative_quotes(
                Z, members, self.cluster_centers_[c], keys, self.n_quotes
            )
            themes.append(Theme(c, make_label(terms), terms, int(members.size), quotes))
        return themes

    def _surface_analyzer(self) -> MultilingualAnalyzer:
        # Labels are told in the texts' own words: the clustering features are stems
        # ("deliveri"), so the labelling vocabulary is built from the words themselves.
        return MultilingualAnalyzer(
            stem_length=0, segmenter=self.segmenter, stemmer=None, drop_stop_words=False
        )

    def terms_in(self, terms: Sequence[str], texts: Iterable[str]) -> list[str]:
        """Those of ``terms`` (label terms, as ``themes_`` shows them) that ``texts`` still
        say, in their given order. Needs no fit; reads ``texts`` only until all are found."""
        wanted, found = set(terms), set()
        analyzer = self._surface_analyzer()
        for text in texts:
            normalised = normalise_text("" if text is None else str(text), self.max_chars)
            found.update(wanted.intersection(display_term(f) for f in analyzer(normalised)))
            if found == wanted:
                break
        return [t for t in terms if t in found]

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length document vectors in the model's reduced space."""
        texts = ["" if t is None else str(t) for t in texts]
        if self.embedder_ is None or not texts:
            return np.zeros((len(texts), self.cluster_centers_.shape[1]), np.float32)
        return self.embedder_.transform(texts)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Theme id of each text, -1 when it fits no theme well; the model is not refitted."""
        texts = list(texts)
        if self.embedder_ is None or len(self.cluster_centers_) == 0 or not texts:
            return np.full(len(texts), -1, dtype=np.int64)
        labels, sims = assign(self.transform(texts), self.cluster_centers_)
        labels[sims < self.threshold_] = -1
        return labels

    def fit_predict(self, texts: Sequence[str], y: object = None, **kwargs: object) -> np.ndarray:
        return self.fit(texts, **kwargs).labels_
