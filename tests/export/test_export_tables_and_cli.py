"""The NPS table export, the SQL twins of the segment rules, and the `export responses` CLI."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import Integer, literal, select

from service.db import db
from surveys.export.columns import movement_case
from surveys.response_context import movement_of
from surveys.segments import segment_case, segment_of
from tests.answers import answer


def read_csv(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode(), newline="")))


def test_sql_segment_and_movement_match_the_python_rules(app):
    scores = [None, *range(11)]
    with app.app_context():
        session = db()
        for score in scores:
            got = session.scalar(select(segment_case(literal(score, Integer))))
            assert got == segment_of(score), score
            for previous in scores:
                if score is None:
                    continue
                pair = literal(previous, Integer), literal(score, Integer)
                stmt = select(movement_case(literal(1, Integer), *pair))
                assert session.scalar(stmt) == movement_of(previous, score), (previous, score)
        nothing = movement_case(literal(None, Integer), literal(3, Integer), literal(9, Integer))
        assert session.scalar(select(nothing)) is None


def test_metrics_export_matches_the_metrics_api(api, seeded):
    sid = seeded["survey"]["id"]
    for group in ("quarter", "channel", "property:plan"):
        r = api.get(f"/api/v1/export/metrics?format=csv&survey_id={sid}&group_by={group}")
        assert r.status_code == 200, r.get_data(as_text=True)
        rows = read_csv(r.get_data())
        nps = api.get(f"/api/v1/metrics/nps?survey_id={sid}&group_by={group}").json
        assert rows[0]["level"] == "overall"
        assert int(rows[0]["responses"]) == nps["overall"]["responses"]
        assert len(rows) - 1 == len(nps["buckets"])
        for row, bucket in zip(rows[1:], nps["buckets"], strict=True):
            key = bucket["key"] or ""
            assert row["key"] == ("'" + key if key[:1] in ("-", "=") else key)  # defanged
            assert int(row["responses"]) == bucket["responses"]
            assert row["nps"] == ("" if bucket["nps"] is None else str(bucket["nps"]))
            assert row["low_sample"] == str(bucket["low_sample"]).lower()
            if group == "quarter":
                assert row["start"].replace(".000000", "") == bucket["start"]
        assert "attachment; filename=" in r.headers["Content-Disposition"]
    quarters = read_csv(api.get(f"/api/v1/export/metrics?survey_id={sid}&group_by=quarter").data)
    assert quarters[2]["change"] != "" and quarters[2]["change_significant"] in ("true", "false")


def test_metrics_export_formats_and_errors(api, other_api, seeded):
    answer(api, seeded["survey"]["id"], "w", 10, "2025-02-01T00:00:00Z", properties={"mrr": 5})
    r = api.get("/api/v1/export/metrics?format=ndjson&weight=property:mrr")
    rows = [json.loads(line) for line in r.get_data().splitlines()]
    assert rows[0]["level"] == "overall" and rows[0]["weighted_total"] == 66.5
    assert api.get("/api/v1/export/metrics?format=parquet").status_code == 200
    assert api.get("/api/v1/export/metrics?group_by=planet").status_code == 422
    assert api.get("/api/v1/export/metrics?format=pdf").status_code == 422
    sid = seeded["survey"]["id"]
    assert other_api.get(f"/api/v1/export/metrics?survey_id={sid}").status_code == 404


def test_cli_writes_the_same_file_as_the_api(app, api, project, seeded, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "export.csv"
    sid = seeded["survey"]["id"]
    args = ["export", "responses", "--project", str(project.id), "--format", "csv"]
    result = runner.invoke(
        args=[*args, "--out", str(out), "--survey-id", str(sid), "--since", "2025-01-11T00:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    api_body = api.get(f"/api/v1/export/responses?survey_id={sid}&since=2025-01-11T00:00:00Z")
    assert out.read_bytes() == api_body.get_data()
    assert "responses ->" in result.output
    for fmt in ("ndjson", "xlsx", "parquet"):
        target = tmp_path / f"export.{fmt}"
        result = runner.invoke(
            args=[
                "export",
                "responses",
                "--project",
                str(project.id),
                "--format",
                fmt,
                "--out",
                str(target),
                "--no-pii",
                "--progress",
            ]  # fmt: skip
        )
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
    assert b"ann@example.com" not in (tmp_path / "export.ndjson").read_bytes()


def test_cli_reports_bad_input(app, project, tmp_path):
    runner = app.test_cli_runner()
    out = str(tmp_path / "x.csv")
    base = ["export", "responses", "--out", out]
    assert runner.invoke(args=[*base, "--project", "999"]).exit_code != 0
    bad_time = runner.invoke(args=[*base, "--project", str(project.id), "--since", "soon"])
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output
    missing = runner.invoke(args=[*base, "--project", str(project.id), "--survey-id", "42"])
    assert missing.exit_code == 1 and "survey 42 not found" in missing.output


def test_movement_export_matches_the_movement_api(api, seeded):
    sid = seeded["survey"]["id"]
    query = f"survey_id={sid}&from=2025-Q1&to=2025-Q2"
    r = api.get(f"/api/v1/export/movement?format=csv&{query}")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "_movement_2025-01-01_to_2025-07-01.csv" in r.headers["Content-Disposition"]
    rows = read_csv(r.get_data())
    report = api.get(f"/api/v1/metrics/movement?{query}").json
    flows = {(row["from_segment"], row["to_segment"]): row for row in rows}
    for a, line in report["matrix"].items():
        for b, cell in line.items():
            assert int(flows[(a, b)]["people"]) == cell["count"]
            assert flows[(a, b)]["movement"] in ("up", "down", "stayed")
    assert int(flows[("detractor", "promoter")]["people"]) == 1  # ann: 3 -> 9
    assert flows[("detractor", "promoter")]["movement"] == "up"
    for segment, people in report["new"].items():
        if segment != "total":
            assert int(flows[("", segment)]["people"]) == people
    assert {row["from_period"] for row in rows} == {"2025-Q1"}
    series = api.get(
        f"/api/v1/export/movement?format=ndjson&survey_id={sid}&series=true"
        "&since=2025-01-01T00:00:00Z&until=2025-06-30T00:00:00Z"
    )
    assert series.status_code == 200, series.get_data(as_text=True)
    assert api.get("/api/v1/export/movement?survey_id=999999").status_code == 404
    assert api.get("/api/v1/export/movement").status_code == 422
