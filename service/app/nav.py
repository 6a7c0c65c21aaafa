"""The team app's navigation: one entry per page, in order, with the least role that sees it.
A new page adds its line here."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    role: Role = Role.VIEWER


NAV: tuple[NavItem, ...] = (
    NavItem("app.overview", "Overview"),
    NavItem("app.friction_points", "Friction points"),
    NavItem("app.responses", "Responses"),
    NavItem("app.movement", "Movement"),
    NavItem("app.surveys", "Surveys"),
    NavItem("app.export_page", "Export"),
    NavItem("app.alert_rules_page", "Alerts"),
    NavItem("app.digest", "Digest"),
    NavItem("app.webhooks_page", "Webhooks", Role.OWNER),
    NavItem("app.users", "Users", Role.OWNER),
    NavItem("app.settings", "Settings", Role.OWNER),
)


def nav_for(role: Role | None) -> list[NavItem]:
    if role is None:
        return []
    return [item for item in NAV if role.at_least(item.role)]
