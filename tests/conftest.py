"""Shared test fixtures: real crawls over HTTP on 127.0.0.1 into real SQLite files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"

# Fast, deterministic crawl settings for loopback sites (politeness is for real outlets).
TEST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_TIMEOUT": "3",
    "RETRY_TIMES": "1",
    "EXTRACT_WORKERS": "2",
    "LOG_LEVEL": "INFO",
}


def crawl(seeds: Path, db: Path, *args: str, settings: dict[str, str] | None = None,
          timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `scrapy crawl news` in a subprocess, as an operator would."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}", "-s", f"ARCHIVE_DB={db}"]
    for key, value in {**TEST_SETTINGS, **(settings or {})}.items():
        command += ["-s", f"{key}={value}"]
    command += list(args)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"crawl failed ({result.returncode}):\n{result.stderr[-5000:]}")
    return result


def rows(db: Path, sql: str, params: tuple = ()) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def gold() -> list[dict]:
    return [json.loads(line) for line in (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def crawl_into(tmp_path):
    """crawl_into(seeds) → path of a fresh archive filled by a real crawl."""

    def run(seeds: Path, *args: str, **kwargs) -> Path:
        db = tmp_path / "archive.db"
        crawl(seeds, db, *args, **kwargs)
        return db

    return run
