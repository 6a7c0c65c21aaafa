"""Behaviour of ThemeModel on small inline corpora: themes, edge cases, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from ml import ThemeModel

DELIVERY = [
    "Delivery was very slow, waited two weeks",
    "slow delivery again, the parcel took forever",
    "The delivery is so slow!!!",
    "Why is delivery always this slow?",
    "delivery took 12 days, way too slow",
    "Slow delivery, package arrived late",
    "very slow delivery of my order",
    "delivery slow as usual",
]
REFUND = [
    "I still have not received my refund",
    "Where is my refund? It has been a month",
    "refund not processed yet",
    "please send my refund back to my card",
    "Requested a refund 3 weeks ago, nothing",
    "refund still pending",
    "no refund after returning the item",
    "how long does a refund take?",
]
LOGIN = [
    "The app crashes when I try to log in",
    "cannot log in, app crashes on startup",
    "login page crashes every time",
    "app crash after the update when logging in",
    "I can't log in to the app, it crashes",
    "crashes at login screen",
    "log in crashes the app on my phone",
    "the app keeps crashing on login",
]
CORPUS = DELIVERY + REFUND + LOGIN
TRUTH = np.repeat([0, 1, 2], 8)


def _same_partition(labels: np.ndarray, truth: np.ndarray, max_misses: int = 0) -> bool:
    """Each true group has its own majority cluster, missed by at most ``max_misses`` texts."""
    majority = {}
    for group in np.unique(truth):
        values, counts = np.unique(labels[truth == group], return_counts=True)
        if values[np.argmax(counts)] < 0 or len(truth[truth == group]) - counts.max() > max_misses:
            return False
        majority[group] = values[np.argmax(counts)]
    return len(set(majority.values())) == len(majority)


def _fit_two_themes(first: list[str], second: list[str]) -> ThemeModel:
    """A model fitted on two groups of texts, checked to have told them apart."""
    model = ThemeModel(random_state=0).fit(first + second)
    truth = np.repeat([0, 1], [len(first), len(second)])
    assert _same_partition(model.labels_, truth)
    return model


def test_fit_finds_the_three_themes_and_labels_them() -> None:
    model = ThemeModel(random_state=0).fit(CORPUS)
    assert len(model.themes_) == 3
    # One miss in 24 is tolerated: with 24 texts, shared function words still weigh a lot.
    assert _same_partition(model.labels_, TRUTH, max_misses=1)
    assert model.unassigned_share_ == 0.0
    delivery = model.themes_[model.labels_[0]]
    assert "delivery" in delivery.label
    assert "slow" in delivery.top_terms
    assert delivery.size == 8
    assert 3 <= len(delivery.quote_indices) <= 5
    assert all(model.labels_[i] == delivery.id for i in delivery.quote_indices)
    refund = model.themes_[model.labels_[8]]
    assert "refund" in refund.label


def test_theme_ids_match_label_values_and_sizes() -> None:
    model = ThemeModel(random_state=0).fit(CORPUS)
    for theme in model.themes_:
        assert theme.size == int(np.sum(model.labels_ == theme.id))
    assert [t.id for t in model.themes_] == list(range(len(model.themes_)))


def test_quotes_are_not_duplicates() -> None:
    texts = ["Delivery slow"] * 6 + DELIVERY + REFUND + LOGIN
    model = ThemeModel(random_state=0).fit(texts)
    theme = model.themes_[model.labels_[0]]
    quoted = [" ".join(texts[i].lower().split()) for i in theme.quote_indices]
    assert len(quoted) == len(set(quoted)) >= 3


def test_terms_in_finds_each_themes_terms_in_its_own_texts_only() -> None:
    model = ThemeModel(random_state=0).fit(CORPUS)
    for theme in model.themes_:
        members = [CORPUS[i] for i in np.flatnonzero(model.labels_ == theme.id)]
        assert model.terms_in(theme.top_terms, members) == theme.top_terms
    delivery = model.themes_[model.labels_[0]]
    # Without the two texts about the parcel and the package, the terms only they said go;
    # the others stay, in their order.
    rest = [t for t in DELIVERY if "parcel" not in t and "package" not in t] + REFUND
    assert delivery.top_terms[:3] == ["delivery", "slow", "took"]
    assert {"forever", "arrived", "late", "parcel", "package"} <= set(delivery.top_terms)
    kept = ThemeModel().terms_in(delivery.top_terms, rest)
    assert kept == ["delivery", "slow", "took", "days", "order"]
    hotel = ["这家酒店服务很好"]
    assert ThemeModel().terms_in(["好酒", "店服务", "酒店"], hotel) == ["店服务", "酒店"]
    assert ThemeModel().terms_in(["refund"], []) == []


def test_given_number_of_themes_is_used() -> None:
    model = ThemeModel(n_themes=2, random_state=0).fit(CORPUS)
    assert len(model.themes_) == 2


def test_same_seed_gives_same_result() -> None:
    texts = CORPUS * 3
    a = ThemeModel(random_state=7).fit(texts)
    b = ThemeModel(random_state=7).fit(texts)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.themes_ == b.themes_


def test_predict_assigns_new_texts_without_refitting() -> None:
    model = ThemeModel(random_state=0).fit(CORPUS)
    labels_before = model.labels_.copy()
    new = ["my delivery is slow", "refund not received", "app crashes at log in"]
    predicted = model.predict(new)
    assert list(predicted) == [model.labels_[0], model.labels_[8], model.labels_[16]]
    np.testing.assert_array_equal(model.labels_, labels_before)


def test_predict_gives_minus_one_for_texts_without_known_features() -> None:
    model = ThemeModel(random_state=0).fit(CORPUS)
    assert list(model.predict(["", "   ", "!!!", "🙂"])) == [-1, -1, -1, -1]


def test_chinese_without_spaces_clusters_by_topic() -> None:
    delivery = [
        "快递太慢了，等了一个星期",
        "物流太慢，快递一直不到",
        "快递速度太慢了",
        "发货慢，快递也慢",
        "等快递等了十天，太慢",
        "快递慢得要命",
    ]
    quality = [
        "质量太差，用了两天就坏了",
        "质量很差，屏幕坏了",
        "东西质量差，很快就坏",
        "质量不好，刚买就坏了",
        "产品质量太差了",
        "质量差，坏了没人管",
    ]
    model = _fit_two_themes(delivery, quality)
    label = model.themes_[model.labels_[0]].label
    assert "快递" in label or "慢" in label
    assert " " not in label.replace(" / ", "")  # Chinese words are shown without spaces


def test_russian_inflections_land_in_one_theme() -> None:
    delivery = [
        "Доставка опять задерживается",
        "Нет доставки уже неделю",
        "Недоволен доставкой, курьер опоздал",
        "Проблемы с доставкой заказа",
        "Где моя доставка?",
        "Сроки доставки сорваны",
    ]
    payment = [
        "Оплата картой не проходит",
        "Не могу провести оплату",
        "Ошибка при оплате заказа",
        "Списали деньги, а оплата не прошла",
        "Оплатой через сайт недоволен",
        "Проблема с оплатой картой",
    ]
    _fit_two_themes(delivery, payment)


def test_english_word_forms_land_in_one_theme() -> None:
    # No two texts of a theme share the same form of its key word (stems, prefixes and
    # character n-grams all join them; test_text_processing pins the stems themselves).
    charge = [
        "I was charged twice for one purchase",
        "Double charging on my card again",
        "Why are there two charges for this?",
        "The shop charges me twice",
        "Got charged a second time",
        "Charging me twice is not ok",
    ]
    transfer = [
        "My transfer has not arrived",
        "Transferred money is missing",
        "Transfers to my friend keep failing",
        "I transferred cash yesterday, still nothing",
        "Where did my transfer go?",
        "Transferring funds fails every time",
    ]
    model = _fit_two_themes(charge, transfer)
    # Labels are written in the texts' words, not stems ("charg", "transfer").
    assert "charg " not in model.themes_[model.labels_[0]].label + " "


def test_mixed_languages_in_one_corpus() -> None:
    russian = [f"Доставка очень медленная {w}" for w in ("опять", "снова", "как всегда", "увы")]
    chinese = [f"快递太慢了{w}" for w in ("真的", "唉", "无语", "差评")]
    model = ThemeModel(random_state=0).fit(DELIVERY[:4] + russian + chinese)
    assert model.unassigned_share_ <= 0.25
    assert len(model.labels_) == 12


@pytest.mark.parametrize("texts", [[], ["only one comment"], ["first comment", "second one"]])
def test_tiny_corpora_give_a_clear_result(texts: list[str]) -> None:
    model = ThemeModel(random_state=0).fit(texts)
    assert len(model.labels_) == len(texts)
    assert len(model.themes_) <= max(len(texts), 0)
    assert 0.0 <= model.unassigned_share_ <= 1.0
    if texts:
        assert len(model.themes_) == 1
        assert model.themes_[0].size + int(np.sum(model.labels_ < 0)) == len(texts)
    assert model.predict(["another comment"]).shape == (1,)


def test_empty_and_emoji_only_comments() -> None:
    texts = ["", "   ", "😡😡😡", "👍", "😡", *CORPUS]
    model = ThemeModel(random_state=0).fit(texts)
    assert model.labels_[0] == -1 and model.labels_[1] == -1
    assert len(model.labels_) == len(texts)
    emoji_only = ThemeModel(random_state=0).fit(["😡😡", "😡", "👍👍", "👍"])
    assert len(emoji_only.labels_) == 4
    only_blank = ThemeModel(random_state=0).fit(["", " ", "..."])
    assert list(only_blank.labels_) == [-1, -1, -1]
    assert only_blank.themes_ == [] and only_blank.unassigned_share_ == 1.0
    assert list(only_blank.predict(["slow delivery"])) == [-1]


def test_very_long_comment() -> None:
    long_text = ("The delivery was slow and the courier was rude. " * 110)[:5000]
    assert len(long_text) == 5000
    model = ThemeModel(random_state=0).fit([long_text, *CORPUS])
    assert model.labels_[0] >= 0
    # It reads as a delivery complaint, whichever delivery theme it joins.
    assert "delivery" in " ".join(model.themes_[model.labels_[0]].top_terms)


def test_progress_callback_reports_stages() -> None:
    seen: list[tuple[float, str]] = []
    ThemeModel(random_state=0).fit(CORPUS, progress=lambda f, s: seen.append((f, s)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0


def test_sklearn_contract() -> None:
    model = ThemeModel(n_themes=3, random_state=1, n_components=50)
    params = model.get_params()
    assert params["n_themes"] == 3 and params["random_state"] == 1
    model.fit(CORPUS)
    steps = [name for name, _ in model.embedder_.steps]
    assert steps == ["normalise", "tfidf", "l2_tfidf", "svd", "l2"]
