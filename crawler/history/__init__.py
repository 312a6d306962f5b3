"""History backfills: pages from Common Crawl News and the Wayback Machine, never the publisher."""
