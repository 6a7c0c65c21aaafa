"""The pages behind the links: GET never records, tokens are checked, output is escaped."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from service.db import db
from service.tokens import score_token, unsubscribe_token
from surveys.models import Invitation, Person, SurveyResponse
from tests.conftest import TEST_SECRET
from tests.email.conftest import create_person, create_survey, run_schedule


@pytest.fixture
def invitation(mail_app, mail_api):
    survey = create_survey(mail_api, followup={"promoter": {"en": "Why <b>{product}</b>?"}})
    person = create_person(mail_api, "ann", locale="en")
    run_schedule(mail_app)
    with mail_app.app_context():
        inv = db().scalar(select(Invitation))
        return {
            "id": inv.id,
            "survey": survey,
            "person": person,
            "score": score_token(inv.id),
            "unsubscribe": unsubscribe_token(inv.id),
        }


def _responses(app) -> list[SurveyResponse]:
    with app.app_context():
        return list(db().scalars(select(SurveyResponse)))


def test_get_never_records_and_post_records_once(mail_app, invitation):
    client = mail_app.test_client()
    token = invitation["score"]
    for _ in range(3):
        page = client.get(f"/r/{token}?score=10")
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'data-autosubmit="1"' in html and 'id="score-10"' in html
    assert '<label for="score-10">10</label>' in html
    assert _responses(mail_app) == []
    for score in ("10", "10", "6"):
        assert client.post(f"/r/{token}", data={"score": score}).status_code == 303
    [response] = _responses(mail_app)
    assert (response.score, response.channel, response.invitation_id) == (
        6,
        "email",
        invitation["id"],
    )
    # The recorded score is shown selected, without re-posting it.
    again = client.get(f"/r/{token}?score=6").get_data(as_text=True)
    assert 'data-autosubmit="0"' in again and 'value="6" checked' in again


def test_followup_per_segment_escapes_survey_texts(mail_app, invitation):
    client = mail_app.test_client()
    token = invitation["score"]
    client.post(f"/r/{token}", data={"score": "9"})
    html = client.get(f"/r/{token}/more").get_data(as_text=True)
    assert "Why &lt;b&gt;Acme&lt;/b&gt;?" in html
    assert "Thank you! Your answer: 9." in html


def test_comment_before_score_and_bad_scores(mail_app, invitation):
    client = mail_app.test_client()
    token = invitation["score"]
    assert client.get(f"/r/{token}/more").status_code == 303
    page = client.post(f"/r/{token}", data={"step": "comment", "comment": "hi"})
    assert page.status_code == 422
    for bad in ("11", "-1", "x", ""):
        page = client.post(f"/r/{token}", data={"score": bad})
        assert page.status_code == 422 and "choose a number" in page.get_data(as_text=True)
    assert client.get(f"/r/{token}?score=99").status_code == 200
    assert _responses(mail_app) == []


def _old_token(purpose: str, invitation_id: int, age_seconds: int) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - age_seconds

    serializer = URLSafeTimedSerializer(TEST_SECRET, salt=f"flywheel.{purpose}", signer=PastSigner)
    return serializer.dumps({"i": invitation_id})


def test_forged_altered_and_expired_tokens_get_a_page(mail_app, invitation):
    client = mail_app.test_client()
    token = invitation["score"]
    forged = URLSafeTimedSerializer("not-our-secret", salt="flywheel.email-score").dumps({"i": 1})
    payload, rest = token.split(".", 1)
    altered = "eyJpIjo5OX0." + rest  # {"i":99} with the original signature
    for bad in (forged, altered, token[:-2] + "xx", "garbage"):
        page = client.get(f"/r/{bad}?score=5")
        assert page.status_code == 400
        assert page.content_type.startswith("text/html")
        assert "This link is not valid" in page.get_data(as_text=True)
        assert client.post(f"/r/{bad}", data={"score": "5"}).status_code == 400
    # The unsubscribe token cannot be used as a score token, nor the reverse.
    assert client.get(f"/r/{invitation['unsubscribe']}").status_code == 400
    assert client.post(f"/u/{token}").status_code == 400
    expired = _old_token("email-score", invitation["id"], 31 * 24 * 3600)
    page = client.get(f"/r/{expired}?score=5", headers={"Accept-Language": "ru"})
    assert page.status_code == 410 and "Срок действия ссылки истёк" in page.get_data(as_text=True)
    assert client.post(f"/r/{expired}", data={"score": "5"}).status_code == 410
    fresh_enough = _old_token("email-score", invitation["id"], 29 * 24 * 3600)
    assert client.get(f"/r/{fresh_enough}?score=5").status_code == 200
    assert _responses(mail_app) == []


def test_no_page_may_be_framed(mail_app, invitation):
    client = mail_app.test_client()
    score, unsubscribe = invitation["score"], invitation["unsubscribe"]
    client.post(f"/r/{score}", data={"score": "9"})
    pages = [
        client.get(f"/r/{score}?score=9"),
        client.get(f"/r/{score}/more"),
        client.get(f"/r/{score}/thanks"),
        client.post(f"/r/{score}", data={"score": "nine"}),  # the form again, with its error
        client.get(f"/u/{unsubscribe}"),
        client.post(f"/u/{unsubscribe}"),
        client.get("/r/garbage?score=9"),  # the pages that explain a problem too
        client.get(f"/u/{score}"),
    ]
    for page in pages:
        assert page.headers["X-Frame-Options"] == "DENY", page.request.path
        policy = [d.strip() for d in page.headers["Content-Security-Policy"].split(";")]
        assert [d for d in policy if d.startswith("frame-ancestors")] == ["frame-ancestors 'none'"]


def test_closed_survey_and_deleted_person(mail_app, mail_api, invitation):
    client = mail_app.test_client()
    mail_api.patch(f"/api/v1/surveys/{invitation['survey']['id']}", json={"active": False})
    page = client.get(f"/r/{invitation['score']}?score=5")
    assert page.status_code == 409 and "This survey is closed" in page.get_data(as_text=True)
    assert client.post(f"/r/{invitation['score']}", data={"score": "5"}).status_code == 409
    mail_api.delete(f"/api/v1/people/{invitation['person']['id']}")
    assert client.get(f"/r/{invitation['score']}").status_code == 404
    assert client.get(f"/u/{invitation['unsubscribe']}").status_code == 404


def test_unsubscribe_asks_first_then_cancels_pending_mail(mail_app, invitation):
    client = mail_app.test_client()
    page = client.get(f"/u/{invitation['unsubscribe']}")
    assert page.status_code == 200 and '<form method="post"' in page.get_data(as_text=True)
    with mail_app.app_context():
        assert db().get(Person, invitation["person"]["id"]).unsubscribed_at is None
    done = client.post(f"/u/{invitation['unsubscribe']}")
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    assert client.post(f"/u/{invitation['unsubscribe']}").status_code == 200
    with mail_app.app_context():
        assert db().get(Person, invitation["person"]["id"]).unsubscribed_at is not None
        assert db().scalar(select(Invitation.status)) == "cancelled"
        assert db().scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_pages_in_chinese(mail_app, mail_api):
    create_survey(mail_api, product_name="Acme")
    create_person(mail_api, "li", locale="zh-CN")
    run_schedule(mail_app)
    with mail_app.app_context():
        token = score_token(db().scalar(select(Invitation.id)))
    html = mail_app.test_client().get(f"/r/{token}?score=8").get_data(as_text=True)
    assert 'lang="zh"' in html and "您有多大可能向朋友或同事推荐Acme" in html
    assert "保存我的回答" in html
