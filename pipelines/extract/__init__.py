"""Extraction: a fetched page decoded, its article extracted and cleaned of page furniture."""
