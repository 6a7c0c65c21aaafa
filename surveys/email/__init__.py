"""Email surveys: scheduling, the outbox, delivery, the message, link answers, unsubscribes."""
