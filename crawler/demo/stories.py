"""Load the demo site's stories (stories.yaml) and apply each outlet's edits to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

STORIES_RESOURCE = "stories.yaml"
OUTLET_NAMES = ("wiredaily", "lahoreledger", "metroobserver")
AGENCIES = ("AP", "Reuters", "AFP", "Xinhua", "APP", "Sputnik", "Bloomberg")
SECTIONS = ("world", "us", "business", "science", "sport", "health", "pakistan", "local")
MIN_PARAGRAPHS = 4
MAX_PARAGRAPHS = 9

RelationKind = Literal["follow_up", "shared_boilerplate", "same_event"]


class StoryDataError(ValueError):
    """The bundled stories.yaml is inconsistent; the message names the story and the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Related(_Model):
    """A hard negative: another story that shares some text with this one."""

    kind: RelationKind
    story: str


class Edition(_Model):
    """One outlet's page of a story, and the edits that outlet made to it."""

    outlet: str
    delay: int = Field(0, ge=0, description="minutes after the story moved")
    headline: str | None = None
    place: str | None = None
    authors: tuple[str, ...] | None = None
    drop_last: int = Field(0, ge=0)
    replace: tuple[tuple[str, str], ...] = ()
    append: tuple[str, ...] = ()

    @field_validator("outlet")
    @classmethod
    def _known_outlet(cls, value: str) -> str:
        if value not in OUTLET_NAMES:
            raise ValueError(f"unknown outlet {value!r}; expected one of {OUTLET_NAMES}")
        return value

    def edits(self) -> tuple[str, ...]:
        """Describe the edits this edition made, for the ground truth."""
        made = []
        if self.headline is not None:
            made.append("headline")
        if self.place is not None:
            made.append("dateline_added")
        if self.authors is not None:
            made.append("byline_added")
        if self.drop_last:
            made.append(f"cut_last_{self.drop_last}")
        if self.replace:
            made.append("words_changed")
        if self.append:
            made.append("local_paragraph_appended")
        return tuple(made)


class Story(_Model):
    """One story as its agency (or the newsroom) moved it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    agency: str | None
    place: str | None
    published: datetime
    section: str
    authors: tuple[str, ...] = ()
    headline: str
    paragraphs: tuple[str, ...]
    related: tuple[Related, ...] = ()
    editions: tuple[Edition, ...] = Field(min_length=1)

    @field_validator("agency")
    @classmethod
    def _known_agency(cls, value: str | None) -> str | None:
        if value is not None and value not in AGENCIES:
            raise ValueError(f"unknown agency {value!r}; expected one of {AGENCIES}")
        return value

    @field_validator("section")
    @classmethod
    def _known_section(cls, value: str) -> str:
        if value not in SECTIONS:
            raise ValueError(f"unknown section {value!r}; expected one of {SECTIONS}")
        return value

    @field_validator("published")
    @classmethod
    def _has_offset(cls, value: datetime) -> datetime:
        if value.utcoffset() is None:
            raise ValueError("published needs a UTC offset")
        return value

    def edition_published(self, edition: Edition) -> datetime:
        """Return when ``edition`` went up: the story's time plus the outlet's delay."""
        return self.published + timedelta(minutes=edition.delay)


class StoryFile(_Model):
    """The whole stories.yaml."""

    boilerplate: tuple[str, ...] = ()
    stories: tuple[Story, ...]


def edited_paragraphs(story: Story, edition: Edition) -> tuple[str, ...]:
    """Return the story's paragraphs as ``edition`` prints them (without the dateline)."""
    kept = list(story.paragraphs[: len(story.paragraphs) - edition.drop_last])
    for old, new in edition.replace:
        if not any(old in paragraph for paragraph in kept):
            raise StoryDataError(
                f"story {story.id}, edition {edition.outlet}: replace text {old!r} not found"
            )
        kept = [paragraph.replace(old, new) for paragraph in kept]
    kept.extend(edition.append)
    return tuple(kept)


def _check(stories: Sequence[Story]) -> None:
    ids = [story.id for story in stories]
    duplicates = sorted({story_id for story_id in ids if ids.count(story_id) > 1})
    if duplicates:
        raise StoryDataError(f"story ids used twice: {duplicates}")
    for story in stories:
        outlets = [edition.outlet for edition in story.editions]
        if len(set(outlets)) != len(outlets):
            raise StoryDataError(f"story {story.id}: an outlet carries it twice")
        for related in story.related:
            if related.story not in ids or related.story == story.id:
                raise StoryDataError(f"story {story.id}: related story {related.story!r} unknown")
        for edition in story.editions:
            count = len(edited_paragraphs(story, edition))
            if not MIN_PARAGRAPHS <= count <= MAX_PARAGRAPHS:
                raise StoryDataError(
                    f"story {story.id}, edition {edition.outlet}: {count} paragraphs, "
                    f"expected {MIN_PARAGRAPHS}-{MAX_PARAGRAPHS}"
                )


def parse_stories(text: str) -> tuple[Story, ...]:
    """Validate the text of a stories.yaml and return its stories."""
    try:
        data = StoryFile.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as err:
        raise StoryDataError(f"{STORIES_RESOURCE}: {err}") from err
    _check(data.stories)
    return data.stories


def load_stories() -> tuple[Story, ...]:
    """Return the bundled stories, validated."""
    text = resources.files("crawler.demo").joinpath(STORIES_RESOURCE).read_text(encoding="utf-8")
    return parse_stories(text)
