"""The raw record of a page: its HTTP exchange as a gzipped WARC file."""

from __future__ import annotations

from http import HTTPStatus
from io import BytesIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from pipelines.items import Page

# The payload we keep has already been de-chunked by the HTTP client: replay tools would
# try to de-chunk it again if the header stayed, so it is kept under pywb's renaming.
RENAMED_HEADERS = {"transfer-encoding": "X-Archive-Orig-Transfer-Encoding"}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _kept_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(RENAMED_HEADERS.get(name.lower(), name), value) for name, value in headers]


def build_warc(page: Page) -> bytes:
    """Return a gzipped WARC: the page's response record, then the request that fetched it."""
    out = BytesIO()
    writer = WARCWriter(out, gzip=True)
    warc_date = datetime_to_iso_date(page.fetched_at.replace(tzinfo=None))
    common = {"WARC-Date": warc_date}
    if page.ip_address:
        common["WARC-IP-Address"] = page.ip_address

    response_headers = StatusAndHeaders(
        f"{page.status} {_reason(page.status)}",
        _kept_headers(page.response_headers),
        protocol=page.protocol,
    )
    response = writer.create_warc_record(
        page.url,
        "response",
        payload=BytesIO(page.body),
        length=len(page.body),
        http_headers=response_headers,
        warc_headers_dict=dict(common),
    )
    writer.write_record(response)

    target = urlsplit(page.url)
    path = target.path or "/"
    if target.query:
        path += "?" + target.query
    request_headers = StatusAndHeaders(f"GET {path}", page.request_headers, protocol=page.protocol)
    request = writer.create_warc_record(
        page.url,
        "request",
        http_headers=request_headers,
        warc_headers_dict={
            **common,
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    writer.write_record(request)
    return out.getvalue()
