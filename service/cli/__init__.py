"""The `flask --app wsgi ...` commands: db, projects, surveys (worker), themes, export, users."""

from flask import Flask


def register(app: Flask) -> None:
    from service.cli import db_commands, project_commands, survey_commands

    app.cli.add_command(db_commands.db)
    app.cli.add_command(project_commands.projects)
    app.cli.add_command(survey_commands.surveys)
    from service.cli import theme_commands

    app.cli.add_command(theme_commands.themes)
    from service.cli import export_commands

    app.cli.add_command(export_commands.export)
    from service.cli import user_commands

    app.cli.add_command(user_commands.users)
    from service.cli import digest_commands

    app.cli.add_command(digest_commands.digest)
    from service.cli import import_commands

    app.cli.add_command(import_commands.import_group)
