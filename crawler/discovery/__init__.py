"""Discovery: article links and their dates from feeds, sitemaps and listing periods."""
