"""Full-text search over the archive: the index, its text rules, and catching it up."""

from pipelines.search.catchup import CatchUp, catch_up
from pipelines.search.index import SearchIndex, search_path
from pipelines.search.query import Filters, Results, SearchError

__all__ = ["CatchUp", "Filters", "Results", "SearchError", "SearchIndex", "catch_up", "search_path"]
