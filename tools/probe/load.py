"""The load engine: worker threads that send requests and record every outcome."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import requests

from .classify import OTHER_CONNECTION_ERROR, READ_TIMEOUT, failure_kind, http_failure, pool_of
from .options import ProbeOptions
from .result import ProbeResult, Sample, nearest_rank

PROGRESS_WINDOW_S = 5.0
# requests' timeout bounds each read, not a whole answer: a server that drips a
# byte a second never times out. stop() waits this long past the timeout, then
# counts what is still in flight as timeouts and leaves its threads behind.
STOP_GRACE_S = 1.0


@dataclass(frozen=True)
class Progress:
    elapsed_s: float
    sent: int
    failed: int
    p99_ms: float | None  # successful requests that finished in the last window_s
    window_s: float


class _Pacer:
    """Hands out send times 1/rate apart, shared by all workers, so the total rate is capped."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait_turn(self, stop: threading.Event) -> bool:
        """Sleeps until this worker's turn; False when stopped meanwhile."""
        with self._lock:
            now = time.monotonic()
            # A turn missed because every worker was busy is dropped, not made up
            # later in a burst: the load stays even.
            turn = max(self._next, now)
            self._next = turn + self._interval
        return not stop.wait(turn - now)


class Probe:
    """Load against options.url in background threads, from start() until stop()."""

    def __init__(self, options: ProbeOptions) -> None:
        self.options = options
        self._pattern = re.compile(options.pool_pattern)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._samples: list[Sample] = []
        self._failed = 0
        self._threads: list[threading.Thread] = []
        self._in_flight: dict[int, float] = {}  # worker thread ident -> monotonic send time
        self._t0 = 0.0
        self._started_at = 0.0
        self._result: ProbeResult | None = None

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("probe already started")
        pacer = _Pacer(self.options.rate) if self.options.rate else None
        self._t0, self._started_at = time.monotonic(), time.time()
        for i in range(self.options.concurrency):
            url = self.options.slow_url if i < self.options.slow_workers else self.options.url
            thread = threading.Thread(target=self._work, args=(url, pacer), name=f"probe-{i}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> ProbeResult:
        """Stops sending, waits for requests in flight (at most the timeout), returns the result."""
        if not self._threads:
            raise RuntimeError("probe not started")
        if self._result is None:
            stopped = time.monotonic()
            duration = stopped - self._t0
            self._stop.set()
            deadline = stopped + self.options.timeout + STOP_GRACE_S
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            with self._lock:
                hung = [
                    Sample(sent - self._t0, (now - sent) * 1000, READ_TIMEOUT, None)
                    for ident, sent in self._in_flight.items()
                    if any(t.ident == ident and t.is_alive() for t in self._threads)
                ]
                # A worker may have passed its stop check just before stop(): drop what it sent after.
                samples = sorted((s for s in [*self._samples, *hung] if s.t < duration), key=lambda s: s.t)
            self._result = ProbeResult(self.options, self._started_at, duration, samples)
        return self._result

    def progress(self, window_s: float = PROGRESS_WINDOW_S) -> Progress:
        now = time.monotonic() - self._t0
        with self._lock:
            sent, failed = len(self._samples), self._failed
            recent: list[float] = []
            # Samples are appended as requests finish, so the newest are at the end.
            for s in reversed(self._samples):
                if s.t + s.latency_ms / 1000 < now - window_s:
                    break
                if s.failure is None:
                    recent.append(s.latency_ms)
        return Progress(now, sent, failed, nearest_rank(sorted(recent), 99), window_s)

    def _work(self, url: str, pacer: _Pacer | None) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                if pacer is not None and not pacer.wait_turn(self._stop):
                    return
                self._send(session, url)

    def _send(self, session: requests.Session, url: str) -> None:
        sent = time.monotonic()
        ident = threading.get_ident()
        with self._lock:
            self._in_flight[ident] = sent
        sample = self._request(session, url, sent)
        # In one step, so stop() sees a request either in flight or recorded.
        with self._lock:
            del self._in_flight[ident]
            self._samples.append(sample)
            self._failed += sample.failure is not None

    def _request(self, session: requests.Session, url: str, sent: float) -> Sample:
        try:
            # Redirects are not followed: the probe measures the URL it was given.
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's verify, not a request's.
            response = session.request(
                self.options.method,
                url,
                timeout=self.options.timeout,
                allow_redirects=False,
                verify=self.options.ca_file or True,
            )
        except requests.RequestException as exc:
            return Sample(sent - self._t0, _ms_since(sent), failure_kind(exc), None)
        latency_ms = _ms_since(sent)
        failure = http_failure(response.status_code)
        pool = None if failure else pool_of(response, self._pattern, self.options.pool_header)
        return Sample(sent - self._t0, latency_ms, failure, pool)


def check_reachable(options: ProbeOptions) -> str | None:
    """Why one request to options.url got no HTTP response at all, or None when it got one."""
    try:
        requests.request(
            options.method,
            options.url,
            timeout=options.timeout,
            allow_redirects=False,
            verify=options.ca_file or True,
        ).close()
    except requests.RequestException as exc:
        kind = failure_kind(exc)
        # "other" alone would hide the cause (TLS, DNS, proxy) from someone starting a run.
        return f"{kind} ({exc})" if kind == OTHER_CONNECTION_ERROR else kind
    return None


def _ms_since(start: float) -> float:
    return (time.monotonic() - start) * 1000
