"""Turn normalised texts into dense, L2-normalised vectors: TF-IDF union, then truncated SVD."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.utils import check_random_state

from ml.normalise import PLACEHOLDERS, TextNormaliser
from ml.tokenise import MultilingualAnalyzer

# Unspaced scripts, plus punctuation and symbols: n-grams of "?!" or emoji say nothing about
# a theme here (emoji are kept by the word analyzer).
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
    r"|[^\w\s]|_"
)
# Placeholders are whole-word features already; as character n-grams "xnum" made every
# Chinese review with a number look alike (a third of them; NMI 0.60 -> 0.55).
_PLACEHOLDER = re.compile(r"\b(?:" + "|".join(PLACEHOLDERS) + r")\b")


class SpacedCharTfidf(TransformerMixin, BaseEstimator):
    """Character n-gram TF-IDF over the spaced-script part of each text only.

    Character n-grams catch inflections and typos in Latin and Cyrillic text, but on Chinese
    they duplicate the word analyzer's character n-grams and, measured, lower NMI (0.57 ->
    0.50). So unspaced characters are removed first and each row is scaled by the share of
    the text's letters that remain: a mixed text gets a proportionate say, a Chinese one none.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (2, 4),
        min_df: int = 2,
        max_features: int | None = 300_000,
        weight: float = 0.8,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.weight = weight

    @staticmethod
    def _split(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        spaced, share = [], np.empty(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            text = _PLACEHOLDER.sub(" ", text)
            kept = _UNSPACED.sub(" ", text)
            letters = sum(c.isalpha() for c in text)
            share[i] = sum(c.isalpha() for c in kept) / letters if letters else 1.0
            spaced.append(kept)
        return spaced, share

    def fit(self, X: Sequence[str], y: object = None) -> SpacedCharTfidf:
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Sequence[str], y: object = None) -> sp.csr_matrix:
        spaced, share = self._split(X)
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        try:
            M = self.vectorizer_.fit_transform(spaced)
        except ValueError:
            # Nothing but Chinese (or nothing at all): this block contributes no columns.
            self.vectorizer_ = None
            return sp.csr_matrix((len(spaced), 0), dtype=np.float32)
        # The pruned-term set can be larger than the vocabulary and is not needed to predict.
        self.vectorizer_.stop_words_ = None
        return self._scale(M, share)

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        spaced, share = self._split(X)
        if self.vectorizer_ is None:
            return sp.csr_matrix((len(spaced), 0), dtype=np.float32)
        return self._scale(self.vectorizer_.transform(spaced), share)

    def _scale(self, M: sp.csr_matrix, share: np.ndarray) -> sp.csr_matrix:
        return (sp.diags(share * self.weight) @ M).tocsr().astype(np.float32)


class WordTfidf(TfidfVectorizer):
    """TF-IDF over :class:`MultilingualAnalyzer` features (stems, prefixes, bigrams, CJK)."""

    def __init__(
        self,
        stem_length: int = 5,
        segmenter: str = "char",
        min_df: int = 2,
        max_features: int | None = 300_000,
        stemmer: str | None = "snowball",
        drop_stop_words: bool = True,
    ) -> None:
        self.stem_length = stem_length
        self.segmenter = segmenter
        self.stemmer = stemmer
        self.drop_stop_words = drop_stop_words
        super().__init__(
            analyzer=self._analyzer(),
            min_df=min_df,
            max_features=max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )

    def _analyzer(self) -> MultilingualAnalyzer:
        return MultilingualAnalyzer(
            self.stem_length,
            self.segmenter,
            stemmer=self.stemmer,
            drop_stop_words=self.drop_stop_words,
        )

    def fit_transform(self, raw_documents: Sequence[str], y: object = None) -> sp.csr_matrix:
        # Rebuilt here so that set_params(stem_length=...) takes effect, as sklearn expects.
        self.analyzer = self._analyzer()
        M = super().fit_transform(raw_documents, y)
        self.stop_words_ = None  # see SpacedCharTfidf.fit_transform
        return M

    def fit(self, raw_documents: Sequence[str], y: object = None) -> WordTfidf:
        self.fit_transform(raw_documents)
        return self


class SafeSVD(TransformerMixin, BaseEstimator):
    """Truncated SVD that shrinks itself for tiny corpora and may fit on a sample.

    Fitting the projection on ``max_fit_samples`` random rows and projecting all rows keeps
    100,000 texts within the time budget; the leading directions of a 20,000-text sample
    are, for clustering, the same as those of the whole corpus.
    (The labelled sets, 3,000-7,000 texts, are all below the default and fitted whole.)
    """

    def __init__(
        self, n_components: int = 150, max_fit_samples: int = 10_000, random_state: int | None = 0
    ) -> None:
        self.n_components = n_components
        self.max_fit_samples = max_fit_samples
        self.random_state = random_state

    def fit(self, X: sp.csr_matrix, y: object = None) -> SafeSVD:
        n, d = X.shape
        k = min(self.n_components, n - 1, d - 1)
        if k < 2:
            self.svd_ = None  # fewer than three texts or terms: keep the TF-IDF space itself
            self.n_features_in_ = d
            return self
        rng = check_random_state(self.random_state)
        rows = X
        if n > self.max_fit_samples:
            rows = X[np.sort(rng.choice(n, self.max_fit_samples, replace=False))]
        # n_iter=3: measured on 100,000 texts, 4 iterations cost 60% more for <1% variance.
        self.svd_ = TruncatedSVD(n_components=k, n_iter=3, random_state=rng.randint(2**31 - 1))
        self.svd_.fit(rows)
        self.n_features_in_ = d
        return self

    def transform(self, X: sp.csr_matrix) -> np.ndarray:
        if self.svd_ is None:
            return np.asarray(X.todense(), dtype=np.float32)
        return self.svd_.transform(X).astype(np.float32)


def build_embedder(
    *,
    stem_length: int,
    segmenter: str,
    stemmer: str | None,
    drop_stop_words: bool,
    char_ngram_range: tuple[int, int],
    char_weight: float,
    min_df: int,
    max_features: int | None,
    n_components: int,
    max_fit_samples: int,
    random_state: int | None,
    max_chars: int,
    n_jobs: int | None,
) -> Pipeline:
    """The named-step pipeline from raw texts to unit-length dense vectors.

    No defaults: `ThemeModel`'s hyper-parameters are the one place they are set.
    """
    return Pipeline(
        [
            ("normalise", TextNormaliser(max_chars=max_chars)),
            (
                "tfidf",
                FeatureUnion(
                    [
                        (
                            "words",
                            WordTfidf(
                                stem_length,
                                segmenter,
                                min_df,
                                max_features,
                                stemmer,
                                drop_stop_words,
                            ),
                        ),
                        (
                            "chars",
                            SpacedCharTfidf(char_ngram_range, min_df, max_features, char_weight),
                        ),
                    ],
                    # Both vectorisers are pure-Python tokenisers; on 2 cores running them side
                    # by side (separate processes) saves about a third of the features step.
                    n_jobs=n_jobs,
                ),
            ),
            ("l2_tfidf", Normalizer()),
            ("svd", SafeSVD(n_components, max_fit_samples, random_state)),
            ("l2", Normalizer()),
        ]
    )
