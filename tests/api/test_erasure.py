"""Erasure: after `DELETE /people/{id}` no door shows the person's words or email again —
responses, themes (quotes, labels, top terms), saved theme models, exports, link pages."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
from openpyxl import load_workbook
from sqlalchemy import select

from ml import load_model
from service.db import db
from service.tokens import score_token
from service.worker.loop import run_once
from surveys.models import ThemeRun
from tests.answers import answer

EMAIL = "erin.erased@example.com"
NAME = "Erin Quokkason"
# Words only Erin ever wrote; "quokka" also finds her name.
NEEDLES = (EMAIL, "quokka", "zorblax")
ERIN_SAYS = [
    "The zorblax mascot popup keeps covering my quokka dashboard",
    "Remove the zorblax popup, it hides the quokka charts",
    "zorblax popup again over the quokka reports",
]
OTHERS_SAY = [
    "I was charged twice this month, refund the double charge",
    "Charged twice again, the double charge is still not refunded",
    "Double charge on my credit card, refund the charge please",
    "The invoice charged my card twice, I need a refund",
    "Billing charged my card twice, the refund took weeks",
    "Refund for the double charge on my card was slow",
    "The mascot popup is annoying, please remove the popup",
]
FORMATS = ("csv", "ndjson", "xlsx", "parquet")


def _file_text(fmt: str, body: bytes) -> str:
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(body), read_only=True)
        return json.dumps([list(row) for sheet in book for row in sheet.values], default=str)
    if fmt == "parquet":
        return json.dumps(pq.read_table(io.BytesIO(body)).to_pylist(), default=str)
    return body.decode("utf-8")


def _json_text(api, url: str) -> str:
    r = api.get(url)
    assert r.status_code in (200, 404), (url, r.status_code)
    return r.get_data(as_text=True)


def everything_shown(api, client, survey_id: int, link: str) -> str:
    """The text of every read door: API reads, every export in every format, link pages."""
    shown = [
        _json_text(api, url)
        for url in (
            "/api/v1/people?limit=1000",
            "/api/v1/responses?limit=1000",
            "/api/v1/invitations?limit=1000",
            "/api/v1/unsubscribes?limit=1000",
            "/api/v1/themes/runs?limit=1000",
            f"/api/v1/metrics/nps?survey_id={survey_id}&group_by=quarter",
            f"/api/v1/movement/people?survey_id={survey_id}&from=2026-Q1&to=2026-Q2",
        )
    ]
    for run in api.get("/api/v1/themes/runs?limit=1000").json["items"]:
        if run["status"] != "done":
            continue
        listed = api.get(f"/api/v1/themes?run_id={run['id']}").json
        shown.append(json.dumps(listed))
        for point in listed["items"]:
            shown.append(_json_text(api, f"/api/v1/themes/{point['id']}"))
            shown.append(_json_text(api, f"/api/v1/themes/{point['id']}/responses?limit=1000"))
    for fmt in FORMATS:
        for url in (
            f"/api/v1/export/responses?format={fmt}",
            f"/api/v1/export/metrics?format={fmt}&group_by=quarter",
            f"/api/v1/export/movement?format={fmt}&survey_id={survey_id}&from=2026-Q1&to=2026-Q2",
        ):
            r = api.get(url)
            assert r.status_code == 200, (url, r.status_code)
            shown.append(_file_text(fmt, r.data))
    for page in (link, f"{link}/more", f"{link}/thanks"):
        shown.append(client.get(page).get_data(as_text=True))
    return "\n".join(shown).lower()


def edit_terms(app) -> str:
    """Every term the kept theme edits hold, as one text."""

    from surveys.models import ThemeEdit

    with app.app_context():
        edits = db().scalars(select(ThemeEdit)).all()
        return " ".join(t for e in edits for t in [*e.terms, *e.other_terms]).lower()


def model_words(app) -> str:
    """Every term and label the saved theme models keep, as one text."""
    words = []
    with app.app_context():
        for blob in db().scalars(select(ThemeRun.model).where(ThemeRun.model.is_not(None))):
            model = load_model(io.BytesIO(blob))
            for _name, step in model.embedder_.named_steps["tfidf"].transformer_list:
                vectorizer = getattr(step, "vectorizer_", step)
                if vectorizer is not None:
                    words.extend(vectorizer.vocabulary_)
            for theme in model.themes_:
                words.extend([theme.label, *theme.top_terms])
    return "\n".join(words).lower()


def test_erasure_leaves_no_copy_of_the_persons_words(app, api, client):
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).json["id"]
    for i, text in enumerate(OTHERS_SAY):
        answer(api, survey, f"o{i}", 3, f"2026-01-1{i}T10:00:00Z", comment=text)
    answer(api, survey, "o0", 10, "2026-04-10T10:00:00Z")
    erin = api.post("/api/v1/people", json={"external_id": "erin", "email": EMAIL, "name": NAME})
    erin_id = erin.json["id"]
    for i, text in enumerate(ERIN_SAYS):
        answer(api, survey, "erin", 2, f"2026-01-0{i + 1}T10:00:00Z", comment=text)
    # An email invitation she answered by link, her comment shown on its thanks page.
    r = api.post(
        f"/api/v1/surveys/{survey}/invitations", json={"person_ids": [erin_id], "force": True}
    )
    assert r.status_code == 201, r.json
    with app.app_context():
        link = f"/r/{score_token(r.json['invitations'][0]['id'])}"
    assert client.post(link, data={"score": "9"}).status_code == 303
    comment = "the zorblax link page remembers me"
    assert client.post(link, data={"step": "comment", "comment": comment}).status_code == 303

    r = api.post("/api/v1/themes/runs", json={"n_themes": 2, "segments": ["detractor"]})
    assert r.status_code == 202
    assert run_once(app)["theme_runs"] == 1
    points = api.get("/api/v1/themes").json["items"]
    popup = next(p for p in points if "zorblax" in p["top_terms"])
    assert "zorblax" in popup["label"] or "quokka" in popup["label"]
    assert any("quokka" in q["text"] for q in popup["quotes"])
    # A rename keeps the theme's top terms, her words among them, to match later runs by.
    r = api.patch(f"/api/v1/themes/{popup['id']}", json={"label": "Popup complaints"})
    assert r.status_code == 200
    assert "zorblax" in edit_terms(app)
    before = everything_shown(api, client, survey, link)
    assert all(needle.lower() in before for needle in NEEDLES)
    assert "zorblax" in model_words(app)

    assert api.delete(f"/api/v1/people/{erin_id}").status_code == 204

    after = everything_shown(api, client, survey, link)
    assert [n for n in NEEDLES if n.lower() in after] == []
    assert [w for w in ("zorbl", "quokk") if w in model_words(app)] == []
    assert [w for w in ("zorbl", "quokk") if w in edit_terms(app)] == []
    # Her theme keeps the words the remaining comment still says, in their order of weight.
    kept = api.get(f"/api/v1/themes/{popup['id']}").json
    assert kept["top_terms"] == [t for t in popup["top_terms"] if t in OTHERS_SAY[-1].lower()]
    assert kept["top_terms"] and kept["label"] == " / ".join(kept["top_terms"][:3])
    assert [q["text"] for q in kept["quotes"]] == [OTHERS_SAY[-1]]
    # The run that saw her comments lost its model; a refit of the same run was queued, and
    # once fitted it knows nothing of her either.
    runs = api.get("/api/v1/themes/runs").json["items"]
    assert [r["status"] for r in runs] == ["done", "queued"]
    assert runs[1]["params"] == runs[0]["params"]
    assert run_once(app)["theme_runs"] == 1
    assert api.get("/api/v1/themes").json["run"]["id"] == runs[1]["id"]
    after_refit = everything_shown(api, client, survey, link)
    assert [n for n in NEEDLES if n.lower() in after_refit] == []
    assert "popup" in model_words(app) and "zorbl" not in model_words(app)
