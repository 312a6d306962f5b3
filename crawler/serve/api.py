"""The JSON API under ``/api/``: search, articles with their copies, stories, sources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crawler.serve.overview import overview
from crawler.serve.params import BadParameter, search_params
from crawler.serve.reader import ArchiveReader
from crawler.serve.story import Story, story_of
from pipelines.search import SearchError
from pipelines.search.index import Copy
from pipelines.search.query import Hit
from pipelines.search.text import Segment

OVERVIEW_TTL_SECONDS = 60.0


def reader_of(request: Request) -> ArchiveReader:
    """Return the archive the app serves."""
    reader: ArchiveReader = request.app.state.reader
    return reader


def error(status: int, message: str) -> JSONResponse:
    """Return a JSON error object."""
    return JSONResponse({"error": message}, status_code=status)


def _segments(parts: list[Segment]) -> list[dict[str, Any]]:
    return [{"text": part.text, "hit": part.hit} for part in parts]


def hit_json(hit: Hit) -> dict[str, Any]:
    """Return one search result as the API gives it."""
    return {
        "id": hit.id,
        "title": hit.title,
        "url": hit.url,
        "source": hit.source,
        "published": hit.published,
        "copies": hit.copies,
        "date": hit.day,
        "agency": hit.agency,
        "dateline": hit.dateline,
        "language": hit.language,
        "snippet": _segments(hit.snippet),
    }


def copy_json(copy: Copy) -> dict[str, Any]:
    """Return one duplicate record as the API gives it."""
    return {
        "id": copy.id,
        "url": copy.url,
        "source": copy.source,
        "fetched_at": copy.fetched_at,
        "kind": copy.kind,
        "similarity": copy.similarity,
        "title": copy.title,
    }


def story_json(story: Story) -> dict[str, Any]:
    """Return a story's trail as the API gives it."""
    return {
        "original": story.original.id,
        "outlets": story.outlets,
        "appearances": [
            {
                "id": a.id,
                "source": a.source,
                "url": a.url,
                "first_seen": a.seen.isoformat() if a.seen else None,
                "delay_seconds": int(a.delay.total_seconds()) if a.delay is not None else None,
                "kind": a.kind,
                "similarity": a.similarity,
            }
            for a in story.all
        ],
    }


def api_search(request: Request) -> Response:
    """Search: every word must match; filters by source, date range, agency, language."""
    try:
        params = search_params(request.query_params, request.query_params.getlist("source"))
        results = reader_of(request).index.search(
            params.words,
            params.filters,
            limit=params.limit,
            offset=params.offset,
            newest_first=params.sort == "newest",
        )
    except (BadParameter, SearchError) as err:
        return error(400, str(err))
    return JSONResponse(
        {
            "total": results.total,
            "order": results.order,
            "results": [hit_json(hit) for hit in results.hits],
        }
    )


def api_article(request: Request) -> Response:
    """Return an article's JSON plus every duplicate record that points at it."""
    reader = reader_of(request)
    article_id = request.path_params["id"]
    record = reader.article(article_id)
    if record is None:
        return error(404, f"no archived article {article_id!r}")
    copies = reader.index.copies_of(article_id)
    return JSONResponse({**record, "copies": [copy_json(c) for c in copies]})


def api_story(request: Request) -> Response:
    """Return a story's syndication trail: the original and every copy with its delay."""
    reader = reader_of(request)
    article_id = request.path_params["id"]
    record = reader.article(article_id)
    if record is None:
        return error(404, f"no archived article {article_id!r}")
    return JSONResponse(story_json(story_of(record, reader.index.copies_of(article_id))))


def api_sources(request: Request) -> Response:
    """Return each source's health, counts, duplicate share and the last runs."""
    return JSONResponse(current_overview(reader_of(request)).to_json())


def current_overview(reader: ArchiveReader) -> Any:
    """Return the sources page figures, recomputed at most once a minute."""
    return reader.cached(
        "overview",
        OVERVIEW_TTL_SECONDS,
        lambda: overview(
            reader.store,
            datetime.now(UTC),
            sources=reader.sources,
            agencies=reader.index.agencies_by_source(),
        ),
    )


ROUTES = [
    Route("/api/search", api_search),
    Route("/api/articles/{id}", api_article),
    Route("/api/stories/{id}", api_story),
    Route("/api/sources", api_sources),
]
