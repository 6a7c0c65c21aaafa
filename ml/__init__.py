"""Texts in, themes out: multilingual clustering of short customer feedback."""

from ml.model import ThemeModel
from ml.persistence import MODEL_VERSION, ModelVersionError, load_model, save_model
from ml.themes import Theme, make_label

__all__ = [
    "MODEL_VERSION",
    "ModelVersionError",
    "Theme",
    "ThemeModel",
    "load_model",
    "make_label",
    "save_model",
]
