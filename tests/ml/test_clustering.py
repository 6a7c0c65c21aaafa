"""Neighbour smoothing and the theme-count chooser on synthetic unit vectors."""

from __future__ import annotations

import numpy as np

from ml.clustering import choose_n_themes, smooth


def _blobs(n_per: int, k: int, dim: int = 20, noise: float = 0.6, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    centres = rng.normal(size=(k, dim))
    X = np.repeat(centres, n_per, axis=0) + noise * rng.normal(size=(k * n_per, dim))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def test_smooth_keeps_unit_length_and_pulls_towards_neighbours() -> None:
    Z = _blobs(100, 4)
    S = smooth(Z, 10, chunk=64)
    assert S.shape == Z.shape
    np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0, atol=1e-5)
    truth = np.repeat(np.arange(4), 100)
    centres = np.stack([Z[truth == c].mean(axis=0) for c in range(4)])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    before = (Z * centres[truth]).sum(axis=1).mean()
    after = (S * centres[truth]).sum(axis=1).mean()
    assert after > before


def test_smooth_leaves_tiny_corpora_alone() -> None:
    Z = _blobs(8, 3)
    assert smooth(Z, 10) is Z


def test_chooser_is_deterministic_and_near_the_true_count() -> None:
    Z = _blobs(60, 8, noise=0.4)
    picks = {choose_n_themes(Z, 50, 0.03, 3, seed) for seed in (0, 0)}
    assert len(picks) == 1
    assert 4 <= picks.pop() <= 12
