"""`scrapy reextract`: re-extract the archive at ARCHIVE_DB from its stored captures, offline.

    scrapy reextract                        # the whole archive of the project settings
    scrapy reextract --source hespress -s ARCHIVE_DB=other.db --workers 4

Same work and options as `python -m pipelines.reextract DB` (this is a thin wrapper), with the
database and the default worker count (EXTRACT_WORKERS) taken from the Scrapy settings.
"""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand

from pipelines.reextract import add_arguments, run_cli


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # no network, no reactor: a process pool over stored captures
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--source ID] [--since YYYY-MM-DD] [--workers N] [--seeds FILE]"

    def short_desc(self) -> str:
        return "Re-extract archived articles from their stored captures (no network)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_arguments(parser)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if opts.workers is None:
            opts.workers = self.settings.getint("EXTRACT_WORKERS") or None
        self.exitcode = run_cli(self.settings.get("ARCHIVE_DB"), opts)
