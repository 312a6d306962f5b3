"""Load sources.yaml once and validate it into typed, immutable Source objects."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
)

from pipelines.urls import site_host

DEFAULT_CONFIG = "sources.yaml"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
SCHEMES = ("http", "https")
TYPE_MESSAGES = {
    "tuple_type": "expected a list",
    "string_type": "expected a string",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "dict_type": "expected a mapping",
}


class ConfigError(Exception):
    """A sources.yaml that cannot be used; the message names the file, source and key."""


def _check_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an absolute http(s) URL") from None
    if "@" in parts.netloc:
        # Nothing secret is read from the config: a user:password@ URL would be logged
        # with every request. The message names the host, never the credentials.
        host = parts.netloc.rsplit("@", 1)[1]
        raise ValueError(
            f"a URL for {host!r} carries credentials (user:password@); "
            "credentials in URLs are not supported"
        )
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    return value


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise ValueError(f"{value!r} is not a valid regular expression: {err}") from None
    return value


def _check_cron(value: str) -> str:
    if not croniter.is_valid(value):
        raise ValueError(
            f"{value!r} is not a valid cron expression (five fields, e.g. '*/15 * * * *')"
        )
    return value


def _check_header_value(value: str) -> str:
    # A line break would end the header and let the value inject others.
    if not value.strip() or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ValueError(f"{value!r} must be one line of printable text")
    return value


HOST_PATTERN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
)


def _check_domain(value: str) -> str:
    host = site_host(value.strip())
    if not HOST_PATTERN.match(host):
        raise ValueError(f"{value!r} is not a host name (such as example.org: no scheme, no path)")
    return host


def check_redis_url(value: str) -> str:
    """Return a Redis URL unchanged, or raise ValueError saying what a valid one looks like."""
    parsed = urlsplit(value)
    if parsed.scheme not in {"redis", "rediss", "unix"} or not (parsed.netloc or parsed.path):
        raise ValueError(f"{value!r} is not a Redis URL (redis://HOST:PORT/DB)")
    db = parsed.path.strip("/")
    if parsed.scheme != "unix" and db and not db.isdigit():
        raise ValueError(f"{value!r}: the database must be a number (redis://HOST:PORT/DB)")
    return value


def page_host(url: str) -> str | None:
    """Return a URL's host in the form ``domains`` compares: lower case, ``www.`` dropped."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return site_host(host)


Url = Annotated[str, AfterValidator(_check_url)]
Regex = Annotated[str, AfterValidator(_check_regex)]
Domain = Annotated[str, AfterValidator(_check_domain)]


class _HealthModel(BaseModel):
    """Per-source overrides of the health thresholds (see crawler/monitoring/health.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quiet_intervals: Annotated[float, Field(gt=0)] | None = None
    history_runs: Annotated[int, Field(ge=1)] | None = None
    min_new_per_run: Annotated[float, Field(ge=0)] | None = None
    failing_runs: Annotated[int, Field(ge=1)] | None = None
    min_history: Annotated[int, Field(ge=1)] | None = None


class _SourceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
    feeds: tuple[Url, ...] = ()
    sitemaps: tuple[Url, ...] = ()
    start_urls: tuple[Url, ...] = ()
    allow: tuple[Regex, ...] = ()
    deny: tuple[Regex, ...] = ()
    domains: tuple[Domain, ...] = ()
    schedule: Annotated[str, AfterValidator(_check_cron)] | None = None
    language: str | None = None
    health: _HealthModel | None = None


class _ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    archive: str | None = None
    redis: Annotated[str, AfterValidator(check_redis_url)] | None = None
    allow_private_addresses: StrictBool = False
    user_agent: Annotated[str, AfterValidator(_check_header_value)] | None = None
    contact_url: Url | None = None
    sources: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Source:
    """One declared source: where its articles are listed and which URLs are articles."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # hosts whose pages belong to it (history backfills)
    schedule: str | None = None
    language: str | None = None
    health: dict[str, float] = field(default_factory=dict)  # threshold overrides

    @property
    def discoverable(self) -> bool:
        """Tell whether the source lists pages a crawl can discover (not ``domains`` alone)."""
        return bool(self.feeds or self.sitemaps or self.start_urls)

    def hosts(self) -> frozenset[str]:
        """Return the hosts whose pages belong to the source, ``www.`` dropped.

        Its ``domains``; without them, the hosts of its feeds, sitemaps and start_urls.
        """
        if self.domains:
            return frozenset(self.domains)
        urls = (*self.feeds, *self.sitemaps, *self.start_urls)
        return frozenset(host for host in (page_host(url) for url in urls) if host is not None)

    def accepts(self, url: str) -> bool:
        """Tell whether an article URL matches an ``allow`` rule (if any) and no ``deny`` rule."""
        if self.allow and not any(re.search(rule, url) for rule in self.allow):
            return False
        return not any(re.search(rule, url) for rule in self.deny)


@dataclass(frozen=True)
class Config:
    """A validated sources.yaml."""

    path: str
    sources: tuple[Source, ...]
    archive: str | None = None
    allow_private_addresses: bool = False
    redis: str | None = None  # distributed mode: the Redis the workers share
    user_agent: str | None = None  # sent as the User-Agent of every request
    contact_url: str | None = None  # where site operators reach the archive's owner

    def source(self, name: str) -> Source:
        """Return the named source, or raise ConfigError listing the declared names."""
        for source in self.sources:
            if source.name == name:
                return source
        declared = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"{self.path}: no source named {name!r} (declared: {declared})")

    def select(self, names: Sequence[str]) -> tuple[Source, ...]:
        """Return the named sources in order, or every source when no name is given."""
        if not names:
            return self.sources
        return tuple(self.source(name) for name in dict.fromkeys(names))


def _location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``feeds[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith(("function-", "str", "tuple", "none", "bool")):
            text += f".{part}" if text else part
    return text


def _first_error(err: ValidationError) -> tuple[str, str]:
    error = err.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    kind = error["type"]
    if kind in TYPE_MESSAGES:
        message = TYPE_MESSAGES[kind]
    elif kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "string_pattern_mismatch":
        message = (
            f"{error['input']!r} must match {NAME_PATTERN} (lower-case letters, digits, - and _)"
        )
    return _location(tuple(error["loc"])), message


def _resolve_archive(archive: str | None, folder: Path) -> str | None:
    # A relative local archive is taken relative to the config file, so cron (which runs
    # from another directory) archives to the same place as a run by hand.
    if archive is None or "://" in archive:
        return archive
    path = Path(archive).expanduser()
    return str(path if path.is_absolute() else (folder / path).resolve())


def parse_config(data: Any, path: str) -> Config:
    """Validate the parsed YAML of a config file into a Config."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'sources' list at the top level")
    try:
        top = _ConfigModel.model_validate(data)
    except ValidationError as err:
        key, message = _first_error(err)
        if key.startswith("sources["):
            key = "sources"
            message = "each source must be a mapping with a 'name'"
        raise ConfigError(f"{path}: key {key!r}: {message}") from None
    if not top.sources:
        raise ConfigError(f"{path}: key 'sources': declare at least one source")
    sources: list[Source] = []
    for index, raw in enumerate(top.sources):
        label = (
            f"source {raw['name']!r}"
            if isinstance(raw.get("name"), str)
            else f"source #{index + 1}"
        )
        try:
            model = _SourceModel.model_validate(raw)
        except ValidationError as err:
            key, message = _first_error(err)
            raise ConfigError(f"{path}: {label}: key {key!r}: {message}") from None
        if not (model.feeds or model.sitemaps or model.start_urls or model.domains):
            raise ConfigError(
                f"{path}: {label}: declare at least one of 'feeds', 'sitemaps', 'start_urls' "
                "(or 'domains' alone, for history backfills only)"
            )
        if any(s.name == model.name for s in sources):
            raise ConfigError(f"{path}: {label}: key 'name': declared twice")
        fields = model.model_dump()
        fields["health"] = {k: v for k, v in (fields["health"] or {}).items() if v is not None}
        sources.append(Source(**fields))
    return Config(
        path=path,
        sources=tuple(sources),
        archive=_resolve_archive(top.archive, Path(path).parent),
        allow_private_addresses=top.allow_private_addresses,
        redis=top.redis,
        user_agent=top.user_agent,
        contact_url=top.contact_url,
    )


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a sources.yaml: the top level and each source."""
    schema = _ConfigModel.model_json_schema()
    source = _SourceModel.model_json_schema()
    defs = {**schema.pop("$defs", {}), **source.pop("$defs", {}), "Source": source}
    schema["properties"]["sources"] = {"type": "array", "items": {"$ref": "#/$defs/Source"}}
    return {**schema, "$defs": defs}


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a sources.yaml (``./sources.yaml`` by default)."""
    file = Path(path or DEFAULT_CONFIG)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such file; write a sources.yaml (see README) or pass --config PATH"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: cannot read: {err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(f"{file}: not valid YAML{where}: {problem}") from None
    return parse_config(data, str(file))
