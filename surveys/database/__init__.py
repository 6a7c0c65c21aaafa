"""Database plumbing without rules: conflict-safe inserts, prepared reads, keyset pages."""
