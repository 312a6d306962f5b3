"""Shared pytest configuration: plugins every test module may use."""

pytest_plugins = ["tests.fixtures_s3"]
