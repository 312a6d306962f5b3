"""The dedup index: SQLite on one machine, Redis for N workers; near-duplicate buckets."""
