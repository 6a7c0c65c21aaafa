"""Themes (friction points in the docs and the app): runs, fitting, impact, assignment."""
