"""The archive: keys, WARC records, storage backends, the run lock, the spool, verify, reextract."""
