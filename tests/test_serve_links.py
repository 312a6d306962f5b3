"""Links the pages make from archived URLs: web URLs only, never a script."""

from __future__ import annotations

import pytest

from crawler.serve.pages import web_link


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("http://example.org/", "http://example.org/"),
        ("javascript:alert(1)", "#"),
        (" JavaScript:alert(1)", "#"),
        ("data:text/html,<script>", "#"),
        (None, "#"),
    ],
)
def test_only_web_urls_become_links(url: str | None, link: str) -> None:
    assert web_link(url) == link
