"""The export page through the test client: each download equals the API's export of the same
query byte for byte (CSV, NDJSON) or row for row (XLSX, Parquet), dates are whole days in the
project's time zone, the command the page shows fetches the same file, a viewer kept from
emails exports none, and bad filters are explained on the page (never a 500)."""

from __future__ import annotations

import csv
import io
import re
import shlex
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pyarrow.parquet as pq
import pytest

from surveys.accounts.roles import Role
from tests.app.conftest import TeamClient, add_user
from tests.conftest import Api, make_project

# (who, score, created_at UTC, channel, plan, mrr)
ANSWERS = [
    ("ann", 10, "2026-01-15T10:00:00Z", "email", "pro", 50),
    ("bob", 3, "2026-02-10T10:00:00Z", "api", "free", 0),
    ("cat", 8, "2026-03-31T21:00:00Z", "email", "pro", 20),  # 23:00 in Berlin: still March
    ("dan", 6, "2026-03-31T23:00:00Z", "email", "enterprise", 400),  # 1 April in Berlin
    ("ann", 4, "2026-04-20T10:00:00Z", "email", "pro", 50),
    ("bob", 9, "2026-05-05T10:00:00Z", "api", "free", 0),
    ("eve", 10, "2026-06-30T12:00:00Z", "email", "pro", 80),
]


@pytest.fixture
def acme(app):
    keys = make_project(app, "Acme", "Europe/Berlin")
    api = Api(app.test_client(), keys)
    survey = api.post("/api/v1/surveys", json={"name": "Quarterly NPS"}).json["id"]
    for who, score, when, channel, plan, mrr in ANSWERS:
        r = api.post(
            "/api/v1/responses",
            json={
                "survey_id": survey,
                "person": {"external_id": who, "email": f"{who}@customer.test"},
                "score": score,
                "comment": f"=HYPERLINK() from {who}",
                "channel": channel,
                "created_at": when,
                "properties": {"plan": plan, "mrr": mrr},
            },
        )
        assert r.status_code == 201, r.json
    return keys, api, survey


def signed_in(app, keys, role: Role = Role.OWNER) -> TeamClient:
    member = add_user(app, keys.id, f"{role.value}@acme.test", role)
    team = TeamClient(app.test_client())
    team.sign_in(member.email)
    return team


def both(team, api, app_path: str, api_path: str):
    mine = team.client.get(app_path)
    theirs = api.get(api_path)
    assert mine.status_code == 200, mine.get_data(as_text=True)[-2000:]
    assert theirs.status_code == 200, theirs.json
    assert mine.headers["Content-Type"] == theirs.headers["Content-Type"]
    assert mine.headers["Content-Disposition"] == theirs.headers["Content-Disposition"]
    return mine.data, theirs.data


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_responses_download_equals_the_api_export(app, acme):
    keys, api, survey = acme
    team = signed_in(app, keys)
    assert team.get("/app/export").status_code == 200
    # Berlin days 1 April to 30 June: from 31 March 22:00 UTC to 30 June 22:00 UTC.
    app_query = f"format=csv&survey_id={survey}&since=2026-04-01&until=2026-06-30&what=responses"
    api_query = (
        f"format=csv&survey_id={survey}&since=2026-03-31T22:00:00Z&until=2026-06-30T22:00:00Z"
        "&pii=true&excel=false"
    )
    mine, theirs = both(
        team,
        api,
        f"/app/export/responses?{app_query}&pii=true",
        f"/api/v1/export/responses?{api_query}",
    )
    assert mine == theirs
    rows = csv_rows(mine)
    # dan (1 April in Berlin), ann's second, bob's second; not cat (still March), not eve
    # (30 June 12:00 UTC is 14:00 in Berlin, within the last day).
    assert sorted((r["external_id"], r["score"]) for r in rows) == [
        ("ann", "4"),
        ("bob", "9"),
        ("dan", "6"),
        ("eve", "10"),
    ]
    assert {r["email"] for r in rows} == {
        "ann@customer.test",
        "bob@customer.test",
        "dan@customer.test",
        "eve@customer.test",
    }
    assert rows[0]["comment"].startswith("'=")  # defanged, as the API does

    # Segment, channel, property columns and the Excel mark, in every format.
    app_query = (
        f"survey_id={survey}&segment=detractor&channel=email&properties=plan&excel=true&pii=true"
    )
    api_query = f"survey_id={survey}&segment=detractor&channel=email&properties=plan"
    for fmt in ("csv", "ndjson", "xlsx", "parquet"):
        mine, theirs = both(
            team,
            api,
            f"/app/export/responses?format={fmt}&{app_query}",
            f"/api/v1/export/responses?format={fmt}&{api_query}&pii=true&excel=true",
        )
        if fmt in ("csv", "ndjson"):
            assert mine == theirs
        if fmt == "csv":
            assert mine.startswith("\ufeff".encode())
            rows = csv_rows(mine)
            assert sorted(r["external_id"] for r in rows) == ["ann", "dan"]
            assert [c for c in rows[0] if c.startswith("property.")] == ["property.plan"]
        if fmt == "parquet":
            table = pq.read_table(io.BytesIO(mine))
            assert table.equals(pq.read_table(io.BytesIO(theirs)))
            assert sorted(table.column("external_id").to_pylist()) == ["ann", "dan"]
        if fmt == "xlsx":
            assert mine[:2] == b"PK" and len(mine) > 1000


def test_the_nps_table_and_movement_equal_the_api_exports(app, acme):
    keys, api, survey = acme
    team = signed_in(app, keys, Role.VIEWER)
    mine, theirs = both(
        team,
        api,
        f"/app/export/metrics?format=csv&survey_id={survey}&group_by=property"
        "&group_property=plan&weight=mrr&count=all",
        f"/api/v1/export/metrics?format=csv&survey_id={survey}&group_by=property:plan"
        "&weight=property:mrr&count=all",
    )
    assert mine == theirs
    mine, theirs = both(
        team,
        api,
        f"/app/export/metrics?format=ndjson&survey_id={survey}&group_by=quarter&channel=email"
        "&since=2026-01-01&until=2026-06-30",
        f"/api/v1/export/metrics?format=ndjson&survey_id={survey}&group_by=quarter"
        "&channel=email&since=2025-12-31T23:00:00Z&until=2026-06-30T22:00:00Z",
    )
    assert mine == theirs
    mine, theirs = both(
        team,
        api,
        f"/app/export/movement?format=csv&survey_id={survey}&from=2026-Q1&to=2026-Q2",
        f"/api/v1/export/movement?format=csv&survey_id={survey}&from=2026-Q1&to=2026-Q2"
        "&series=false",
    )
    assert mine == theirs
    flows = {
        (r["from_segment"], r["to_segment"]): int(r["people"])
        for r in csv_rows(mine)
        if r["people"] != "0"
    }
    # Q1 in Berlin: ann promoter, bob detractor, cat passive (23:00 on 31 March); Q2: ann
    # detractor, bob promoter, dan detractor (1 April, new), eve promoter (new).
    assert flows == {
        ("promoter", "detractor"): 1,
        ("detractor", "promoter"): 1,
        ("", "promoter"): 1,
        ("", "detractor"): 1,
        ("passive", ""): 1,
    }


def test_the_command_on_the_page_fetches_the_same_file(app, acme):
    keys, api, survey = acme
    team = signed_in(app, keys)
    query = f"format=csv&survey_id={survey}&since=2026-04-01&segment=promoter&pii=true"
    page = team.get(f"/app/export?{query}&what=responses")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    command = unescape(re.search(r'data-command="responses">([^<]+)<', html).group(1))
    words = shlex.split(command)
    assert words[:3] == ["curl", "-fsS", "-H"]
    assert words[3] == "Authorization: Bearer $FLYWHEEL_SECRET_KEY"
    url = urlsplit(words[-1])
    assert f"{url.scheme}://{url.netloc}" == "http://flywheel.test"
    assert dict(parse_qsl(url.query))["since"] == "2026-03-31T22:00:00Z"
    from_api = api.get(f"{url.path}?{url.query}")
    assert from_api.status_code == 200
    assert from_api.data == team.client.get(f"/app/export/responses?{query}").data
    # The form comes back filled in.
    assert 'id="responses-since" name="since" value="2026-04-01"' in html
    assert '<option value="promoter" selected>' in html


def test_a_viewer_kept_from_emails_exports_none(app, acme):
    keys, api, survey = acme
    viewer = signed_in(app, keys, Role.VIEWER)
    r = viewer.client.get(f"/app/export/responses?format=csv&survey_id={survey}&pii=true")
    assert "email" in csv_rows(r.data)[0]
    api.patch("/api/v1/project", json={"hide_emails_from_viewers": True})
    page = viewer.get("/app/export").get_data(as_text=True)
    assert "Email and name are left out" in page and 'name="pii"' not in page
    r = viewer.client.get(f"/app/export/responses?format=csv&survey_id={survey}&pii=true")
    rows = csv_rows(r.data)
    assert "email" not in rows[0] and "name" not in rows[0]
    assert b"customer.test" not in r.data
    owner = signed_in(app, keys, Role.OWNER)
    r = owner.client.get(f"/app/export/responses?format=csv&survey_id={survey}&pii=true")
    assert b"ann@customer.test" in r.data


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/app/export/responses?since=yesterday", "since: Not a valid datetime."),
        ("/app/export/responses?format=pdf", "format: Must be one of"),
        ("/app/export/movement?format=csv", "survey_id: Missing data for required field."),
        ("/app/export/movement?survey_id=1&from=2026-Q9", ""),
        ("/app/export/metrics?group_by=property&group_property=", "group_by"),
        ("/app/export/metrics?group_by=decade", ""),
        ("/app/export/responses?survey_id=999999", ""),
    ],
)
def test_bad_filters_are_explained_on_the_page(app, acme, path, message):
    keys, _, _ = acme
    team = signed_in(app, keys, Role.VIEWER)
    r = team.get(path)
    assert 400 <= r.status_code < 500, r.status_code
    text = r.get_data(as_text=True)
    assert "<h1>Export</h1>" in text and 'role="alert"' in text
    assert message in unescape(text)


def test_another_projects_survey_and_signed_out_visits(app, acme):
    keys, _, _ = acme
    other = make_project(app, "Other")
    other_api = Api(app.test_client(), other)
    theirs = other_api.post("/api/v1/surveys", json={"name": "Theirs"}).json["id"]
    team = signed_in(app, keys)
    r = team.get(f"/app/export/movement?survey_id={theirs}")
    assert r.status_code == 404
    anonymous = app.test_client()
    r = anonymous.get("/app/export/responses?format=csv")
    assert r.status_code == 302 and "/app/sign-in" in r.headers["Location"]
    assert anonymous.get("/app/export").status_code == 302
    assert team.get("/app/export/whatever").status_code == 404
