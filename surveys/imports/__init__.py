"""Bringing answers in by the thousand: the batch API and file imports share one domain."""
