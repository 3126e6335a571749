"""Akhbar's own Scrapy commands (enabled by COMMANDS_MODULE = "crawler.commands" in crawler/settings.py)."""
