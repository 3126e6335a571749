"""CPU time and peak memory of processes from /proc (psutil is not a dependency).

`Sampler` polls a process tree while it runs: /proc/<pid>/stat gives user+system CPU
ticks, /proc/<pid>/status gives VmHWM (peak RSS). A child's counters vanish with it,
so the sampler keeps the last reading of every pid it ever saw; the error is at most
one sampling interval of CPU for a child that exits between polls (pool workers live
for the whole crawl, so they are read right before the crawl ends). Once a second (`pss_interval`)
a poll also sums the tree's PSS (/proc/<pid>/smaps_rollup), whose maximum is the memory of all
processes together; reading it costs the kernel ≈ 10 ms for a crawl's five processes, which every
0.25 s took ≈ 2 % of the two cores the benchmark measures.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class ProcInfo:
    pid: int
    ppid: int
    name: str
    cmdline: str
    cpu: float = 0.0  # seconds (user + system)
    user: float = 0.0
    system: float = 0.0
    hwm_kb: int = 0  # peak resident set, kB
    rss_kb: int = 0  # resident set at the last reading, kB
    pss_kb: int = 0  # proportional set size at the last reading, kB (shared pages split between sharers)
    first_seen: float = 0.0
    last_seen: float = 0.0


def read(pid: int, with_pss: bool = False) -> ProcInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("latin-1")
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read().decode("latin-1")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2 :].split()
    # after the name: state(0) ppid(1) ... utime(11) stime(12)
    ppid, utime, stime = int(rest[1]), int(rest[11]) / TICK, int(rest[12]) / TICK
    hwm = rss = 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return ProcInfo(pid, ppid, name, cmdline, utime + stime, utime, stime, hwm, rss, pss(pid) if with_pss else 0)


def pss(pid: int) -> int:
    """Proportional set size in kB (/proc/<pid>/smaps_rollup): forked workers share the forkserver's
    pages, so the sum of PSS over a process tree is its real memory, where the sum of RSS counts
    shared pages once per process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f.read().decode("latin-1").splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """Direct children (all threads' child lists)."""
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        pass
    return out


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children(p))
    return found


@dataclass
class Sampler:
    """Poll a process tree every `interval` seconds in a thread; `.procs` keeps each pid's last reading."""

    root: int
    interval: float = 0.2
    # PSS (smaps_rollup) costs ≈ 2-3 ms of kernel CPU per 200 MB process, on the cores being measured:
    # read it at most this often (CPU times and RSS, from stat/status, at every poll)
    pss_interval: float = 1.0
    procs: dict[int, ProcInfo] = field(default_factory=dict)
    peak_total_pss_kb: int = 0  # the tree's memory together: max over polls of the sum of PSS
    peak_total_rss_kb: int = 0  # max over polls of the sum of RSS (counts shared pages per process)
    peak_pss_kb: dict[int, int] = field(default_factory=dict)  # per pid: max PSS seen
    timeline: list[tuple[float, int, int]] = field(default_factory=list)  # (monotonic s, sum PSS kB, sum RSS kB)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def poll(self) -> None:
        now = time.monotonic()
        with_pss = not self.timeline or now - self.timeline[-1][0] >= self.pss_interval - 1e-3
        total_pss = total_rss = 0
        for pid in tree(self.root):
            info = read(pid, with_pss=with_pss)
            if info is None:
                continue
            total_pss += info.pss_kb
            total_rss += info.rss_kb
            if with_pss:
                self.peak_pss_kb[pid] = max(self.peak_pss_kb.get(pid, 0), info.pss_kb)
            old = self.procs.get(pid)
            if old:  # a zombie's /proc entry has no VmHWM: keep the best reading
                info.hwm_kb = max(info.hwm_kb, old.hwm_kb)
                info.cpu = max(info.cpu, old.cpu)
            info.first_seen = old.first_seen if old else now
            info.last_seen = now
            self.procs[pid] = info
        self.peak_total_rss_kb = max(self.peak_total_rss_kb, total_rss)
        if with_pss:
            self.peak_total_pss_kb = max(self.peak_total_pss_kb, total_pss)
            self.timeline.append((now, total_pss, total_rss))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def start(self) -> "Sampler":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def cpu_of(pid: int) -> float:
    info = read(pid)
    return info.cpu if info else 0.0
