"""The writers on their own: defanging, RFC 4180, streaming order, XLSX sheets, file names."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook

from surveys.export.files import xlsx_chunks
from surveys.export.formats import Column, csv_chunks, defang, ndjson_chunks, typed_value
from surveys.export.responses import export_file_stem, property_kind

COLUMNS = [Column("id", "int"), Column("text", "text"), Column("kind", "str")]


def test_defang_prefixes_only_formula_starts():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert defang(f"{start}x") == f"'{start}x"
    for safe in ("x=1", "", " =1", "'=1", "Привет", "😀"):
        assert defang(safe) == safe
    assert defang(-5) == -5 and defang(None) is None


def test_csv_defangs_text_columns_not_chosen_values():
    rows = [[1, "=1+1", "-"], [2, "fine", "=x"], [3, None, None]]
    body = b"".join(csv_chunks(COLUMNS, [rows])).decode()
    assert list(csv.reader(io.StringIO(body, newline=""))) == [
        ["id", "text", "kind"],
        ["1", "'=1+1", "-"],
        ["2", "fine", "=x"],
        ["3", "", ""],
    ]
    assert body.endswith("\r\n")


def test_rows_defanged_by_the_database_are_written_as_they_are():
    body = b"".join(csv_chunks(COLUMNS, [[[1, "'=a", "s"]]], defanged=True)).decode()
    assert body.splitlines()[1] == '"1","\'=a","s"'


def test_header_leaves_before_any_row_is_read():
    consumed = []

    def batches():
        for i in range(3):
            consumed.append(i)
            yield [[i, "t", "s"]]

    for writer in (csv_chunks(COLUMNS, batches()),):
        first = next(writer)
        assert first == b'"id","text","kind"\r\n' and consumed == []
        assert next(writer) == b'"0","t","s"\r\n' and consumed == [0]


def test_ndjson_yields_per_batch():
    chunks = list(ndjson_chunks(COLUMNS, [[[1, "a\nb", "s"]], [], [[2, "中文", None]]]))
    assert chunks == [
        b'{"id":1,"text":"a\\nb","kind":"s"}\n',
        '{"id":2,"text":"中文","kind":null}\n'.encode(),
    ]


def test_typed_values_from_either_database():
    assert typed_value("int", "49") == 49 and typed_value("float", "12.5") == 12.5
    assert typed_value("bool", "true") is True and typed_value("bool", 0) is False
    assert typed_value("text", 5) == "5" and typed_value("int", None) is None


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit():
    rows = [[i, f"=row {i}", "s"] for i in range(5)]
    body = b"".join(xlsx_chunks(COLUMNS, [rows[:3], rows[3:]], sheet_rows=2))
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["responses", "responses (2)", "responses (3)"]
    got = [list(r) for s in book.worksheets for r in s.iter_rows(values_only=True)]
    assert got.count(["id", "text", "kind"]) == 3
    assert [r[0] for r in got if r[0] != "id"] == [0, 1, 2, 3, 4]
    assert book.worksheets[0]["B2"].data_type == "s" and book.worksheets[0]["B2"].value == "=row 0"


def test_file_stem():
    since, until = datetime(2026, 1, 1), datetime(2026, 4, 1)
    assert (
        export_file_stem("Acme Inc.", "Quarterly NPS", "responses", since, until)
        == "acme-inc_quarterly-nps_responses_2026-01-01_to_2026-04-01"
    )
    assert export_file_stem("Ромашка", None, "nps-by-property:plan", since, None) == (
        "ромашка_all-surveys_nps-by-property-plan_from_2026-01-01"
    )
    assert export_file_stem("../../etc", None, "responses", None, until).startswith("etc_")


def test_property_kind():
    assert property_kind(frozenset({"integer"})) == "int"
    assert property_kind(frozenset({"integer", "real", "null"})) == "float"
    assert property_kind(frozenset({"true", "false"})) == "bool"
    assert property_kind(frozenset({"true", "text"})) == "text"
    assert property_kind(frozenset({"null"})) == "text"
