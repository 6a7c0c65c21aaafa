"""Cluster unit-length vectors: choose the number of themes, fit centres, assign texts."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils import check_random_state

# Silhouette is O(n^2); beyond this many texts it is estimated on a random sample.
_SILHOUETTE_SAMPLE = 4000


def smooth(Z: np.ndarray, n_neighbors: int, chunk: int = 512) -> np.ndarray:
    """Each row plus the mean of its ``n_neighbors`` nearest rows (cosine), unit length.

    Averaging with neighbours pulls short texts that share few words with their theme
    towards it; k-means then finds better centres. Measured with the true k on the three
    labelled sets, 10 neighbours add 0.01-0.02 NMI (see docs/ml.md). Rows are handled in
    chunks so that memory stays at ``chunk`` x ``len(Z)`` similarities.
    """
    n = len(Z)
    # Ten neighbours would blur themes together in a corpus of a few dozen texts.
    m = min(n_neighbors, n // 50)
    if m < 1:
        return Z
    out = np.empty_like(Z)
    for start in range(0, n, chunk):
        block = Z[start : start + chunk]
        sims = block @ Z.T
        # A text is not its own neighbour.
        sims[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        nearest = np.argpartition(-sims, m - 1, axis=1)[:, :m]
        out[start : start + chunk] = block + Z[nearest].mean(axis=1)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def _close(a: int, b: int) -> bool:
    return max(a, b) <= 1.3 * min(a, b)


def candidate_ks(n: int, max_themes: int, min_theme_size: int = 3) -> list[int]:
    """Geometric grid (ratio ~1.25) of theme counts worth trying for ``n`` texts."""
    upper = min(max_themes, n // max(min_theme_size, 1))
    ks, k = [], 2.0
    while round(k) <= upper:
        if not ks or round(k) != ks[-1]:
            ks.append(round(k))
        k *= 1.25
    return ks


def choose_n_themes(
    Z: np.ndarray,
    max_themes: int,
    penalty: float,
    min_theme_size: int,
    random_state: int | np.random.RandomState | None,
    scores: dict[int, float] | None = None,
    n_neighbors: int = 10,
) -> int:
    """Pick k maximising ``mean silhouette(k) - penalty * ln(k)`` over a geometric grid.

    ``scores``, when given, receives each candidate's penalised score (for diagnostics).

    Each k-means runs on the neighbour-smoothed sample (:func:`smooth`), as in
    :func:`fit_centroids`; silhouette is measured on the texts as assigned, unsmoothed.
    Plain silhouette on text keeps rising with k (it over-split every labelled set to the top
    of the grid); the log penalty asks each doubling of k to buy a fixed silhouette gain,
    which stops early on corpora with few broad themes and late on ones with many narrow ones.
    One k-means per k is noisy (+-0.005-0.01 silhouette, as large as the margins between
    candidates), so each k is scored by a 1-2-1 weighted mean of its own silhouette and its
    grid neighbours': the same seed-to-seed spread then moves the choice far less.
    (Tried and dropped: Ward cuts of one fine k-means instead of one k-means per k -- its
    silhouette rises too steeply for any penalty; modularity of a k-NN graph -- it put
    BANKING77 and the Chinese set at 30 and 20 themes, the wrong way round.)
    """
    rng = check_random_state(random_state)
    n = len(Z)
    if n < 6:
        return 1 if n else 0
    sample = Z
    if n > _SILHOUETTE_SAMPLE:
        sample = Z[np.sort(rng.choice(n, _SILHOUETTE_SAMPLE, replace=False))]
    # Distances once, reused for every k: silhouette is then a cheap pass over this matrix.
    distances = np.clip(1.0 - sample @ sample.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    smoothed = smooth(sample, n_neighbors) if n_neighbors else sample
    # A floor of sqrt(n)/6 themes: without it, a small, tight group (e.g. many one-word
    # reviews) gave the Chinese set a 3-theme "optimum", useless for 5,500 comments.
    floor = int(np.sqrt(n) / 6)
    # One k-means start per k keeps 100,000 texts in budget; a small corpus can afford three,
    # and needs them: one bad start at k = 3 made three clear themes look like four.
    n_init = 3 if len(sample) <= 1000 else 1
    ks, silhouettes = [], []
    for k in candidate_ks(len(sample), max_themes, min_theme_size):
        if k < floor:
            continue
        km = KMeans(k, n_init=n_init, random_state=rng.randint(2**31 - 1)).fit(smoothed)
        # Scored as fit() will use it: texts go, unsmoothed, to the nearest centre.
        centres = km.cluster_centers_
        centres = centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        labels = np.argmax(sample @ centres.T, axis=1)
        if len(np.unique(labels)) < 2:
            continue
        ks.append(k)
        silhouettes.append(silhouette_score(distances, labels, metric="precomputed"))
    if not ks:
        return 1
    best_k, best_score = 1, -np.inf
    for i, k in enumerate(ks):
        # Weights 1-2-1: a candidate counts twice, each grid neighbour once -- but only a
        # neighbour within 30% of k; at k = 2, 3, 4 the steps are too big to be "nearby".
        near = [s for j, s in enumerate(silhouettes) if abs(j - i) <= 1 and _close(ks[j], k)]
        mean = (sum(near) + silhouettes[i]) / (len(near) + 1)
        score = float(mean - penalty * np.log(k))
        if scores is not None:
            scores[k] = score
        if score > best_score:
            best_k, best_score = k, score
    return best_k


def fit_centroids(
    Z: np.ndarray,
    k: int,
    n_init: int,
    max_fit_samples: int,
    min_theme_size: int,
    random_state: int | np.random.RandomState | None,
    n_neighbors: int = 10,
) -> np.ndarray:
    """Unit-length centres of k-means on ``Z`` (or a sample of it); tiny clusters dropped.

    With ``n_neighbors``, k-means runs on the neighbour-smoothed rows (:func:`smooth`); the
    texts themselves are then assigned unsmoothed, as :meth:`ThemeModel.predict` does.
    """
    rng = check_random_state(random_state)
    n = len(Z)
    k = max(1, min(k, n))
    if k == 1:
        centre = Z.mean(axis=0)
        return (centre / (np.linalg.norm(centre) or 1.0))[None, :].astype(np.float32)
    rows = Z if n <= max_fit_samples else Z[rng.choice(n, max_fit_samples, replace=False)]
    if n_neighbors:
        rows = smooth(rows, n_neighbors)
    km = KMeans(k, n_init=n_init, random_state=rng.randint(2**31 - 1)).fit(rows)
    sizes = np.bincount(km.labels_, minlength=k)
    # A "theme" of one or two texts is noise; its texts go to their next-nearest theme.
    keep = sizes >= min(min_theme_size, max(sizes.max(), 1))
    centres = km.cluster_centers_[keep]
    return (centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)).astype(
        np.float32
    )


def assign(Z: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre by cosine and that similarity; rows with no features get -1."""
    n = len(Z)
    if n == 0 or len(centres) == 0 or Z.shape[1] == 0:
        return np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.float32)
    sims = Z @ centres.T
    labels = np.argmax(sims, axis=1).astype(np.int64)
    best = sims[np.arange(n), labels]
    empty = np.linalg.norm(Z, axis=1) == 0
    labels[empty] = -1
    best[empty] = -1.0
    return labels, best


def order_by_size(centres: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber themes by decreasing size (theme 0 is the largest); drop empty centres."""
    if len(centres) == 0:
        return centres, labels
    sizes = np.bincount(labels[labels >= 0], minlength=len(centres))
    order = [c for c in np.argsort(-sizes, kind="stable") if sizes[c] > 0]
    remap = np.full(len(centres), -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    new_labels = np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)
    return centres[order], new_labels
