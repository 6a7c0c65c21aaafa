"""Schema migrations with Alembic, driven from the app's own engine."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from service.config import ROOT


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    # Alembic's options are ConfigParser values, where `%` starts an interpolation: a URL's
    # percent-escapes (a password with an @, a socket folder in `?host=`) are doubled.
    url = engine.url.render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads", secret_key: str | None = None) -> None:
    """Migrate up. With the app's SECRET_KEY, revisions that seal secrets at rest seal the
    values already stored (without it they stay plain until the app seals them on use)."""
    cfg = alembic_config(engine)
    cfg.attributes["secret_key"] = secret_key
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str, secret_key: str | None = None) -> None:
    cfg = alembic_config(engine)
    cfg.attributes["secret_key"] = secret_key
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def revision(engine: Engine, message: str, autogenerate: bool = True) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=autogenerate)
