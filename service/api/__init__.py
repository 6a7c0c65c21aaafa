"""The JSON API under /api/v1: one blueprint per resource, all behind the secret key."""
