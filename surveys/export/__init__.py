"""Analyst export: the responses stream, the figure tables, and the file formats."""
