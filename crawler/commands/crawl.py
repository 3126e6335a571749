"""`scrapy crawl`, with Akhbar's two up-front refusals as plain messages instead of tracebacks:
a malformed registry, and an archive another crawl is writing (exit status 2). The message goes to
stderr, and also to LOG_FILE when one is set (`make crawl`), so a refused hourly run shows in the log."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.utils.project import get_project_settings

from crawler.extensions import ArchiveBusy, ArchiveLock
from pipelines.registry import RegistryError, load_sources


class Command(ScrapyCrawl):
    def run(self, args, opts) -> None:
        if args and args[0] == "news":
            problem = self.refusal(opts)
            if problem:
                print(f"akhbar: {problem}", file=sys.stderr)
                if self.settings is not None and self.settings.get("LOG_FILE"):
                    logging.getLogger("akhbar").error("not starting: %s", problem)
                self.exitcode = 2
                return
        super().run(args, opts)

    def refusal(self, opts) -> str | None:
        spargs = opts.spargs
        try:
            source = spargs.get("source")
            load_sources(spargs.get("seeds"), only=source.split(",") if source else None)
        except RegistryError as exc:
            return str(exc)
        settings = self.settings if self.settings is not None else get_project_settings()
        if settings.get("REDIS_URL"):
            return None  # a scale-out worker never writes the archive (crawler/scaleout.py)
        try:
            ArchiveLock(Path(settings.get("ARCHIVE_DB") + ".lock")).release()
        except ArchiveBusy as exc:
            return str(exc)
        return None
