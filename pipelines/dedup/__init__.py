"""Deduplication: one story archived once; every other copy recorded as a duplicate of it."""
