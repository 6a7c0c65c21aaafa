"""Save and load fitted ThemeModels with joblib, refusing models of another version."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import joblib

from ml.model import ThemeModel

# Bump when features, analyzer or fitted attributes change: an old file would then load but
# assign texts to themes with mismatched vectors, which is worse than a clear error.
MODEL_VERSION = "flywheel-themes-3"


class ModelVersionError(ValueError):
    """The file holds a model saved by a different MODEL_VERSION (or no Flywheel model)."""


def save_model(model: ThemeModel, target: str | Path | IO[bytes]) -> None:
    """Write ``model`` and ``MODEL_VERSION`` to a path or a binary file object."""
    joblib.dump({"model_version": MODEL_VERSION, "model": model}, target, compress=3)


def load_model(source: str | Path | IO[bytes]) -> ThemeModel:
    """Read a model written by :func:`save_model`; raise ModelVersionError on a mismatch."""
    payload: Any = joblib.load(source)
    found = payload.get("model_version") if isinstance(payload, dict) else None
    if found != MODEL_VERSION:
        raise ModelVersionError(
            f"theme model version {found!r} cannot be loaded by this code, which expects "
            f"{MODEL_VERSION!r}; refit the model"
        )
    model = payload.get("model")
    if not isinstance(model, ThemeModel):
        raise ModelVersionError("file does not contain a ThemeModel")
    return model
