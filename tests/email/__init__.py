"""Email surveys: scheduling rules, outbox, dispatcher, link pages, API."""
