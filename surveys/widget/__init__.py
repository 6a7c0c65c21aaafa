"""The in-product widget: eligibility rules, a visitor's history, visits and answers."""
