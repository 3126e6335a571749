"""The outlet registry: `seeds/sources.yml` loaded into typed, validated `Source` records.

The registry is data, not code: adding an outlet means adding an entry. Loading
validates every entry up front, so a typo stops the crawl before any request,
with a message naming the outlet and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_SEEDS = Path(__file__).resolve().parent.parent / "seeds" / "sources.yml"

REQUIRED = ("id", "name", "country", "language", "domains", "article_pattern")
DISCOVERY = ("feeds", "sitemaps", "start_urls")
OPTIONAL = (
    "name_en",
    "timezone",
    "canonical_host",
    "meta_utc_is_local",
    "max_requests",
    "max_section_pages",
    "mirror_of",
    "notes",
)
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DOMAIN = re.compile(r"^[a-z0-9.-]+(:\d{1,5})?$")


class RegistryError(ValueError):
    """A malformed registry: the message names the file, the outlet and the key."""


@dataclass(frozen=True)
class Source:
    """One outlet, as declared in the registry."""

    id: str
    name: str
    country: str
    language: str
    domains: tuple[str, ...]
    article_pattern: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    name_en: str | None = None
    timezone: str | None = None
    canonical_host: str | None = None
    meta_utc_is_local: bool = False
    max_requests: int | None = None
    max_section_pages: int = 5
    mirror_of: str | None = None
    notes: str | None = None
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.article_pattern))

    def owns(self, url: str) -> bool:
        """True when `url` is on one of the outlet's domains.

        A domain with a port (`127.0.0.1:8101`) matches that port only; a domain
        without one matches the host on any port.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # malformed URL or port out of range
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        host = parts.hostname.lower()
        netloc = f"{host}:{port}" if port else host
        return any(d == netloc or d == host for d in self.domains)

    def is_article(self, url: str) -> bool:
        """True when `url` is on the outlet and matches its article pattern."""
        return self.owns(url) and self._regex.search(url) is not None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the outlet goes by (used to strip it from titles and bylines)."""
        return tuple(n for n in (self.name, self.name_en) if n)

    def as_row(self) -> dict[str, Any]:
        """The outlet as a row of the `sources` table."""
        return {
            "id": self.id,
            "name": self.name,
            "name_en": self.name_en,
            "country": self.country,
            "language": self.language,
            "timezone": self.timezone,
            "domains": list(self.domains),
            "feeds": list(self.feeds),
            "sitemaps": list(self.sitemaps),
            "start_urls": list(self.start_urls),
            "article_pattern": self.article_pattern,
            "mirror_of": self.mirror_of,
        }


def load_sources(path: str | Path | None = None, only: Iterable[str] | None = None) -> list[Source]:
    """Read and validate a registry file; `only` keeps the listed ids (unknown ids are an error)."""
    path = Path(path) if path else DEFAULT_SEEDS
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from None
    entries = raw.get("sources") if isinstance(raw, dict) else raw
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{path}: expected a non-empty list of outlets under 'sources'")
    sources = [parse_source(entry, path, index) for index, entry in enumerate(entries)]
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            raise RegistryError(f"{path}: outlet '{source.id}': key 'id' is duplicated")
        seen.add(source.id)
    if only:
        wanted = [s.strip() for s in only if s.strip()]
        unknown = sorted(set(wanted) - seen)
        if unknown:
            raise RegistryError(f"{path}: unknown outlet id(s): {', '.join(unknown)}")
        sources = [s for s in sources if s.id in wanted]
    return sources


def parse_source(entry: Any, path: Path | str = "<registry>", index: int = 0) -> Source:
    """Validate one registry entry and build its `Source`."""
    if not isinstance(entry, dict):
        raise RegistryError(f"{path}: entry #{index + 1} is not a mapping")
    label = entry.get("id") if isinstance(entry.get("id"), str) else f"#{index + 1}"

    def fail(key: str, why: str) -> RegistryError:
        return RegistryError(f"{path}: outlet '{label}': key '{key}' {why}")

    unknown = sorted(set(entry) - set(REQUIRED) - set(DISCOVERY) - set(OPTIONAL))
    if unknown:
        raise fail(unknown[0], "is not a known registry key")
    for key in REQUIRED:
        if key not in entry or entry[key] in (None, "", []):
            raise fail(key, "is missing")
    for key in ("id", "name", "country", "language", "article_pattern"):
        if not isinstance(entry[key], str):
            raise fail(key, "must be a string")
    if not _ID.match(entry["id"]):
        raise fail("id", "must be lowercase letters, digits and underscores")
    if not re.fullmatch(r"[A-Z]{2}|[a-z-]+", entry["country"]):
        raise fail("country", "must be an ISO 3166 code such as MA, or a word such as pan-arab")
    if not re.fullmatch(r"[a-z]{2}", entry["language"]):
        raise fail("language", "must be an ISO 639-1 code such as ar")
    try:
        re.compile(entry["article_pattern"])
    except re.error as exc:
        raise fail("article_pattern", f"is not a valid regular expression: {exc}") from None

    domains = _string_list(entry, "domains", fail)
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise fail("domains", f"has an invalid domain {domain!r} (lowercase host, optional :port)")
    lists = {key: _string_list(entry, key, fail) for key in DISCOVERY if key in entry}
    if not any(lists.values()):
        raise fail("feeds", "is missing: an outlet needs at least one of feeds, sitemaps, start_urls")
    for key, urls in lists.items():
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise fail(key, f"has {url!r}, which is not an absolute http(s) URL")

    timezone = entry.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(str(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise fail("timezone", f"is not an IANA time zone: {timezone!r}") from None
    for key in ("max_requests", "max_section_pages"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise fail(key, "must be a non-negative integer")
    if "meta_utc_is_local" in entry and not isinstance(entry["meta_utc_is_local"], bool):
        raise fail("meta_utc_is_local", "must be true or false")
    for key in ("name_en", "canonical_host", "mirror_of", "notes"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise fail(key, "must be a string")

    return Source(
        id=entry["id"],
        name=entry["name"],
        country=entry["country"],
        language=entry["language"],
        domains=tuple(d.lower() for d in domains),
        article_pattern=entry["article_pattern"],
        feeds=tuple(lists.get("feeds", ())),
        sitemaps=tuple(lists.get("sitemaps", ())),
        start_urls=tuple(lists.get("start_urls", ())),
        name_en=entry.get("name_en"),
        timezone=timezone,
        canonical_host=entry.get("canonical_host"),
        meta_utc_is_local=bool(entry.get("meta_utc_is_local", False)),
        max_requests=entry.get("max_requests"),
        max_section_pages=entry.get("max_section_pages", 5),
        mirror_of=entry.get("mirror_of"),
        notes=entry.get("notes"),
    )


def _string_list(entry: dict, key: str, fail) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(key, "must be a list of strings")
    return [v.strip() for v in value]
