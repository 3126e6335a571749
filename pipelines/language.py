"""Language of an article, read from its text with py3langid (never from `<html lang>`, which is often wrong:
Arabic pages declaring `lang="en-US"` are common).

Codes are ISO 639-1 ('ar', 'fr', 'en', ...), like `sources.language`. The model's Arabic varieties (Moroccan
'ary', Egyptian 'arz') are counted as 'ar': the archive files dialect-flavoured news under Arabic, and on
short news text the three split the probability between them. The model is restricted to languages with a
two-letter code plus those varieties and Kabyle, which drops rare three-letter labels (Extremaduran, Guianese
Creole, Bikol...) that otherwise take a share of short French, Spanish or English snippets.
"""

from __future__ import annotations

import re
import threading

__all__ = ["detect_language", "language_ranking"]

_FOLD = {"ary": "ar", "arz": "ar"}
_EXTRA = frozenset({"ary", "arz", "kab"})
_MAX_CHARS = 500  # a paragraph or two decides; more only costs time (the model walks the bytes in Python)
_LETTER = re.compile(r"[^\W\d_]")

_identifier = None
_lock = threading.Lock()


def _get_identifier():
    """Load the model once per process (about 0.5 s), on first use rather than at import."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages([c for c in identifier.labels if len(c) == 2 or c in _EXTRA])
                _identifier = identifier
    return _identifier


def language_ranking(text: str) -> list[tuple[str, float]]:
    """(language, probability) best first, Arabic varieties folded into 'ar'; [] when there is no text."""
    sample = (text or "")[:_MAX_CHARS]
    if len(_LETTER.findall(sample[:200])) < 3:
        return []
    scores: dict[str, float] = {}
    for code, prob in _get_identifier().rank(sample):
        code = _FOLD.get(code, code)
        scores[code] = scores.get(code, 0.0) + prob
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is nothing to judge."""
    ranking = language_ranking(text)
    return ranking[0][0] if ranking else None
