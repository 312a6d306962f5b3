"""Monitoring: source health and archive statistics from the archive's run history."""
