"""Texts in, clusters out: the complaint-theme pipeline (numpy and scikit-learn only)."""
