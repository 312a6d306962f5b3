"""Fetching: source config, the generic wire spider, middlewares and the CLI."""

__version__ = "0.1.0"
