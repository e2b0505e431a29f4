"""CPU accounting of the benchmarks, from ``/proc``.

CPU time is utime + stime of every thread of a process (``/proc/<pid>/stat``),
sampled at the start and end of a measurement window; the whole machine's busy
time comes from ``/proc/stat``, so load from other processes is reported.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, all threads) a live process has used.

    Returns 0.0 if the process is gone.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # the command name may contain spaces and parentheses: split after the last
    fields = text.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every descendant, living or reaped.

    Each live process counts its own time plus that of the children it has
    reaped (``cutime``/``cstime``), so processes that start or end inside a
    window are accounted for too.
    """
    total = 0.0
    for p in (pid, *descendants(pid)):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / CLK_TCK
    return total


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds per thread (task id) of a live process."""
    out: dict[int, float] = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out[int(task.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def parent_of(pid: int) -> int:
    """The parent process id (0 if ``pid`` is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(text.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    """Process ids of every live descendant of ``pid`` (not ``pid`` itself)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@dataclass
class CpuWindow:
    """CPU use of named process groups over one wall-clock window.

    Call :meth:`start` and :meth:`stop`; a group is a list of pids whose CPU
    seconds are summed (a process that exits inside the window loses its
    share, so only long-lived processes belong here). The window also records
    how busy the whole machine was (``/proc/stat``) and how much of that came
    from processes outside this benchmark (``foreign_cores``): other work on
    a shared machine disturbs the figures and is reported, not hidden.
    """

    groups: dict[str, list[int]]
    wall_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    machine_s: float = 0.0
    ours_s: float = 0.0
    _t0: float = 0.0
    _c0: dict[str, float] = field(default_factory=dict)
    _m0: float = 0.0
    _o0: float = 0.0

    def _sample(self) -> dict[str, float]:
        return {
            name: sum(cpu_seconds(p) for p in pids)
            for name, pids in self.groups.items()
        }

    def start(self) -> None:
        """Begin the window."""
        self._o0 = tree_cpu_seconds(os.getpid())
        self._m0 = machine_busy_seconds()
        self._c0 = self._sample()
        self._t0 = time.monotonic()

    def stop(self) -> None:
        """End the window and compute CPU seconds per group."""
        c1 = self._sample()
        self.wall_s = time.monotonic() - self._t0
        self.machine_s = machine_busy_seconds() - self._m0
        self.ours_s = tree_cpu_seconds(os.getpid()) - self._o0
        self.cpu_s = {name: c1[name] - self._c0[name] for name in self.groups}

    def cores(self, name: str) -> float:
        """CPU seconds per wall second of a group (1.0 = one core busy)."""
        return self.cpu_s[name] / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def machine_cores(self) -> float:
        """Busy cores of the whole machine during the window."""
        return self.machine_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def foreign_cores(self) -> float:
        """Busy cores of processes outside this benchmark (and the kernel)."""
        if self.wall_s <= 0:
            return 0.0
        return max(0.0, (self.machine_s - self.ours_s) / self.wall_s)


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


FOREIGN_LOAD_WARN_CORES = 0.15
"""Other processes' load above which a window is flagged as disturbed."""


def foreign_load_note(what: str, window: CpuWindow) -> list[str]:
    """A note when other processes loaded the machine during a window."""
    if window.foreign_cores <= FOREIGN_LOAD_WARN_CORES:
        return []
    return [
        f"{what}: other processes on the machine used {window.foreign_cores:.2f} "
        f"cores during the window (machine busy {window.machine_cores:.2f} of "
        f"{os.cpu_count()} cores); figures are disturbed"
    ]


def service_window(viewers_pid: int | None, server_pid: int) -> CpuWindow:
    """A window over the service (this process), its stand-in viewers and the
    RTSP server: the groups of the benchmarks that run the service in-process."""
    return CpuWindow(
        {
            "service": [os.getpid()],
            "viewers": [viewers_pid] if viewers_pid else [],
            "rtsp_server": [server_pid],
        }
    )
