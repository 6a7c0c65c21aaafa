"""Saving and loading ThemeModels, including the version check."""

from __future__ import annotations

import io
from pathlib import Path

import joblib
import numpy as np
import pytest

from ml import MODEL_VERSION, ModelVersionError, ThemeModel, load_model, save_model

TEXTS = [
    "slow delivery",
    "delivery is slow",
    "very slow delivery",
    "refund missing",
    "where is my refund",
    "refund not received",
]


def test_round_trip_through_a_path(tmp_path: Path) -> None:
    model = ThemeModel(random_state=0).fit(TEXTS)
    path = tmp_path / "themes.joblib"
    save_model(model, path)
    loaded = load_model(path)
    new = ["my delivery is slow", "refund please"]
    np.testing.assert_array_equal(loaded.predict(new), model.predict(new))
    assert loaded.themes_ == model.themes_


def test_round_trip_through_a_file_object() -> None:
    model = ThemeModel(random_state=0).fit(TEXTS)
    buffer = io.BytesIO()
    save_model(model, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(load_model(buffer).labels_, model.labels_)


def test_other_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.joblib"
    joblib.dump({"model_version": "flywheel-themes-0", "model": ThemeModel()}, path)
    with pytest.raises(ModelVersionError, match="flywheel-themes-0"):
        load_model(path)
    assert MODEL_VERSION != "flywheel-themes-0"


def test_unversioned_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bare.joblib"
    joblib.dump(ThemeModel(), path)
    with pytest.raises(ModelVersionError):
        load_model(path)
