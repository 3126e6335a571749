"""Scrapy's downloader with its per-host concurrency cap enforced (the DOWNLOADER setting).

Scrapy 2.19 on the asyncio reactor starts each download as a task (`_schedule_coro`), and a request
joins its slot's `transferring` set only once that task runs. `Downloader._process_queue` pops
requests while `slot.free_transfer_slots() > 0`, so when several requests wait in one slot at once
(e.g. all of an outlet's requests held until its robots.txt arrives) and there is no download delay,
it pops them all in one go: a host got 8 requests at once with CONCURRENT_REQUESTS_PER_DOMAIN = 4
(tests/test_polite.py::test_concurrency_per_host_is_capped). With a delay it pops one per delay, so
the production settings hid it; `make demo` and the tests (DOWNLOAD_DELAY=0) did not.

`_process_queue` below is Scrapy 2.19's, plus one line: a request counts as transferring from the
moment it leaves the queue.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class CappedDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return  # block processing until slot.latercall is called

        # Delay queue processing if a download delay is configured
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return

        # Process enqueued requests if there are free slots to transfer for this slot
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # the fix: _download() adds it again (a set) and removes it when done
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            # prevent burst if inter-request delays were configured
            if delay:
                self._process_queue(slot)
                break
