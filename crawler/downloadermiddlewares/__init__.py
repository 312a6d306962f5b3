"""Downloader middlewares: skip archived URLs, guard addresses, retry, keep raw bytes."""
