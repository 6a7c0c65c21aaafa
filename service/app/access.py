"""Who may open which team-app page: each view declares it, one hook enforces it.

A view says nothing and it is a project page: signed in, a member of the current project;
any member may read it (GET), editors and owners may post to it. `@public` pages need no
sign-in (sign in, reset), `@personal` ones only a signed-in user (their account), and
`@requires(Role.OWNER)` raises what a page asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from surveys.accounts.roles import Role

View = TypeVar("View", bound=Callable[..., object])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Access:
    signed_in: bool = True
    member: bool = True
    read: Role = Role.VIEWER
    write: Role = Role.EDITOR

    def role_for(self, method: str) -> Role:
        return self.read if method in SAFE_METHODS else self.write


PROJECT_PAGE = Access()
PUBLIC = Access(signed_in=False, member=False)
PERSONAL = Access(member=False)


def _mark(view: View, access: Access) -> View:
    view.team_access = access  # type: ignore[attr-defined]
    return view


def public(view: View) -> View:
    return _mark(view, PUBLIC)


def personal(view: View) -> View:
    return _mark(view, PERSONAL)


def requires(role: Role, *, write: Role | None = None) -> Callable[[View], View]:
    """At least `role` to open the page, and `write` to post to it (default: the same, and
    never less than an editor: viewers only read)."""
    write = write or (role if role.at_least(Role.EDITOR) else Role.EDITOR)

    def mark(view: View) -> View:
        return _mark(view, Access(read=role, write=write))

    return mark


def access_of(view: Callable[..., object] | None) -> Access:
    return getattr(view, "team_access", PROJECT_PAGE)
