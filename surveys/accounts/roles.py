"""Roles per project and what each may do: owner > editor > viewer."""

from __future__ import annotations

from enum import StrEnum

from surveys.errors import Invalid
from surveys.models import Project


class Role(StrEnum):
    VIEWER = "viewer"  # reads everything the team app shows
    EDITOR = "editor"  # also changes surveys, themes and tags
    OWNER = "owner"  # also keys, users and the project's settings

    @property
    def rank(self) -> int:
        return ROLES.index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise Invalid(
                f"unknown role {value!r}", {"role": [f"one of {', '.join(ROLES)}"]}
            ) from None


ROLES: tuple[Role, ...] = (Role.VIEWER, Role.EDITOR, Role.OWNER)


def sees_emails(role: Role, project: Project) -> bool:
    """Whether a member with this role sees people's email addresses in the project."""
    return role != Role.VIEWER or not project.hide_emails_from_viewers
