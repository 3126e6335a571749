"""Extraction worker processes driven straight from the crawl's asyncio loop.

Why not `concurrent.futures.ProcessPoolExecutor`: it moves every task through two helper threads (a
manager and a queue feeder) and several pipes, and each page then costs the crawler process the GIL
hand-offs between those threads and Scrapy's reactor thread. On the bench site the crawler spends
0.44 ms less CPU per page with this pool (bench/README.md, "Crawl"), and the crawler is the serial
part of a crawl.

Each worker owns one end of a socket pair. The crawler writes a task (the pickled function and
arguments, length-prefixed) without blocking — what the socket does not take yet waits in the
worker's outbox and goes out when the loop says the socket is writable — and reads the answers as the
loop reports them readable, resolving futures in order: a worker runs its tasks one at a time, first
in first out. At most `depth` tasks are sent to a worker at once (a slow page delays few others); the
rest wait in the pool's queue for the first worker with room.

A worker that dies (a page that exhausts memory, a segfault in a parser) fails only the task it was
running, with `WorkerDied`; the tasks sent after it go back to the front of the queue and a fresh
worker takes its place. Workers end when the crawl process goes: their socket closes (and
pipelines.process.start_worker, the crawl's initializer, also watches for a SIGKILL).
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import pickle
import socket
import struct
from typing import Any, Callable, Iterable

_HEADER = struct.Struct("!Q")
_BUFFER = 4 << 20  # socket buffers: a page and a record each fit without a partial write
_READ = 1 << 20


class WorkerDied(RuntimeError):
    """The worker process running this task exited before it answered."""


# -- the worker's side (blocking sockets: one task at a time) ------------------------------------------


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, _READ))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> bytes:
    (size,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
    return _recv_exactly(sock, size)


def _serve(sock: socket.socket, nice: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """A worker's life: lower its priority, initialize, say ready, then answer tasks until the crawl
    closes the socket."""
    if nice:
        os.nice(nice)
    if initializer is not None:
        initializer(*initargs)
    _send(sock, b"ready")
    while True:
        try:
            fn, args, kwargs = pickle.loads(_recv(sock))
        except (EOFError, ConnectionError):
            return
        try:
            answer = pickle.dumps((True, fn(*args, **kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # the task's failure goes back to the crawl; the worker goes on
            try:
                answer = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that does not pickle
                answer = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        try:
            _send(sock, answer)
        except (ConnectionError, OSError):
            return


# -- the crawl's side (non-blocking, on the asyncio loop) ------------------------------------------------


class _Worker:
    def __init__(self, pool: "WorkerPool") -> None:
        self.sock, child = socket.socketpair()
        for end in (self.sock, child):
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _BUFFER)
            end.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER)
        self.process = pool.context.Process(target=_serve, args=(child, pool.nice, pool.initializer, pool.initargs),
                                            daemon=True, name="akhbar-worker")
        self.process.start()
        child.close()
        self.inflight: collections.deque[tuple[bytes, asyncio.Future]] = collections.deque()
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.loop: asyncio.AbstractEventLoop | None = None

    def wait_ready(self, timeout: float) -> None:
        """Block until the worker has run its initializer (imports), so no page waits for them later."""
        self.sock.settimeout(timeout)
        try:
            if _recv(self.sock) != b"ready":
                raise WorkerDied("a worker did not start")
        except (EOFError, OSError) as exc:
            self.process.join(timeout=1)
            raise WorkerDied(f"a worker did not start (exit code {self.process.exitcode})") from exc
        self.sock.setblocking(False)


class WorkerPool:
    """`n` worker processes; `await pool.submit(fn, *args, **kwargs)` runs `fn` in one of them.

    `submit` and `close` belong to the thread of the running asyncio loop (Scrapy's reactor thread).
    `fn`, its arguments and its result are pickled, as with ProcessPoolExecutor, and an exception
    `fn` raises is raised by the await. The workers are started, and have run `initializer`, when the
    constructor returns. `nice` is added to the workers' niceness (replacements included), so that the
    process feeding them gets a core as soon as it needs one; `depth` is how many tasks each holds.
    """

    def __init__(self, n: int, *, initializer: Callable[..., None] | None = None, initargs: tuple = (),
                 context: str = "forkserver", preload: Iterable[str] = (), depth: int = 2, nice: int = 0,
                 start_timeout: float = 120.0) -> None:
        self.context = multiprocessing.get_context(context)
        if context == "forkserver" and preload:
            self.context.set_forkserver_preload(list(preload))
        self.initializer, self.initargs = initializer, initargs
        self.depth, self.nice, self.start_timeout = depth, nice, start_timeout
        self.waiting: collections.deque[tuple[bytes, asyncio.Future]] = collections.deque()
        self.closed = False
        self.replaced = 0  # workers that died and were replaced
        self.workers = [self._start() for _ in range(n)]

    def _start(self) -> _Worker:
        worker = _Worker(self)
        worker.wait_ready(self.start_timeout)
        return worker

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers]

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> asyncio.Future:
        if self.closed:
            raise RuntimeError("the worker pool is closed")
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL), future))
        self._dispatch()
        return future

    def _dispatch(self) -> None:
        while self.waiting:
            worker = min(self.workers, key=lambda w: len(w.inflight))
            if len(worker.inflight) >= self.depth:
                return
            payload, future = self.waiting.popleft()
            if future.done():  # cancelled while it waited
                continue
            if worker.loop is None:
                worker.loop = asyncio.get_running_loop()
                worker.loop.add_reader(worker.sock.fileno(), self._readable, worker)
            worker.inflight.append((payload, future))
            worker.outbox += _HEADER.pack(len(payload))
            worker.outbox += payload
            self._writable(worker)

    def _writable(self, worker: _Worker) -> None:
        """Send what the socket takes now; wait for the loop to say it takes more."""
        try:
            sent = worker.sock.send(worker.outbox) if worker.outbox else 0
        except BlockingIOError:
            sent = 0
        except OSError:  # the worker is gone: its reader sees the end and replaces it
            sent = len(worker.outbox)
        del worker.outbox[:sent]
        if worker.outbox:
            worker.loop.add_writer(worker.sock.fileno(), self._writable, worker)
        else:
            worker.loop.remove_writer(worker.sock.fileno())

    def _readable(self, worker: _Worker) -> None:
        try:
            data = worker.sock.recv(_READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._died(worker)
            return
        worker.inbox += data
        while len(worker.inbox) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(worker.inbox)
            if len(worker.inbox) < _HEADER.size + size:
                break
            ok, value = pickle.loads(memoryview(worker.inbox)[_HEADER.size:_HEADER.size + size])
            del worker.inbox[:_HEADER.size + size]
            _, future = worker.inflight.popleft()
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._dispatch()

    def _died(self, worker: _Worker) -> None:
        """Fail the task the worker was running; re-queue the ones sent after it; start a fresh worker."""
        self._detach(worker)
        if self.closed:
            return
        worker.process.join(timeout=5)
        if worker.inflight:
            _, running = worker.inflight.popleft()
            if not running.done():
                running.set_exception(WorkerDied(
                    f"worker {worker.process.pid} died (exit code {worker.process.exitcode})"))
        self.waiting.extendleft(reversed(worker.inflight))
        worker.inflight.clear()
        self.workers[self.workers.index(worker)] = self._start()
        self.replaced += 1
        self._dispatch()

    def _detach(self, worker: _Worker) -> None:
        if worker.loop is not None:
            worker.loop.remove_reader(worker.sock.fileno())
            worker.loop.remove_writer(worker.sock.fileno())
            worker.loop = None
        worker.sock.close()

    def close(self, timeout: float = 10.0) -> None:
        """End the workers (each finishes the task it is running); tasks not yet answered are cancelled."""
        self.closed = True
        for worker in self.workers:
            for _, future in worker.inflight:
                future.cancel()
            self._detach(worker)
        for _, future in self.waiting:
            future.cancel()
        for worker in self.workers:
            worker.process.join(timeout=timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
