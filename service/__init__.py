"""The web layer of Flywheel: app factory, config, auth, JSON API, widget, pages and CLI."""
