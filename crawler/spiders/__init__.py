"""The spiders: one generic, data-driven spider for every source."""
