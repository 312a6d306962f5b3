"""Build the demo wire site's routes and serve each outlet on its own loopback server."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import yaml

from crawler.demo.loopback import LoopbackServer
from crawler.demo.model import DemoArticle, DemoDocument, DemoReject, DemoSource, HardNegative
from crawler.demo.outlets import OUTLETS, Outlet, OutletBuild, Placement
from crawler.demo.stories import Story, load_stories
from pipelines.archive.keys import DEFAULT_ARCHIVE


@dataclass
class DemoSite:
    """The running demo site: one loopback server per outlet, and the ground truth."""

    servers: dict[str, LoopbackServer]  # outlet (source) name -> running server
    expected: list[DemoArticle]  # every article page
    rejects: list[DemoReject] = field(default_factory=list)
    hard_negatives: list[HardNegative] = field(default_factory=list)
    sources: dict[str, DemoSource] = field(default_factory=dict)
    documents: list[DemoDocument] = field(default_factory=list)  # every route served

    def sources_yaml(self, archive: str = DEFAULT_ARCHIVE) -> str:
        """Return a sources.yaml that crawls the running site into ``archive``."""
        config: dict[str, Any] = {
            "archive": archive,
            "allow_private_addresses": True,
            "sources": [
                {
                    "name": source.name,
                    **{
                        key: list(urls)
                        for key, urls in (
                            ("feeds", source.feeds),
                            ("sitemaps", source.sitemaps),
                            ("start_urls", source.start_urls),
                        )
                        if urls
                    },
                    "allow": list(source.allow),
                }
                for source in self.sources.values()
            ],
        }
        header = (
            "# The bundled demo wire site, served on loopback by `wirearchive demo`.\n"
            "# Its addresses are private, so the address guard must be lifted.\n"
        )
        return header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)

    def stories(self) -> dict[str, list[DemoArticle]]:
        """Return the article pages grouped by story id, earliest first."""
        groups: dict[str, list[DemoArticle]] = defaultdict(list)
        for article in sorted(self.expected, key=lambda article: article.published_at):
            groups[article.story_id].append(article)
        return dict(groups)

    def syndicated(self) -> dict[str, list[DemoArticle]]:
        """Return the stories that appear on more than one outlet."""
        return {
            story_id: articles
            for story_id, articles in self.stories().items()
            if len({article.outlet for article in articles}) > 1
        }

    def stop(self) -> None:
        """Stop every outlet's server."""
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> DemoSite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _placements(outlet: Outlet, stories: Sequence[Story]) -> list[Placement]:
    carried = [
        (story, edition)
        for story in stories
        for edition in story.editions
        if edition.outlet == outlet.name
    ]
    # Serial numbers (the ids in some outlets' URLs) follow publishing order, as in a CMS.
    carried.sort(key=lambda pair: (pair[0].edition_published(pair[1]), pair[0].id))
    return [outlet.place(story, edition, serial) for serial, (story, edition) in enumerate(carried)]


def _ground_truth(
    placements: Sequence[Placement], site_names: Mapping[str, str]
) -> list[DemoArticle]:
    first: dict[str, Placement] = {}
    for page in sorted(placements, key=lambda page: page.published):
        first.setdefault(page.story.id, page)
    return [
        DemoArticle(
            outlet=page.outlet,
            site_name=site_names[page.outlet],
            url=page.url,
            story_id=page.story.id,
            title=page.title,
            paragraphs=page.printed_paragraphs,
            dateline=page.place,
            dateline_text=page.dateline_text,
            agency=page.story.agency,
            authors=page.authors,
            published=page.published.isoformat(),
            section=page.story.section,
            edits=page.edition.edits(),
            is_wire_copy=page.story.agency is not None,
            first_edition=first[page.story.id] is page,
        )
        for page in placements
    ]


def _hard_negatives(stories: Sequence[Story]) -> list[HardNegative]:
    by_id = {story.id: story for story in stories}
    negatives = []
    for story in stories:
        for related in story.related:
            other = by_id[related.story]
            shared = tuple(p for p in story.paragraphs if p in other.paragraphs)
            if not shared:
                raise ValueError(f"story {story.id}: shares no paragraph with {other.id}")
            negatives.append(HardNegative(related.kind, (other.id, story.id), shared))
    return negatives


def start_demo_site(ports: Mapping[str, int] | None = None) -> DemoSite:
    """Build the demo site and serve each outlet on its own port of 127.0.0.1.

    ``ports`` pins an outlet's port (0 or absent: a free one), so that repeated demo runs
    crawl the same URLs.
    """
    stories = load_stories()
    servers: dict[str, LoopbackServer] = {}
    builds: dict[str, OutletBuild] = {}
    outlets: list[Outlet] = []
    placements: list[Placement] = []
    try:
        for outlet_type in OUTLETS:
            # Serve first: the routes need the server's address for their absolute URLs.
            server = LoopbackServer(port=(ports or {}).get(outlet_type.name, 0)).start()
            servers[outlet_type.name] = server
            outlet = outlet_type(server.base_url)
            outlets.append(outlet)
            pages = _placements(outlet, stories)
            placements.extend(pages)
            builds[outlet.name] = outlet.build(pages)
            server.routes = builds[outlet.name].routes
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return DemoSite(
        servers=servers,
        expected=_ground_truth(placements, {outlet.name: outlet.site_name for outlet in outlets}),
        rejects=[reject for build in builds.values() for reject in build.rejects],
        hard_negatives=_hard_negatives(stories),
        sources={outlet.name: outlet.source() for outlet in outlets},
        documents=[document for build in builds.values() for document in build.documents],
    )
