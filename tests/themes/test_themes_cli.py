"""`flask --app wsgi themes run`: a run in the foreground with a progress bar."""

from __future__ import annotations

from tests.themes.corpus import UNTIL, load


def test_cli_runs_and_prints_ranked_themes(app, api):
    load(api, app)
    result = app.test_cli_runner().invoke(
        args=[
            "themes",
            "run",
            "--project",
            str(api.keys.id),
            "--until",
            UNTIL[:19],
            "--n-themes",
            "5",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "done in" in result.output and "23 comments, 5 themes" in result.output
    assert "  1. " in result.output and "NPS impact 16.00" in result.output
    run = api.get("/api/v1/themes/runs").json["items"][0]
    assert run["status"] == "done"
    assert api.get("/api/v1/themes").json["run"]["id"] == run["id"]


def test_cli_reports_failures_and_refusals(app, api, other_api):
    load(api, app)
    runner = app.test_cli_runner()
    failed = runner.invoke(
        args=["themes", "run", "--project", str(api.keys.id), "--n-themes", "400"]
    )
    assert failed.exit_code == 1 and "failed: n_themes=400" in failed.output
    theirs = other_api.post("/api/v1/surveys", json={"name": "Theirs"}).json["id"]
    refused = runner.invoke(
        args=["themes", "run", "--project", str(api.keys.id), "--survey-id", str(theirs)]
    )
    assert refused.exit_code == 1 and f"survey {theirs} not found" in refused.output
    missing = runner.invoke(args=["themes", "run", "--project", "999"])
    assert missing.exit_code == 1 and "project 999 not found" in missing.output
    bad = runner.invoke(args=["themes", "run", "--project", str(api.keys.id), "--segments", "x"])
    assert bad.exit_code == 1 and "segments" in bad.output
