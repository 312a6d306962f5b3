"""``wirearchive serve``: the read-only web app and JSON API over an archive."""
