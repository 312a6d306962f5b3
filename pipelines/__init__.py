"""Processing: extraction, deduplication, archiving and storage backends."""
