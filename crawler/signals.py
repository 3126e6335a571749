"""Akhbar's own Scrapy signals (connect with `crawler.signals.connect(handler, signal=...)`)."""

alias_found = object()
"""An article URL that is not requested because another form of it, with the same canonical URL, already
was (`…/story/?utm_source=rss` after `…/story/`). Arguments: `source` (outlet id), `url`.

The form may be met before or after its article is fetched and stored. ArchivePipeline (one process)
adds it to the article's `article_urls` at once, or keeps it until the article is stored; in scale-out,
crawler.scaleout sends it to the writer, which does the same."""
