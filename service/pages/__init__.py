"""The pages behind email links: `/r/<token>` (score, follow-up, thanks), `/u/<token>`, and the
digest's `/d/<token>`."""

from service.pages import digest_links  # noqa: F401  (adds its routes to `bp`)
from service.pages.links import bp

__all__ = ["bp"]
