"""Akhbar's own Scrapy signals (connect with `crawler.signals.connect(handler, signal=...)`)."""

alias_found = object()
"""An article URL that is not requested because another form of it, with the same canonical URL, already
was (`…/story/?utm_source=rss` after `…/story/`). Arguments: `source` (outlet id), `url`.

The form may be met before or after its article is fetched and stored. ArchivePipeline (one process)
adds it to the article's `article_urls` at once, or keeps it until the article is stored; in scale-out,
crawler.scaleout sends it to the writer, which does the same."""

host_paused = object()
"""A host asked for a pause (429/503, with or without Retry-After): RetryAfterMiddleware holds that host's
download slot for `seconds` from now. Arguments: `request` (the one that got the answer), `seconds`.

In one process the slot is the whole story; in scale-out, crawler.scaleout.PoliteHTTPDownloadHandler
shares the pause through Redis, so every worker holds its requests to that host until it has passed."""
