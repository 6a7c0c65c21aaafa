"""Closing the loop: events and webhooks, alerts, digests and triage of responses."""
