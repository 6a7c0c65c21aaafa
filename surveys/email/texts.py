"""Built-in texts of the survey email in English, Russian and Simplified Chinese."""

from __future__ import annotations

EMAIL_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Quick question: how likely are you to recommend {product}?",
        "reminder": "Reminder: {subject}",
        "greeting": "Hi {name},",
        "greeting_anonymous": "Hello,",
        "intro": "We'd love to hear what you think. It takes one click.",
        "instructions": "Click a number to answer:",
        "low": "0 = not at all likely",
        "high": "10 = extremely likely",
        "after": "After your click you can tell us more, if you like.",
        "unsubscribe": "Don't want these emails? Unsubscribe",
        "why": "You receive this email because you use {product}.",
    },
    "ru": {
        "subject": "Короткий вопрос: порекомендуете ли вы {product}?",
        "reminder": "Напоминание: {subject}",
        "greeting": "Здравствуйте, {name}!",
        "greeting_anonymous": "Здравствуйте!",
        "intro": "Нам важно ваше мнение. Ответ — один щелчок.",
        "instructions": "Выберите число:",
        "low": "0 — точно не порекомендую",
        "high": "10 — обязательно порекомендую",
        "after": "После щелчка можно рассказать подробнее, если хотите.",
        "unsubscribe": "Не хотите получать такие письма? Отписаться",
        "why": "Вы получили это письмо, потому что пользуетесь {product}.",
    },
    "zh": {
        "subject": "简短提问：您有多大可能推荐{product}？",
        "reminder": "提醒：{subject}",
        "greeting": "{name}，您好：",
        "greeting_anonymous": "您好：",
        "intro": "我们很想听听您的想法，只需点击一下。",
        "instructions": "请点击一个数字作答：",
        "low": "0 = 完全不可能",
        "high": "10 = 极有可能",
        "after": "点击后，您还可以告诉我们更多。",
        "unsubscribe": "不想再收到此类邮件？退订",
        "why": "您收到此邮件是因为您在使用{product}。",
    },
}
