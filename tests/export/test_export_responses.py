"""GET /api/v1/export/responses: every format parsed back and compared with the database."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import load_workbook

from tests.answers import answer
from tests.export.conftest import BASE_COLUMNS, TEXT_COLUMNS, TRICKY, as_utc, expected_rows

PROPERTY_COLUMNS = [
    "property.beta",
    "property.mixed",
    "property.mrr",
    "property.note",
    'property.odd "key"',
    "property.plan",
    "property.seats",
]
TEXT_PROPERTIES = {"property.mixed", "property.note", 'property.odd "key"', "property.plan"}


def defanged(value: str) -> str:
    return "'" + value if value and value[0] in "=+-@\t\r" else value


def csv_text(column: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return defanged(text) if column in TEXT_COLUMNS | TEXT_PROPERTIES else text


def as_text_columns(rows: list[dict]) -> list[dict]:
    """A column of mixed JSON types is a text column: its booleans read 'true'/'false'."""
    out = []
    for row in rows:
        row = dict(row)
        for column in TEXT_PROPERTIES:
            if isinstance(row.get(column), bool):
                row[column] = "true" if row[column] else "false"
        out.append(row)
    return out


def export(api, query=""):
    r = api.get(f"/api/v1/export/responses?{query}")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return r


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def test_csv_every_column_round_trips(app, api, project, seeded):
    r = export(api, "format=csv")
    assert r.is_streamed
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = r.get_data()
    assert not body.startswith(b"\xef\xbb\xbf")
    table = read_csv(body)
    assert table[0] == BASE_COLUMNS + PROPERTY_COLUMNS
    expected = expected_rows(app, project.id)
    assert len(table) - 1 == len(expected) == 11
    for got, want in zip(table[1:], expected, strict=True):
        assert got == [csv_text(c, want[c]) for c in table[0]]
    # RFC 4180: CRLF between records, quotes doubled; newlines inside a quoted field kept.
    header = body.split(b"\r\n", 1)[0].decode()
    assert header.endswith(',"property.odd ""key""","property.plan","property.seats"')
    assert b'"Quotes ""inside"", commas, and\na newline\r\nand CRLF"' in body
    comments = {row[table[0].index("comment")] for row in table[1:]}
    assert "'" + TRICKY[0] in comments and "'\tindented by a tab" in comments
    assert TRICKY[7] in comments and TRICKY[8] in comments and TRICKY[9] in comments
    # User-typed text is defanged wherever it comes from: survey names, property values.
    assert {row[table[0].index("survey_name")] for row in table[1:]} >= {"'=Onboarding"}
    assert {row[table[0].index("property.plan")] for row in table[1:]} >= {"'-1"}


def test_ndjson_typed_and_exact(app, api, project, seeded):
    r = export(api, "format=ndjson")
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    lines = r.get_data(as_text=True).splitlines()
    rows = [json.loads(line) for line in lines]
    expected = as_text_columns(expected_rows(app, project.id))
    assert rows == expected  # exact text: JSON needs no defanging
    assert list(rows[0]) == BASE_COLUMNS + PROPERTY_COLUMNS
    assert rows[0]["property.beta"] is True and rows[0]["property.seats"] == 3


def test_xlsx_exact_text_never_formulas(app, api, project, seeded):
    r = export(api, "format=xlsx")
    book = load_workbook(io.BytesIO(r.get_data()))
    sheet = book["responses"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == BASE_COLUMNS + PROPERTY_COLUMNS
    expected = as_text_columns(expected_rows(app, project.id))
    assert len(values) - 1 == len(expected)
    for got, want in zip(values[1:], expected, strict=True):
        for column, cell in zip(values[0], got, strict=True):
            value = want[column]
            if column in ("created_at", "updated_at", "follow_up_due_at") and value:
                # Excel keeps times to the millisecond.
                assert abs(cell - as_utc(value).replace(tzinfo=None)).total_seconds() < 0.001
                continue
            if isinstance(value, str):
                # XML reads a carriage return back as a newline (end-of-line normalisation).
                value = value.replace("\r\n", "\n").replace("\r", "\n")
            assert cell == value or (cell is None and value == ""), (column, cell, value)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"  # '=HYPERLINK(...' is a string cell


def test_parquet_typed_for_pandas(app, api, project, seeded):
    r = export(api, "format=parquet")
    assert r.headers["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.get_data()))
    schema = {f.name: f.type for f in table.schema}
    assert schema["response_id"] == pa.int64() and schema["score"] == pa.int64()
    assert schema["created_at"] == pa.timestamp("us", tz="UTC")
    assert schema["excluded"] == pa.bool_() and schema["property.beta"] == pa.bool_()
    assert schema["property.mrr"] == pa.float64() and schema["property.seats"] == pa.int64()
    assert schema["property.mixed"] == pa.string()
    expected = as_text_columns(expected_rows(app, project.id))
    got = table.to_pylist()
    for row, want in zip(got, expected, strict=True):
        want = {**want, "created_at": as_utc(want["created_at"]),
                "updated_at": as_utc(want["updated_at"])}  # fmt: skip
        due = want["follow_up_due_at"]
        want["follow_up_due_at"] = as_utc(due) if due else None
        assert row == want
    frame = table.to_pandas()
    assert len(frame) == len(expected)
    assert str(frame["created_at"].dtype).startswith("datetime64")


def test_pii_false_leaves_out_email_and_name(api, seeded):
    for fmt in ("csv", "ndjson", "parquet"):
        body = export(api, f"format={fmt}&pii=false").get_data()
        if fmt == "csv":
            header = read_csv(body)[0]
        elif fmt == "ndjson":
            header = list(json.loads(body.splitlines()[0]))
        else:
            header = pq.read_table(io.BytesIO(body)).column_names
        assert "email" not in header and "name" not in header and "external_id" in header
        assert b"ann@example.com" not in body
        assert "Анна".encode() not in body


def test_excel_true_adds_a_bom(api, seeded):
    body = export(api, "format=csv&excel=true").get_data()
    assert body.startswith(b'\xef\xbb\xbf"response_id",')
    assert read_csv(body[3:])[0][0] == "response_id"


def test_file_name_says_project_survey_and_dates(api, seeded):
    sid = seeded["survey"]["id"]
    r = export(api, f"survey_id={sid}&since=2025-01-01T00:00:00Z&until=2025-04-01T00:00:00Z")
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="acme_quarterly-nps_responses_2025-01-01_to_2025-04-01.csv"' in disposition
    assert "filename*=UTF-8''acme_quarterly-nps-%F0%9F%93%88" not in disposition
    everything = export(api, "format=parquet").headers["Content-Disposition"]
    assert 'filename="acme_all-surveys_responses_all-time.parquet"' in everything


def ids_of_list(api, query):
    r = api.get(f"/api/v1/responses?limit=1000&{query}")
    assert r.status_code == 200, r.json
    return [item["id"] for item in r.json["items"]]


def test_filters_match_the_responses_list(app, api, project, seeded):
    sid = seeded["survey"]["id"]
    queries = [
        f"survey_id={sid}",
        "since=2025-04-01T00:00:00Z",
        "until=2025-04-01T00:00:00Z",
        "since=2025-01-11T00:00:00Z&until=2025-04-11T10:00:00Z",
        "segment=promoter",
        "segment=detractor",
        "channel=email",
        "updated_since=2025-05-01T00:00:00Z",
        f"survey_id={sid}&segment=passive",
    ]
    for query in queries:
        table = read_csv(export(api, query).get_data())
        got = [int(row[0]) for row in table[1:]]
        want = ids_of_list(api, query)
        assert got == want, query
        expected = expected_rows(app, project.id, ids=set(want))
        assert len(expected) == len(got)
        # Movement needs answers outside the filter: it is the same as unfiltered.
        full = {row["response_id"]: row for row in expected_rows(app, project.id)}
        for row in table[1:]:
            record = dict(zip(table[0], row, strict=True))
            want_row = full[int(record["response_id"])]
            assert record["movement"] == (want_row["movement"] or "")
            assert record["previous_segment"] == (want_row["previous_segment"] or "")


def test_movement_up_down_stayed_new_and_excluded(api, seeded):
    rows = [json.loads(line) for line in export(api, "format=ndjson").get_data().splitlines()]
    by = {(r["external_id"], r["created_at"][:10]): r for r in rows}
    assert by[("ann", "2025-01-10")]["movement"] == "new"
    assert (
        by[("ann", "2025-04-10")]["previous_segment"],
        by[("ann", "2025-04-10")]["movement"],
    ) == (
        "detractor",
        "up",
    )
    assert by[("li", "2025-04-11")]["movement"] == "stayed"
    excluded = by[("=cmd", "2025-02-12")]
    assert excluded["excluded"] is True and excluded["movement"] is None
    assert by[("=cmd", "2025-04-12")]["movement"] == "down"  # against 9, skipping the excluded 0
    free = [r for r in rows if r["survey_id"] is None][0]
    assert (free["score"], free["segment"], free["movement"]) == (None, None, None)
    # The same answers as the API's own list.
    listed = {i["id"]: i for i in api.get("/api/v1/responses?limit=1000").json["items"]}
    for row in rows:
        item = listed[row["response_id"]]
        assert (row["previous_segment"], row["movement"]) == (
            item["previous_segment"],
            item["movement"],
        )


def test_empty_export_is_header_only(api):
    table = read_csv(export(api, "format=csv").get_data())
    assert table == [BASE_COLUMNS]
    assert export(api, "format=ndjson").get_data() == b""
    parquet = pq.read_table(io.BytesIO(export(api, "format=parquet").get_data()))
    assert parquet.num_rows == 0 and parquet.column_names == BASE_COLUMNS
    book = load_workbook(io.BytesIO(export(api, "format=xlsx").get_data()))
    assert [list(r) for r in book.active.iter_rows(values_only=True)] == [BASE_COLUMNS]


def test_other_projects_data_is_absent(api, other_api, seeded):
    body = export(other_api, "format=csv").get_data().decode()
    table = read_csv(body.encode())
    assert len(table) == 2 and "other project" in body
    assert "ann@example.com" not in body and "Quarterly" not in body
    mine = export(api, "format=csv").get_data().decode()
    assert "Secret survey" not in mine and "spy" not in mine
    sid = seeded["survey"]["id"]
    r = other_api.get(f"/api/v1/export/responses?survey_id={sid}")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_properties_choose_the_property_columns(api, seeded):
    table = read_csv(export(api, "properties=seats,plan,unknown").get_data())
    assert table[0] == BASE_COLUMNS + ["property.seats", "property.plan", "property.unknown"]
    assert {row[-1] for row in table[1:]} == {""}
    assert read_csv(export(api, "properties=").get_data())[0] == BASE_COLUMNS


def test_bad_queries_are_clear_json_errors(client, api, seeded):
    cases = ["format=pdf", "since=yesterday", "segment=fans", "pii=maybe", "survey_id=x"]
    for query in cases:
        r = api.get(f"/api/v1/export/responses?{query}")
        assert r.status_code == 422, query
        assert r.json["error"]["code"] == "invalid"
    assert client.get("/api/v1/export/responses").status_code == 401
    assert api.get("/api/v1/export/responses?survey_id=999999").status_code == 404


def test_theme_column_from_the_latest_finished_run(app, api, project, seeded):
    from service.db import db
    from surveys.models import FrictionPoint, ThemeAssignment, ThemeRun

    rows = [json.loads(line) for line in export(api, "format=ndjson").get_data().splitlines()]
    assert {r["theme"] for r in rows} == {None}
    with app.app_context():
        session = db()
        old = ThemeRun(project_id=project.id, status="done", created_at=datetime(2025, 1, 1))
        new = ThemeRun(project_id=project.id, status="done", created_at=datetime(2025, 2, 1))
        running = ThemeRun(project_id=project.id, status="running")
        session.add_all([old, new, running])
        session.flush()
        points = {}
        for run, label in ((old, "Old label"), (new, "=Slow support"), (running, "Not yet")):
            point = FrictionPoint(run_id=run.id, project_id=project.id, cluster=0, label=label)
            session.add(point)
            session.flush()
            points[run.id] = point.id
        first, second = rows[0]["response_id"], rows[1]["response_id"]
        for run in (old, new, running):
            session.add(ThemeAssignment(run_id=run.id, response_id=first,
                                        friction_point_id=points[run.id]))  # fmt: skip
        session.add(ThemeAssignment(run_id=new.id, response_id=second, friction_point_id=None))
        session.commit()
    ndjson = [json.loads(line) for line in export(api, "format=ndjson").get_data().splitlines()]
    assert ndjson[0]["theme"] == "=Slow support" and ndjson[1]["theme"] is None
    assert {r["theme"] for r in ndjson[2:]} == {None}
    table = read_csv(export(api, "format=csv").get_data())
    assert table[1][table[0].index("theme")] == "'=Slow support"
    assert expected_rows(app, project.id)[0]["theme"] == "=Slow support"


HOSTILE_PROPERTIES = {
    "bad\x01name\x1f": "x\x02y",
    "ok;=cmd|' /C calc'!A0": "v",
    "tab\tname": 1,
    "тариф": "про",
}


def test_property_names_with_control_characters_or_beyond_ascii_export_in_every_format(api):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json
    answer(api, survey["id"], "ann", 9, "2025-01-10T10:00:00Z", properties=HOSTILE_PROPERTIES)
    names = [f"property.{key}" for key in HOSTILE_PROPERTIES]

    book = load_workbook(io.BytesIO(export(api, "format=xlsx").get_data()))
    [header, row] = book["responses"].iter_rows(values_only=True)
    # XML cannot hold them: control characters other than tab are dropped, as in values.
    assert list(header[-4:]) == [name.replace("\x01", "").replace("\x1f", "") for name in names]
    assert list(row[-4:]) == ["xy", "v", 1, "про"]

    [header, row] = read_csv(export(api, "format=csv").get_data())
    assert (header[-4:], row[-4:]) == (names, ["x\x02y", "v", "1", "про"])
    [record] = [json.loads(line) for line in export(api, "format=ndjson").get_data().splitlines()]
    assert list(record.items())[-4:] == list(zip(names, HOSTILE_PROPERTIES.values(), strict=True))
    table = pq.read_table(io.BytesIO(export(api, "format=parquet").get_data()))
    assert table.column_names[-4:] == names
    assert [table[name][0].as_py() for name in names] == list(HOSTILE_PROPERTIES.values())


FORMULA = "=+-@"


def spreadsheet_cells(line: str, separator: str) -> list[str]:
    """Cells as a spreadsheet splits a line: every double quote opens or closes quoting, and
    the separator splits only outside quotes (doubled quotes open and close at once)."""
    cells, cell, quoted = [], [], False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            cells.append("".join(cell))
            cell = []
        else:
            cell.append(char)
    return [*cells, "".join(cell)]


def test_csv_text_splits_into_no_formula_cell_in_any_locale(api):
    survey = api.post("/api/v1/surveys", json={"name": "NPS;=1+1"}).json
    comment = "ok;=cmd|' /C calc'!A0"
    answer(api, survey["id"], "x,@SUM(1+1)", 9, "2025-01-10T10:00:00Z", comment=comment,
           properties={"note": "a\t-2+3", "seats;=1": 2})  # fmt: skip
    body = export(api, "format=csv").get_data().decode()
    assert f'"{comment}"' in body
    for line in body.split("\r\n")[:-1]:
        for separator in ",;\t":
            cells = spreadsheet_cells(line, separator)
            assert not [c for c in cells if c.startswith(tuple(FORMULA))], (separator, line)
    # Every field is quoted, numbers too: quoting is the same for every column and database.
    [header, row] = read_csv(body.encode())
    assert body.split("\r\n")[1] == ",".join(f'"{cell}"' for cell in row)
    assert row[header.index("property.seats;=1")] == "2"
