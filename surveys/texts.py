"""Built-in survey texts in English, Russian and Simplified Chinese, and their resolution.

A survey may override any text per locale; `{product}` is replaced by the product name.
"""

from __future__ import annotations

from typing import Any

DEFAULT_LOCALE = "en"
LOCALES = ("en", "ru", "zh")

QUESTION = {
    "en": "How likely are you to recommend {product} to a friend or colleague?",
    "ru": "Насколько вероятно, что вы порекомендуете {product} другу или коллеге?",
    "zh": "您有多大可能向朋友或同事推荐{product}？",
}
FOLLOWUP = {
    "promoter": {
        "en": "Great to hear! What do you like most about {product}?",
        "ru": "Спасибо! Что вам больше всего нравится в {product}?",
        "zh": "太好了！您最喜欢{product}的哪一点？",
    },
    "passive": {
        "en": "Thanks! What would make {product} better for you?",
        "ru": "Спасибо! Что сделало бы {product} лучше для вас?",
        "zh": "谢谢！怎样才能让{product}更好？",
    },
    "detractor": {
        "en": "We're sorry. What disappointed you, and what should we fix first?",
        "ru": "Нам жаль. Что вас разочаровало и что нам исправить в первую очередь?",
        "zh": "很抱歉。哪里让您失望了？我们应该先改进什么？",
    },
}
DEFAULT_PRODUCT = {"en": "us", "ru": "нас", "zh": "我们"}


def base_locale(locale: str | None) -> str:
    """'ru-RU' -> 'ru', 'zh_Hans_CN' -> 'zh'; unknown or empty -> English."""
    if not locale:
        return DEFAULT_LOCALE
    base = locale.replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


def _pick(overrides: dict[str, Any] | None, defaults: dict[str, str], locale: str) -> str:
    overrides = overrides or {}
    for key in (locale, base_locale(locale)):
        if isinstance(overrides.get(key), str) and overrides[key]:
            return overrides[key]
    return defaults.get(base_locale(locale), defaults[DEFAULT_LOCALE])


def _fill(text: str, product_name: str | None, locale: str) -> str:
    product = product_name or DEFAULT_PRODUCT[base_locale(locale)]
    return text.replace("{product}", product)


def question_text(
    overrides: dict[str, Any] | None, product_name: str | None, locale: str | None
) -> str:
    loc = locale or DEFAULT_LOCALE
    return _fill(_pick(overrides, QUESTION, loc), product_name, loc)


def followup_text(
    overrides: dict[str, Any] | None,
    product_name: str | None,
    segment: str,
    locale: str | None,
) -> str:
    loc = locale or DEFAULT_LOCALE
    per_segment = (overrides or {}).get(segment)
    return _fill(_pick(per_segment, FOLLOWUP[segment], loc), product_name, loc)
