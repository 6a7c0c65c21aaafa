"""The pages behind email links: `/r/<token>` (score, follow-up, thanks) and `/u/<token>`."""

from service.pages.links import bp

__all__ = ["bp"]
