"""`flask import responses`: our own export read back, Delighted's export, any CSV with a
mapping; bad rows reported by line, re-runs idempotent, period answers equal to a rebuild."""

from __future__ import annotations

import csv
import io

from tests.analytics.helpers import assert_linked, rebuilt, rows

DELIGHTED_CSV = (
    "\ufeffResponse ID,Email,Name,Score,Comment,Created At,Permalink,Plan,Property: Country\r\n"
    '101,Ann@Example.com,Ann,9,"Great, fast\nand simple",1713418460,https://x.test/r/1,pro,DE\r\n'
    "102,bob@example.com,,3,Too slow,2024-04-19 08:00:00 UTC,https://x.test/r/2,free,FR\r\n"
    "103,ann@example.com,Ann,10,,2024-07-01T10:00:00Z,https://x.test/r/3,pro,DE\r\n"
)


def _import(app, path, *args):
    result = app.test_cli_runner().invoke(args=["import", "responses", str(path), *args])
    return result


def _responses(api):
    return api.get("/api/v1/responses?limit=500").json["items"]


def test_our_export_is_read_back(app, api, other_api, other_project, seeded, tmp_path):
    out = tmp_path / "export.csv"
    sid = seeded["survey"]["id"]
    args = ["export", "responses", "--project", str(api.keys.id), "--survey-id", str(sid)]
    exported = app.test_cli_runner().invoke(args=[*args, "--format", "csv", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    target = other_api.post("/api/v1/surveys", json={"name": "Imported"}).json["id"]
    before = len(_responses(other_api))

    args = ["--project", str(other_project.id), "--survey", str(target), "--chunk", "3"]
    result = _import(app, out, *args)
    assert result.exit_code == 0, result.output
    source = [r for r in _responses(api) if r["survey_id"] == sid]
    assert f"created {len(source)}, existing 0, failed 0" in result.output
    imported = [r for r in _responses(other_api) if r["survey_id"] == target]
    assert len(imported) == len(source) and before + len(source) == len(_responses(other_api))

    def same(r, people):
        who = people[r["person_id"]]
        return (
            r["created_at"],
            r["score"],
            r["comment"],
            r["channel"],
            r["locale"],
            r["excluded"],
            r["properties"],
            who["external_id"],
            who["email"],
            who["name"],
        )

    def people_of(client):
        return {p["id"]: p for p in client.get("/api/v1/people?limit=500").json["items"]}

    # Formula-looking comments and ids come back as stored, not as the export defanged them.
    assert sorted(map(lambda r: same(r, people_of(api)), source), key=str) == sorted(
        map(lambda r: same(r, people_of(other_api)), imported), key=str
    )
    assert rows(app, other_project.id) == rebuilt(app, other_project.id)

    again = _import(app, out, *args)
    assert again.exit_code == 0, again.output
    assert f"created 0, existing {len(source)}, failed 0" in again.output
    assert len(_responses(other_api)) == before + len(source)


def test_delighted_export(app, api, project, tmp_path):
    survey = api.post("/api/v1/surveys", json={"name": "From Delighted"}).json["id"]
    path = tmp_path / "delighted.csv"
    path.write_bytes(DELIGHTED_CSV.encode())
    args = ["--project", str(project.id), "--survey", str(survey), "--format", "delighted"]
    result = _import(app, path, *args)
    assert result.exit_code == 0, result.output
    got = sorted(_responses(api), key=lambda r: r["created_at"])
    assert [(r["score"], r["comment"], r["channel"]) for r in got] == [
        (9, "Great, fast\nand simple", "import"),
        (3, "Too slow", "import"),
        (10, None, "import"),
    ]
    # 1713418460 is 2024-04-18 05:34:20 UTC.
    assert [r["created_at"] for r in got] == [
        "2024-04-18T05:34:20Z",
        "2024-04-19T08:00:00Z",
        "2024-07-01T10:00:00Z",
    ]
    assert got[0]["properties"] == {"Plan": "pro", "Country": "DE"}
    assert got[0]["person_id"] == got[2]["person_id"]  # matched by email, any case
    ann = api.get(f"/api/v1/people/{got[0]['person_id']}").json
    assert (ann["email"], ann["name"]) == ("ann@example.com", "Ann")
    assert "created 0, existing 3" in _import(app, path, *args).output
    assert rows(app, project.id) == rebuilt(app, project.id)
    linked = rows(app, project.id, linked=True)
    assert linked == rebuilt(app, project.id, linked=True)
    assert_linked(linked)


def test_any_csv_with_a_mapping(app, api, project, tmp_path):
    survey = api.post("/api/v1/surveys", json={"name": "Mapped"}).json["id"]
    path = tmp_path / "mine.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["user", "stars", "said", "when", "plan", "ignored"])
    writer.writerow(["u1", "8", "ok", "2025-02-01T00:00:00Z", "pro", "x"])
    writer.writerow(["u2", "10", "", "2025-05-01T00:00:00+02:00", "7", "y"])
    path.write_text(buffer.getvalue())
    maps = ["user=external_id", "stars=score", "said=comment", "when=created_at"]
    base = ["--project", str(project.id), "--survey", str(survey), "--format", "mapping"]
    args = [*base, *[a for m in [*maps, "plan=property.plan"] for a in ("--map", m)]]
    result = _import(app, path, *args)
    assert result.exit_code == 0, result.output
    got = sorted(_responses(api), key=lambda r: r["created_at"])
    assert [(r["score"], r["comment"], r["created_at"], r["properties"]) for r in got] == [
        (8, "ok", "2025-02-01T00:00:00Z", {"plan": "pro"}),
        (10, None, "2025-04-30T22:00:00Z", {"plan": 7}),
    ]
    assert "created 0, existing 2" in _import(app, path, *args).output

    bad_map = _import(app, path, *base, "--map", "nope=score", "--map", "user=external_id")
    assert bad_map.exit_code == 2 and "no such columns: nope" in bad_map.output
    bad_field = _import(app, path, *base, "--map", "user=shoe_size")
    assert bad_field.exit_code == 2 and "unknown field" in bad_field.output
    no_score = _import(app, path, *base, "--map", "user=external_id")
    assert no_score.exit_code == 2 and "score column" in no_score.output


def test_bad_rows_are_reported_by_line_and_the_rest_stored(app, api, project, tmp_path):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    path = tmp_path / "ours.csv"
    path.write_text(
        "external_id,email,score,comment,created_at,property.plan\n"
        'a,,9,"two\nlines",2025-01-01T00:00:00Z,pro\n'  # lines 2-3
        "b,,11,,2025-01-02T00:00:00Z,\n"  # line 4: score out of range
        "c,,,,2025-01-03T00:00:00Z,\n"  # line 5: no score
        "d,not-an-email,5,,2025-01-04T00:00:00Z,\n"  # line 6
        "e,,5,,yesterday,\n"  # line 7: not a time
        "\n"  # line 8: blank, skipped
        "f,,seven,,2025-01-05T00:00:00Z,\n"  # line 9
        "g,,0,,2025-01-06T00:00:00Z,\n"  # line 10
    )
    args = ["--project", str(project.id), "--survey", str(survey), "--chunk", "2"]
    result = _import(app, path, *args)
    assert result.exit_code == 1
    reported = [
        line.split(":")[0] for line in result.output.splitlines() if line.startswith("line")
    ]
    assert reported == ["line 4", "line 5", "line 6", "line 7", "line 9"]
    assert "created 2, existing 0, failed 5" in result.output
    assert sorted(r["person_id"] for r in _responses(api)) == sorted(
        p["id"] for p in api.get("/api/v1/people").json["items"] if p["external_id"] in "ag"
    )
    again = _import(app, path, *args)
    assert "created 0, existing 2, failed 5" in again.output

    missing = _import(app, path, "--project", str(project.id))
    assert missing.exit_code == 2 and "--survey" in missing.output
    assert _import(app, path, "--project", "999").exit_code == 2


def test_progress_bar_on_standard_error(app, api, project, tmp_path):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    path = tmp_path / "few.csv"
    lines = [f"p{i},{i % 11},2025-01-0{1 + i % 9}T00:00:00Z" for i in range(30)]
    path.write_text("external_id,score,created_at\n" + "\n".join(lines) + "\n")
    args = ["--project", str(project.id), "--survey", str(survey), "--progress", "--chunk", "7"]
    result = _import(app, path, *args)
    assert result.exit_code == 0, result.output
    # Off a terminal click prints the bar's label once instead of redrawing it.
    assert result.stderr.startswith("importing")
    assert result.stdout.strip() == "created 30, existing 0, failed 0"
