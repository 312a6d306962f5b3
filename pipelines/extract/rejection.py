"""Why a page yields no article: the rejection every extraction rule raises, and its reasons.

Kept apart from the rules themselves (and their lxml and trafilatura imports): the crawl's
own process counts rejections and checks a source's language, while extraction runs in
worker processes that import the rules.
"""

from __future__ import annotations


class ExtractionRejected(Exception):
    """The page holds no article; .reason is a short machine-readable cause."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionRejected], tuple[str, str]]:
        # Extraction runs in worker processes: the reason must survive the trip back.
        return (ExtractionRejected, (self.reason, str(self)))


def check_language(language: str | None, expected: str | None) -> None:
    """Reject an article whose language is not the one a source declares (None: any).

    A page that declares no language is kept: absence is not evidence of another language.
    """
    if not expected or not language:
        return
    if language.split("-")[0].lower() != expected.split("-")[0].lower():
        raise ExtractionRejected("wrong_language", f"language {language}, expected {expected}")
