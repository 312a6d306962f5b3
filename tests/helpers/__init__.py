"""What the tests share: the CLI in a subprocess, loopback sites, real S3 and Redis servers."""
