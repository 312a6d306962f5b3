"""The HTML pages for people: search, article, story, sources, and the archived page itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from crawler.serve.api import current_overview, reader_of
from crawler.serve.params import SORTS, BadParameter, search_params
from crawler.serve.security import RAW_HEADERS
from crawler.serve.story import story_of
from crawler.serve.timeline import timeline_of
from pipelines.search import SearchError

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Shown on the article page as they are; every other field goes to the metadata table.
BODY_FIELDS = ("title", "text")

WEB_SCHEMES = ("http", "https")


def web_link(url: object) -> str:
    """Return a URL fit for a link: http(s) only (never ``javascript:``), else ``#``."""
    text = str(url or "")
    return text if urlsplit(text.strip()).scheme.lower() in WEB_SCHEMES else "#"


# Autoescape everything, whatever the template's name: titles, text and URLs are from the web.
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["urlencode_pairs"] = urlencode
_environment.filters["web_link"] = web_link
templates = Jinja2Templates(env=_environment)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a template with the context every page shares."""
    return templates.TemplateResponse(
        request, name, {"archive": reader_of(request).store.uri, **context}, status_code=status
    )


def not_found(request: Request, what: str) -> Response:
    """Render the 404 page."""
    return page(request, "error.html", {"title": "Not found", "message": what}, status=404)


def search_page(request: Request) -> Response:
    """Search the archive (without words: the newest articles)."""
    reader = reader_of(request)
    try:
        params = search_params(request.query_params, request.query_params.getlist("source"))
        results = reader.index.search(
            params.words,
            params.filters,
            limit=params.limit,
            offset=params.offset,
            newest_first=params.sort == "newest",
        )
    except (BadParameter, SearchError) as err:
        return page(request, "error.html", {"title": "Bad search", "message": str(err)}, 400)
    pages = {}
    if params.offset > 0:
        pages["previous"] = params.query_string(offset=max(params.offset - params.limit, 0))
    if params.offset + params.limit < results.total:
        pages["next"] = params.query_string(offset=params.offset + params.limit)
    return page(
        request,
        "search.html",
        {
            "params": params,
            "results": results,
            "facets": reader.facets(),
            "sorts": SORTS,
            "pages": pages,
        },
    )


def _metadata(record: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for name, value in record.items():
        if name in BODY_FIELDS:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append((name, shown))
    return rows


def article_page(request: Request) -> Response:
    """Show an article: its text, every field, its copies and the archived page."""
    reader = reader_of(request)
    article_id = request.path_params["id"]
    record = reader.article(article_id)
    if record is None:
        copy = reader.index.copy(article_id)
        if copy is not None and reader.index.key_of(copy.original) is not None:
            # A copy's page is its original's story, at the copy's row.
            target = f"/stories/{copy.original}#appearance-{copy.id}"
            return RedirectResponse(target, status_code=303)
        return not_found(request, f"No archived article has the id {article_id!r}.")
    story = story_of(record, reader.index.copies_of(article_id))
    return page(
        request,
        "article.html",
        {
            "record": record,
            "metadata": _metadata(record),
            "story": story,
            "paragraphs": [p for p in str(record.get("text") or "").split("\n") if p.strip()],
        },
    )


def story_page(request: Request) -> Response:
    """Show a story's trail: the original, every copy, a timeline, and who carries whom."""
    reader = reader_of(request)
    article_id = request.path_params["id"]
    record = reader.article(article_id)
    if record is None:
        return not_found(request, f"No archived article has the id {article_id!r}.")
    story = story_of(record, reader.index.copies_of(article_id))
    return page(
        request,
        "story.html",
        {
            "record": record,
            "story": story,
            "timeline": timeline_of(story),
            "agencies": reader.index.agencies_by_source(story.outlets),
        },
    )


def sources_page(request: Request) -> Response:
    """Show each source's health, articles per day, duplicate share and the last runs."""
    return page(request, "sources.html", {"overview": current_overview(reader_of(request))})


def raw_page(request: Request) -> Response:
    """Serve an archived page as it was served, sandboxed: no script runs, nothing is fetched."""
    reader = reader_of(request)
    record = reader.article(request.path_params["id"])
    raw = reader.raw_page(record) if record is not None else None
    if raw is None:
        return Response(
            "no archived page under this id", 404, headers=RAW_HEADERS, media_type="text/plain"
        )
    return Response(raw.body, headers={**RAW_HEADERS, "content-type": raw.content_type})


ROUTES = [
    Route("/", search_page),
    Route("/search", search_page),
    Route("/articles/{id}", article_page),
    Route("/stories/{id}", story_page),
    Route("/sources", sources_page),
    Route("/raw/{id}", raw_page),
]
