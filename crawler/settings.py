"""Scrapy settings for Akhbar: polite by default, extraction off the reactor thread.

Akhbar's own settings (all overridable with `-s NAME=VALUE`):
  ARCHIVE_DB            path of the SQLite archive (default: archive.db at the repository root)
  ARCHIVE_BATCH_SIZE    writes per transaction at most (default 1000); a batch commits after ARCHIVE_COMMIT_SECONDS
  EXTRACT_WORKERS       extraction processes (default: one per CPU core)
  EXTRACT_NICE          niceness added to the extraction processes (default 10): the crawler, the serial part,
                        gets a core the moment it needs one and the workers take every cycle left
  EXTRACT_QUEUE_DEPTH   pages sent ahead to each extraction process (default 4): enough to cover the
                        crawler's pauses (a commit), few enough that a slow page delays little
  AKHBAR_FOLLOW_DEPTH   follow article links found on article pages this many hops (default 0)
  AKHBAR_CONTACT        contact URL put in the User-Agent (`-s AKHBAR_CONTACT=...` or the environment variable;
                        crawler.extensions.ContactUserAgent rebuilds USER_AGENT from AKHBAR_USER_AGENT unless
                        USER_AGENT itself is given)
  AKHBAR_MAX_REQUESTS   request budget per outlet and run (0 = none)
  REDIS_URL             scale-out mode (crawler/scaleout.py documents its AKHBAR_REDIS_* settings)
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BOT_NAME = "akhbar"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

AKHBAR_CONTACT = os.environ.get("AKHBAR_CONTACT", "https://github.com/akhbar-archive/akhbar")
AKHBAR_USER_AGENT = "AkhbarArchiveBot/0.1 (+{contact})"
USER_AGENT = AKHBAR_USER_AGENT.format(contact=AKHBAR_CONTACT)

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items processed at once per response. Scrapy 2.19 starts this many asyncio tasks for every response
# (scrapy.utils.asyncio._parallel_asyncio) whatever it yields; an article response yields one item, so
# the default 100 cost the crawler ~2-5 ms CPU per page for nothing (bench/README.md). Items of
# different responses still go through the pipelines concurrently.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19 opens an HTTP control port by default
REFERER_ENABLED = True

ARCHIVE_DB = str(ROOT / "archive.db")
# The clock sets the pace of commits (one a second at crawl rates); the size only caps a transaction when
# the writer runs flat out: a commit flushes FTS5's pending terms, ≈ 20 ms, so 50-write batches cost
# 0.43 ms per article and 1,000-write ones 0.15-0.19 (bench/README.md, "Writer").
ARCHIVE_BATCH_SIZE = 1000
ARCHIVE_COMMIT_SECONDS = 1.0
EXTRACT_WORKERS = 0  # 0 = os.cpu_count()
# Measured on 2 cores, three interleaved pairs (bench/README.md, "Crawl"): with both, the crawl's rate
# went from 66-73 % to 73-77 % of 2 × the single-core extraction rate; the crawler process spent
# 4.1-4.5 instead of 4.2-4.7 ms of CPU per page, and the workers stopped paying for the shared cores.
EXTRACT_NICE = 10
EXTRACT_QUEUE_DEPTH = 4
AKHBAR_FOLLOW_DEPTH = 0
AKHBAR_GIVE_UP_AFTER = 3  # runs a URL may fail for good (404, not an article...) before it is no longer asked (0 = never)
AKHBAR_MAX_REQUESTS = 0  # per outlet and run; 0 = unlimited (the registry's max_requests wins)
AKHBAR_PROGRESS_INTERVAL = 2.0  # seconds between progress-line updates in a terminal (0 = off)
AKHBAR_BACKOFF_BASE = 2.0  # seconds, doubled per retry of a 429/503 without Retry-After

# Order: skip archived URLs (50), robots.txt (100), then the budget (110): only requests really made spend it.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SkipArchivedMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    "crawler.middlewares.OutletBudgetMiddleware": 110,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 580,
}
DOWNLOADER = "crawler.downloader.CappedDownloader"  # Scrapy's, with CONCURRENT_REQUESTS_PER_DOMAIN enforced
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.ErrorsToItemsMiddleware": 10,
}
EXTENSIONS = {
    "crawler.extensions.ArchiveLock": 0,
    "crawler.extensions.ProgressLine": 500,
}
ITEM_PIPELINES = {
    "crawler.item_pipelines.ExtractPipeline": 300,
    "crawler.item_pipelines.ArchivePipeline": 800,
}

# Scale-out (crawler/scaleout.py, README "Scale-out"): with REDIS_URL set, in the environment or with
# `-s REDIS_URL=redis://host:6379/0`, this crawl is one of many workers sharing a Redis frontier, and
# `scrapy archive-writer` stores their records. The add-on changes nothing while REDIS_URL is empty.
REDIS_URL = os.environ.get("REDIS_URL", "")
ADDONS = {"crawler.scaleout.ScaleOut": 0, "crawler.extensions.ContactUserAgent": 0}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
