"""One article, one URL: the canonical form of article URLs.

The same article reaches us under many URLs (see outlets.md, "URL identity"): percent-encoding
case (`%d8` / `%D8` / raw Arabic), tracking parameters, `www.`/bare/`m.`/`m2.` hosts, http and
https, AMP twins, trailing slashes, fragments, a malformed second `?`. `canonical_url` folds them
into one string, which is the identity key of `articles.url` and `article_urls`.

Rules (each fills a measured gap of the libraries; w3lib does the rest):

- **Scheme.** http and https are the same identity; the canonical form says `https`, except for a
  host with an explicit non-default port or an IP/localhost host (local mirrors, loopback test
  sites), whose scheme is kept. An http-only outlet therefore gets an `https://` identity; the URL
  actually fetched stays in `article_urls`.
- **Host.** Lowercased, default port and userinfo dropped. With a `source`, alias hosts fold to
  `source.canonical_host`, or else to the outlet's first domain: `www.`/`www2.`/`m.`/`m2.`/
  `mobile.`/`amp.` variants and the bare host always; every other domain of the outlet only when
  `canonical_host` is set (declaring it asserts that all the outlet's hosts serve the same paths,
  e.g. the retired `www.hibapress.com` → `ar.hibapress.com`). Other subdomains (`fr.`, `en.`) are
  other editions and are never folded. Without a source, hosts are not folded (only the registry
  knows which host is canonical).
- **AMP twins.** A leading `/amp/` segment, a trailing `/amp` segment, an `amp.` host and the
  parameters `amp`, `outputType=amp`, `output=amp` are dropped. When the twin also dropped a path
  segment (youm7: `m.youm7.com/amp/Y/M/D/slug/id` for `/story/Y/M/D/slug/id`), the segment is put
  back only if the stripped URL fails the outlet's `article_pattern` and exactly one literal
  segment of that pattern makes it match; otherwise the page's rel=canonical decides.
- **Query.** A second `?` inside the query is read as `&` (An-Nahar `?MobileApp=true?ref=…`).
  Tracking and presentation parameters are removed by a deny-list (utm_*, fbclid, gclid, at_*,
  mc_cid, igshid, ref, _ga, …); every other parameter is kept, because some outlets carry the
  article id there (`?p=`, `?id=`, `?SectionID=`). courlan's strict mode is an allow-list and
  would drop those, so it is not used. Remaining parameters are sorted (w3lib).
- **Path.** Percent-encoding normalized by w3lib (`%d8`, `%D8` and raw Arabic all become `%D8`);
  a trailing slash is removed from every path but `/` (one rule for all outlets; servers that
  prefer the slash redirect to it); the fragment is dropped.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from pipelines.registry import Source

# Query parameters that never identify an article (lowercased names).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "igsh", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "_ga", "_gl",
        "_hsenc", "_hsmi", "__twitter_impression", "fb_action_ids", "fb_action_types", "fb_ref",
        "fb_source", "ocid", "cmpid", "s_cid", "xtor", "wt.mc_id", "spm", "share", "mobileapp",
        "usqp",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "itm_")
_AMP_VALUE_PARAMS = frozenset({"outputtype", "output", "format"})  # dropped only when the value is "amp"

_ALIAS_PREFIX = re.compile(r"^(?:www\d?|m|m2|mobile|amp)\.")
_SECOND_QMARK = re.compile(r"\?(?=[A-Za-z_][\w.\-\[\]]*(?:=|&|$))")
_PATTERN_SEGMENT = re.compile(r"/([A-Za-z][A-Za-z0-9_-]*)/")
_DIGITS = re.compile(r"\d+")
_ARC_ID = re.compile(r"[A-Z0-9]{20,}")


def canonical_url(url: str, *, source: Source | None = None) -> str:
    """The identity form of an article URL (see the module docstring for the rules).

    Idempotent: `canonical_url(canonical_url(u, source=s), source=s) == canonical_url(u, source=s)`.
    Non-http(s) or host-less input is returned stripped but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return url
    if port == {"http": 80, "https": 443}[scheme]:
        port = None
    bracketed = f"[{host}]" if ":" in host else host  # IPv6 literal
    netloc = f"{bracketed}:{port}" if port else bracketed
    if source is not None:
        netloc = _fold_host(netloc, source)

    path = parts.path or "/"
    query, amp_param = _clean_query(parts.query)
    path, amp_path = _strip_amp_path(path)
    was_amp = amp_param or amp_path or host.startswith("amp.")
    scheme_out = scheme if _is_local(netloc) else "https"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    result = canonicalize_url(urlunsplit((scheme_out, netloc, path, query, "")))

    if was_amp and source is not None and not source.is_article(result):
        result = _restore_amp_segment(result, source) or result
    return result


def pick_canonical(page_url: str, declared: list[str], source: Source | None) -> str:
    """The article's identity URL: the first trustworthy declared URL, else the page URL.

    `declared` are the page's own claims, best first (rel=canonical, then og:url). A claim is
    used only when it stays on the outlet (`source.owns`, or the page's host without a source),
    is not a bare IP (Almadenah's og:url) unless the page itself is on that IP, is not a homepage
    or non-article page, keeps the page's article id (a digit run of 5+ or an Arc id), and does
    not replace the page's Arabic slug by an ASCII placeholder or by nothing (LBCI's og:url
    `…/898682/lbci-lebanon-articles/ar`). The result is passed through `canonical_url`.
    """
    page = canonical_url(page_url, source=source)
    page_parts = urlsplit(page)
    page_is_article = source is not None and source.is_article(page)
    page_ids = _ids(page)
    page_words = _nonascii_words(page_parts.path)
    for raw in declared:
        if not raw or not raw.strip():
            continue
        absolute = urljoin(page_url, raw.strip())
        try:
            cand_parts = urlsplit(absolute)
            host = (cand_parts.hostname or "").lower()
        except ValueError:
            continue
        if cand_parts.scheme.lower() not in ("http", "https") or not host:
            continue
        if source is not None:
            if not source.owns(absolute):
                continue
        elif host != (urlsplit(page_url).hostname or "").lower():
            continue
        if _is_ip(host) and host != (page_parts.hostname or ""):
            continue
        cand = canonical_url(absolute, source=source)
        cand_path = urlsplit(cand).path
        if cand_path.strip("/") == "" or re.fullmatch(r"/?[a-z]{2}/?", cand_path):
            continue  # homepage or language root
        if page_is_article and not source.is_article(cand):  # type: ignore[union-attr]
            continue
        cand_digits = _DIGITS.findall(cand)
        if any(not _has_id(pid, cand, cand_digits) for pid in page_ids):
            continue
        if page_words and not _nonascii_words(cand_path):
            continue  # the Arabic slug was replaced by a placeholder, or dropped
        return cand
    return page


def _fold_host(netloc: str, source: Source) -> str:
    domains = [d.lower() for d in source.domains]
    target = (source.canonical_host or (domains[0] if domains else netloc)).lower()
    if netloc == target:
        return netloc
    if source.canonical_host and (netloc in domains or netloc.split(":")[0] in domains):
        return target
    if _ALIAS_PREFIX.sub("", netloc, count=1) == _ALIAS_PREFIX.sub("", target, count=1):
        return target
    return netloc


def _clean_query(query: str) -> tuple[str, bool]:
    """Drop tracking/AMP parameters; returns (query, whether an AMP parameter was present)."""
    if not query:
        return "", False
    query = _SECOND_QMARK.sub("&", query)
    kept: list[str] = []
    amp = False
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        key = unquote_plus(name).strip().lower()
        val = unquote_plus(value).strip().lower()
        if key == "amp" or (key in _AMP_VALUE_PARAMS and val == "amp"):
            amp = True
            continue
        if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append(pair)
    return "&".join(kept), amp


def _strip_amp_path(path: str) -> tuple[str, bool]:
    lowered = path.lower()
    if lowered == "/amp" or lowered == "/amp/":
        return "/", True
    if lowered.startswith("/amp/"):
        return path[4:], True
    trimmed = lowered.rstrip("/")
    if trimmed.endswith("/amp"):
        return path[: len(trimmed) - 4] or "/", True
    return path, False


def _restore_amp_segment(url: str, source: Source) -> str | None:
    """Put back the one literal path segment an AMP twin dropped, when the outlet's pattern demands it."""
    parts = urlsplit(url)
    have = set(parts.path.split("/"))
    matches = []
    for segment in dict.fromkeys(_PATTERN_SEGMENT.findall(source.article_pattern)):
        if segment in have:
            continue
        candidate = urlunsplit((parts.scheme, parts.netloc, f"/{segment}{parts.path}", parts.query, ""))
        if source.is_article(candidate):
            matches.append(candidate)
    return matches[0] if len(matches) == 1 else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_local(netloc: str) -> bool:
    """Hosts whose scheme is kept: explicit port, IP literal, localhost."""
    parts = urlsplit(f"//{netloc}")
    host = parts.hostname or ""
    return parts.port is not None or _is_ip(host) or host == "localhost"


def _ids(url: str) -> list[str]:
    """Article ids in a URL: digit runs of 5+ digits and Arc XP style 20+ char ids."""
    parts = urlsplit(url)
    text = unquote(parts.path + "?" + parts.query)
    ids = [d for d in _DIGITS.findall(text) if len(d) >= 5]
    ids += _ARC_ID.findall(parts.path)
    return ids


def _has_id(pid: str, url: str, digit_runs: list[str]) -> bool:
    if pid.isdigit():
        return any(pid in run for run in digit_runs)
    return pid in url


def _nonascii_words(path: str) -> set[str]:
    words = re.split(r"[-_/.\s]+", unquote(path))
    return {w for w in words if w and any(ord(ch) > 127 for ch in w)}
