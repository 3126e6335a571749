"""`scrapy archive-writer`: see crawler/commands/archive_writer.py (this file only gives the command its name)."""

from crawler.commands.archive_writer import Command  # noqa: F401
