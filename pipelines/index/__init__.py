"""The dedup index: one Protocol (base.py), SQLite on one machine, Redis for N workers."""
