"""Marshmallow schemas: the JSON shapes of the API, which also generate its OpenAPI description."""
