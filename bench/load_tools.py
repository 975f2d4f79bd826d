"""hey and wrk, the benchmark's load generators (Debian packages): their command
lines and their reports read into figures.

`hey` holds a paced load on a few keep-alive connections (latency at a fixed
rate); `wrk` is a closed loop (the most requests/s a path sustains).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOOLS = ("hey", "wrk")
# Libraries that come with the dynamic loader: taken from the container (newer
# than the host's and backward compatible), never mounted over it.
LOADER_LIBRARIES = (
    *("ld-linux", "linux-vdso", "libc.so.", "libm.so.", "libpthread.so.", "libdl.so.", "librt.so."),
    *("libresolv.so.", "libgcc_s.so."),
)


class ToolOutputError(ValueError):
    """hey or wrk printed something that is not their report."""


# --- hey and wrk output -------------------------------------------------------------

_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class HeyResult:
    """hey's summary: latencies of the requests that got an answer, answers by status, errors by message."""

    duration_s: float
    requests_per_s: float
    percentiles_ms: dict[int, float]
    statuses: dict[int, int]
    errors: dict[str, int]

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        """Answers other than 2xx, and requests that got no answer."""
        return sum(n for code, n in self.statuses.items() if not 200 <= code < 300) + sum(self.errors.values())

    def percentile_ms(self, percent: int) -> float | None:
        return self.percentiles_ms.get(percent)


def parse_hey(text: str) -> HeyResult:
    """hey's default output (not -o csv). Latencies are printed in seconds to 4 decimals (0.1 ms)."""
    total = re.search(r"^\s*Total:\s+([0-9.]+) secs\s*$", text, re.M)
    rate = re.search(r"^\s*Requests/sec:\s+([0-9.]+)\s*$", text, re.M)
    if not total or not rate:
        raise ToolOutputError(f"not hey's summary: {output_tail(text)}")
    body, _, error_part = text.partition("\nError distribution:")
    # With fewer answers than a percentile needs, hey prints that line as "0% in 0.0000 secs".
    percentiles = {
        int(p): float(s) * 1000 for p, s in re.findall(r"^\s*(\d+)% in ([0-9.]+) secs\s*$", body, re.M) if int(p) > 0
    }
    statuses = {int(code): int(n) for code, n in re.findall(r"^\s*\[(\d{3})\]\s+(\d+) responses\s*$", body, re.M)}
    errors = {message.strip(): int(n) for n, message in re.findall(r"^\s*\[(\d+)\]\s+(.+)$", error_part, re.M)}
    return HeyResult(float(total[1]), float(rate[1]), percentiles, statuses, errors)


@dataclass(frozen=True)
class WrkResult:
    """wrk's report (with --latency). wrk counts a response slower than --timeout as a timeout error."""

    requests: int
    duration_s: float
    requests_per_s: float
    percentiles_ms: dict[int, float]
    non_2xx: int  # wrk's "Non-2xx or 3xx responses": status 400 and above
    socket_errors: dict[str, int]  # connect, read, write, timeout

    @property
    def failed(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def percentile_ms(self, percent: int) -> float | None:
        return self.percentiles_ms.get(percent)


def parse_wrk(text: str) -> WrkResult:
    done = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h),", text, re.M)
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)\s*$", text, re.M)
    if not done or not rate:
        raise ToolOutputError(f"not wrk's report: {output_tail(text)}")
    _, _, distribution = text.partition("Latency Distribution")
    percentiles = {
        int(p): float(v) * _UNITS_S[unit] * 1000
        for p, v, unit in re.findall(r"^\s+(\d+)%\s+([0-9.]+)(us|ms|s|m|h)\s*$", distribution, re.M)
    }
    if not any(percentiles.values()):
        percentiles = {}  # no request was answered in time: wrk prints 0.00us everywhere
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", text, re.M)
    sockets = re.search(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", text, re.M)
    return WrkResult(
        requests=int(done[1]),
        duration_s=float(done[2]) * _UNITS_S[done[3]],
        requests_per_s=float(rate[1]),
        percentiles_ms=percentiles,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {},
    )


def output_tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "(nothing)"


def foreign_libraries(ldd_output: str) -> list[str]:
    """The host libraries (paths) a binary links besides the loader's own (glibc), from `ldd` output."""
    found = re.findall(r"^\s*(\S+) => (/\S+) \(0x[0-9a-f]+\)\s*$", ldd_output, re.M)
    return [path for name, path in found if not name.startswith(LOADER_LIBRARIES)]


@dataclass(frozen=True)
class TierLoad:
    workers: int = 8
    rate_per_worker: float = 25.0  # hey -q is per worker
    latency_s: int = 10
    rounds: int = 5  # latency rounds, interleaved across the paths
    warmup_s: int = 2
    timeout_s: int = 5
    connections: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    step_s: int = 5
    ceiling_rounds: int = 3  # every step, interleaved across the paths, once a round
    wrk_threads: int = 2
    wrk_timeout_s: int = 2

    @property
    def rate(self) -> float:
        return self.workers * self.rate_per_worker

    def hey(self, url: str, seconds: int) -> list[str]:
        return [
            "hey",
            *("-z", f"{seconds}s", "-c", str(self.workers), "-q", f"{self.rate_per_worker:g}"),
            *("-t", str(self.timeout_s), url),
        ]

    def wrk(self, url: str, connections: int | str) -> list[str]:
        threads = min(self.wrk_threads, connections) if isinstance(connections, int) else self.wrk_threads
        return [
            "wrk",
            *("-t", str(threads), "-c", str(connections), "-d", f"{self.step_s}s"),
            *("--timeout", f"{self.wrk_timeout_s}s", "--latency", url),
        ]
