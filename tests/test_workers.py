"""crawler.workers.WorkerPool with real processes on a real asyncio loop: answers, failures, deaths, the end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pytest

from crawler.workers import WorkerDied, WorkerPool
from pipelines.extract import ExtractionError


def echo(payload: bytes, tag: int) -> tuple[int, int, bytes, int]:
    return tag, len(payload), payload[:8], os.getpid()


def refuse(kind: str) -> None:
    raise ExtractionError(kind, "not an article here")


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("carries a lock")
        self.lock = threading.Lock()


def raise_unpicklable() -> None:
    raise Unpicklable()


def die_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(3)


def slow(tag: int, seconds: float) -> int:
    time.sleep(seconds)
    return tag


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def run(coro):
    return asyncio.run(coro)


def test_answers_come_back_to_their_futures_across_workers():
    async def main():
        pool = WorkerPool(2)
        try:
            body = os.urandom(3 * 2**20)  # a 3 MB page: bigger than one read, one write
            results = await asyncio.gather(*(pool.submit(echo, body, tag) for tag in range(40)))
            return results, pool.pids
        finally:
            pool.close()

    results, pids = run(main())
    assert [r[0] for r in results] == list(range(40))
    assert all(r[1] == 3 * 2**20 for r in results)
    assert {r[3] for r in results} == set(pids)  # both workers took tasks


def test_a_task_failure_is_raised_by_its_await_and_the_worker_goes_on():
    async def main():
        pool = WorkerPool(1)
        try:
            with pytest.raises(ExtractionError) as refused:
                await pool.submit(refuse, "not_article")
            with pytest.raises(RuntimeError, match="Unpicklable: carries a lock"):
                await pool.submit(raise_unpicklable)
            answer = await pool.submit(echo, b"after", 7)
            return refused.value.kind, answer, pool.replaced
        finally:
            pool.close()

    kind, answer, replaced = run(main())
    assert kind == "not_article"
    assert answer[:3] == (7, 5, b"after")
    assert replaced == 0


def test_a_dead_worker_fails_only_its_task_and_is_replaced():
    async def main():
        pool = WorkerPool(1, depth=3)
        first_pid = pool.pids[0]
        try:
            doomed = pool.submit(die_after, 0.2)
            queued = [pool.submit(slow, tag, 0.01) for tag in range(5)]  # two sent behind it, three waiting
            with pytest.raises(WorkerDied, match="exit code 3"):
                await doomed
            done = await asyncio.gather(*queued)
            return first_pid, pool.pids[0], done, pool.replaced
        finally:
            pool.close()

    first_pid, new_pid, done, replaced = run(main())
    assert done == list(range(5))
    assert replaced == 1 and new_pid != first_pid and not alive(first_pid)


def test_close_ends_the_workers():
    async def main():
        pool = WorkerPool(2)
        await asyncio.gather(*(pool.submit(slow, tag, 0.0) for tag in range(4)))
        pids = pool.pids
        pool.close()
        with pytest.raises(RuntimeError, match="closed"):
            pool.submit(slow, 0, 0.0)
        return pids

    pids = run(main())
    assert pids and not any(alive(pid) for pid in pids)


def test_initializer_runs_before_the_pool_is_ready(tmp_path):
    marker = tmp_path / "ready"

    async def main():
        pool = WorkerPool(1, initializer=touch, initargs=(str(marker),))
        try:
            assert marker.exists()  # the constructor waited for it
            return await pool.submit(echo, b"x", 1)
        finally:
            pool.close()

    assert run(main())[0] == 1


def touch(path: str) -> None:
    time.sleep(0.3)
    with open(path, "w") as f:
        f.write("ok")


def niceness(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def test_workers_and_their_replacements_run_at_the_niceness_asked():
    async def main():
        pool = WorkerPool(1, nice=5)
        try:
            first = niceness(pool.pids[0])
            with pytest.raises(WorkerDied):
                await pool.submit(die_after, 0.0)
            return first, niceness(pool.pids[0]), await pool.submit(echo, b"x", 2)
        finally:
            pool.close()

    first, replacement, answer = run(main())
    expected = min(niceness(0) + 5, 19)
    assert first == expected and replacement == expected
    assert answer[0] == 2


def test_depth_bounds_the_pages_sent_ahead_to_a_worker():
    async def main():
        pool = WorkerPool(1, depth=3)
        try:
            futures = [pool.submit(slow, tag, 0.05) for tag in range(7)]
            sent, waiting = len(pool.workers[0].inflight), len(pool.waiting)
            return sent, waiting, await asyncio.gather(*futures)
        finally:
            pool.close()

    sent, waiting, done = run(main())
    assert (sent, waiting) == (3, 4)
    assert done == list(range(7))


def test_the_extract_pipeline_starts_its_pool_from_the_settings():
    from scrapy.utils.test import get_crawler

    from crawler.item_pipelines import ExtractPipeline

    crawler = get_crawler(settings_dict={"EXTRACT_WORKERS": 1, "EXTRACT_NICE": 3, "EXTRACT_QUEUE_DEPTH": 6})
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    try:
        assert len(pipeline.pool.pids) == 1 and pipeline.pool.depth == 6
        assert niceness(pipeline.pool.pids[0]) == min(niceness(0) + 3, 19)
    finally:
        pipeline.close_spider()



def language_model_loaded() -> bool:
    """In a worker: whether the language model is there before any page asked for it."""
    import sys

    language = sys.modules.get("pipelines.language")
    return language is not None and language._identifier is not None


POOL_WITH_PRELOAD = """
import asyncio, sys
from crawler.workers import WorkerPool
from tests.test_workers import language_model_loaded

async def main():
    pool = WorkerPool(2, preload=sys.argv[1:])
    try:
        return await asyncio.gather(*(pool.submit(language_model_loaded) for _ in range(4)))
    finally:
        pool.close()

print(all(asyncio.run(main())))
"""


@pytest.mark.parametrize("preload, loaded", [(["pipelines.preload"], True), (["pipelines.process"], False)])
def test_workers_share_the_language_model_their_forkserver_loaded(preload, loaded):
    """The crawl's pool preloads pipelines.preload: the workers fork with the model (≈ 120 MB) already in
    memory, shared, instead of each loading its own copy at its first page that needs it. A fresh Python:
    a forkserver takes its preload list when it starts, once per process."""
    from tests.conftest import ROOT

    result = subprocess.run([sys.executable, "-c", POOL_WITH_PRELOAD, *preload], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(loaded)
