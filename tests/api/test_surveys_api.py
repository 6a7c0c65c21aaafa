"""Surveys: defaults, overrides, validation, isolation."""


def test_create_with_defaults(api):
    r = api.post("/api/v1/surveys", json={"name": "Quarterly NPS", "product_name": "Acme"})
    assert r.status_code == 201, r.json
    s = r.json
    assert s["cadence_days"] == 90 and s["active"] is True
    assert s["channels"] == ["email", "widget", "link"]
    assert s["send_window"] == {"start": "09:00", "end": "17:00"}
    assert api.get(f"/api/v1/surveys/{s['id']}").json["name"] == "Quarterly NPS"


def test_texts_override_and_patch(api):
    s = api.post(
        "/api/v1/surveys",
        json={
            "name": "S",
            "question": {"en": "Would you recommend {product}?"},
            "followup": {"detractor": {"en": "What went wrong?"}},
            "channels": ["widget"],
            "send_window": None,
        },
    ).json
    assert s["send_window"] is None
    r = api.patch(f"/api/v1/surveys/{s['id']}", json={"active": False, "cadence_days": 30})
    assert r.status_code == 200
    assert r.json["active"] is False and r.json["cadence_days"] == 30
    assert r.json["question"] == {"en": "Would you recommend {product}?"}


def test_invalid_survey_fields(api):
    assert api.post("/api/v1/surveys", json={}).status_code == 422
    assert api.post("/api/v1/surveys", json={"name": "x", "channels": ["sms"]}).status_code == 422
    r = api.post(
        "/api/v1/surveys", json={"name": "x", "send_window": {"start": "18:00", "end": "09:00"}}
    )
    assert r.status_code == 422
    assert api.post("/api/v1/surveys", json={"name": "x", "sample_rate": 2}).status_code == 422
    assert (
        api.post("/api/v1/surveys", json={"name": "x", "followup": {"fan": {}}}).status_code == 422
    )


def test_list_and_isolation(api, other_api):
    ids = [api.post("/api/v1/surveys", json={"name": f"S{i}"}).json["id"] for i in range(3)]
    assert [s["id"] for s in api.get("/api/v1/surveys").json["items"]] == ids
    assert other_api.get(f"/api/v1/surveys/{ids[0]}").status_code == 404
    assert other_api.patch(f"/api/v1/surveys/{ids[0]}", json={"name": "x"}).status_code == 404
    assert other_api.get("/api/v1/surveys").json["items"] == []


def test_texts_resolution():
    from surveys.texts import followup_text, question_text

    assert question_text({}, "Acme", "ru-RU") == (
        "Насколько вероятно, что вы порекомендуете Acme другу или коллеге?"
    )
    assert question_text({}, "Acme", "zh-CN") == "您有多大可能向朋友或同事推荐Acme？"
    assert question_text({"de": "Empfehlen Sie {product}?"}, "Acme", "de") == "Empfehlen Sie Acme?"
    assert question_text(None, None, "fr").startswith("How likely are you to recommend us")
    assert followup_text({"detractor": {"en": "Why?"}}, "A", "detractor", "en-GB") == "Why?"
    assert "Acme" in followup_text({}, "Acme", "promoter", "en")
