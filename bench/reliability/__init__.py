"""Reliability runs: load, killed processes and concurrent workers, each with its figures."""
