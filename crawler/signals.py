"""Akhbar's own Scrapy signals (connect with `crawler.signals.connect(handler, signal=...)`)."""

alias_found = object()
"""An article URL that is not requested because another form of it, with the same canonical URL, already
was (`…/story/?utm_source=rss` after `…/story/`). Arguments: `source` (outlet id), `url`.

The single-process spider keeps such forms itself and hands them over with the article's item. In
scale-out the article may be fetched by another worker, so crawler.scaleout sends them to the writer,
which adds them to the article's `article_urls` whichever arrives first."""
