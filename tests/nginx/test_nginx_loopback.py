"""The program's nginx config on a real nginx 1.30, loopback backends, real traffic.

Each test gets a fresh `site` (tests/support/nginx_loopback.py): the dev stack's
config, exactly as the program renders it except for two values a loopback test
must replace (checked line by line when it is rendered):
  - `resolver`: Docker's 127.0.0.11 is not on the host; a DNS stub the test
    controls answers tasks.webapp-real -> 127.0.0.2, .3 and tasks.webapp-backup ->
    127.0.0.4, .5 (with Docker's 600 s TTL);
  - `listen`: a free port instead of 80.
Backends are tests/fixtures/testapp/app.py processes labelled app-real-N / app-backup-N, all on
the same port (the template has one port per pool). Load comes from tools.probe:
6 clients, 2 of them on the slow path /1000 (about 1 s per request).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import pytest
import requests

from tests.support.nginx_loopback import (
    BACKEND_PATTERN,
    BACKUP_ADDRESSES,
    REAL_ADDRESSES,
    SPARE_ADDRESSES,
    LoopbackSite,
    Tally,
    pool_of_label,
)
from tools.probe import Probe, ProbeOptions, ProbeResult

CLIENT_TIMEOUT = 10.0
SLOW_PATH = "/1000"


def seconds(nginx_time: str) -> float:
    """An nginx time value the template renders ("2s", "500ms", "90s") in seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+)(ms|s|m|h)", nginx_time)
    assert parts and "".join(n + u for n, u in parts) == nginx_time, nginx_time
    return sum(int(n) * units[u] for n, u in parts)


def dns_change_bound(site: LoopbackSite) -> float:
    """Longest nginx may take to act on a DNS change, plus 2 s of slack for the machine.

    Measured with nginx 1.30.6 against the DNS stub: a `resolve` server's name is
    re-queried every valid + 1 s (2 s with valid=1s, 4 s with valid=3s), not every
    `valid` seconds. The slack is for a 2-core machine running other suites beside
    this one (more than 1 s was seen once); nginx's negative cache, which the bound
    exists to rule out, would take 30 s.
    """
    return seconds(site.args.resolver_valid) + 1.0 + 2.0


def start_load(site: LoopbackSite, method: str = "GET", slow_path: str | None = SLOW_PATH) -> Probe:
    probe = Probe(
        ProbeOptions(
            url=site.url + "/",
            concurrency=6,
            rate=150.0,  # total, so the 2-core machine keeps up and timings stay honest
            slow_path=slow_path,
            slow_share=1 / 3,
            method=method,
            timeout=CLIENT_TIMEOUT,
            pool_pattern=BACKEND_PATTERN,
        )
    )
    probe.start()
    return probe


def at(result: ProbeResult, epoch: float) -> float:
    """A wall-clock instant as seconds from the probe's start (the samples' clock)."""
    return epoch - result.started_at


def answered(result: ProbeResult, role: str) -> list[Any]:
    return [s for s in result.samples if s.pool is not None and pool_of_label(s.pool) == role]


def in_flight_at(result: ProbeResult, t: float) -> list[Any]:
    return [s for s in result.samples if s.t < t < s.t + s.latency_ms / 1000]


def addresses(site: LoopbackSite, hosts: tuple[str, ...]) -> set[str]:
    return {f"{host}:{site.port}" for host in hosts}


def diagnostics(site: LoopbackSite) -> str:
    """What nginx itself saw: for assertion messages."""
    odd = [line for line in site.nginx.access_log() if line.status != 200 or len(line.upstreams) > 1]
    errors = [
        line
        for line in site.nginx.error_log().splitlines()
        if "[error]" in line or "[crit]" in line or "[alert]" in line or "[warn]" in line
    ]
    return (
        "\nnginx access log, retried or non-200 requests (last 20):\n  "
        + "\n  ".join(map(str, odd[-20:]))
        + "\nnginx error log, errors and warnings (last 20):\n  "
        + "\n  ".join(errors[-20:])
    )


def no_reload_evidence(site: LoopbackSite, master: int, workers: set[int]) -> None:
    assert site.nginx.master_pid == master and site.nginx.worker_pids() == workers, (
        f"nginx workers changed ({workers} -> {site.nginx.worker_pids()}): something reloaded it"
    )
    assert "reconfiguring" not in site.nginx.error_log(), "nginx was reloaded"


# --- 0. nginx before the app ---------------------------------------------------------


def test_0_nginx_starts_before_any_pool_name_resolves_and_serves_once_they_do(nginx_install, report):
    # nginx may start before Swarm has any app task in its DNS (first deploy, or a
    # pool scaled to zero): with `resolve` it must start anyway, answer a quick 502
    # meanwhile, and pick the tasks up without a reload once they appear.
    site = LoopbackSite(nginx_install, "dev")
    try:
        site.start(resolvable=False)
        bound = dns_change_bound(site)
        master, workers = site.nginx.master_pid, site.nginx.worker_pids()
        started = time.monotonic()
        early = site.get("/")
        early_s = time.monotonic() - started
        site.publish_pools()
        waited = site.wait_for_pool("real", timeout=bound + 5)
        summary = (
            f"0 nginx up before DNS has the pools: answered {early.status_code} in {early_s:.3f}s; "
            f"real answered {waited:.3f}s after the names appeared (bound {bound:g}s)"
        )
        report(summary)

        assert early.status_code in (502, 503) and early_s < 1.0, summary
        assert waited <= bound, summary
        no_reload_evidence(site, master, workers)
    finally:
        site.close()


# --- 1. steady state ---------------------------------------------------------------


def test_1_steady_state_only_real_backends_answer(site: LoopbackSite, report):
    probe = start_load(site)
    time.sleep(2.5)
    result = probe.stop()
    tally = Tally.of("1 steady state", result, slow_ok=sum(1 for s in result.samples if s.latency_ms >= 1000))
    line = report(tally)

    assert result.failed == 0, line + diagnostics(site)
    assert result.sent > 100, line
    assert set(tally.by_pool) == {"real"}, line
    assert set(tally.by_backend) == {"app-real-1", "app-real-2"}, f"least_conn should use both real tasks: {line}"
    assert tally.notes["slow_ok"] > 0, line


# --- 2. every real backend killed ----------------------------------------------------


def test_2_real_pool_killed_backup_answers_and_no_get_fails(site: LoopbackSite, report):
    fail_timeout = seconds(site.args.fail_timeout)
    probe = start_load(site)
    # Mid-way through the slow clients' second ~1 s request (they all start at 0 s),
    # so the kill catches slow requests in flight on the real tasks.
    time.sleep(1.5)
    for app in site.pool("real"):
        app.kill()  # returns once the process is gone
    killed_at = time.time()  # from here on no real task exists
    # Past fail_timeout, so nginx also retries the dead peers once more and fails over again.
    time.sleep(fail_timeout + 1.5)
    result = probe.stop()

    kill_t = at(result, killed_at)
    after = result.window(kill_t, result.duration_s)
    caught = in_flight_at(result, kill_t)
    rescued = [s for s in caught if s.pool is not None and pool_of_label(s.pool) == "backup"]
    real_addresses = addresses(site, REAL_ADDRESSES)
    failed_over = [
        line
        for line in site.nginx.access_log()
        if len(line.upstreams) > 1 and line.upstreams[0] in real_addresses and line.status == 200
    ]
    around_kill = [s.latency_ms for s in result.samples if kill_t - 1.5 < s.t < kill_t + 0.5]
    tally = Tally.of(
        "2 real SIGKILL",
        result,
        sent_after_kill=after.sent,
        backup_after_kill=sum(v for k, v in after.by_pool.items() if pool_of_label(k) == "backup"),
        in_flight_at_kill=len(caught),
        in_flight_retried_to_backup=len(rescued),
        nginx_retries_real_to_backup=len(failed_over),
        slowest_around_kill_ms=max(around_kill, default=0.0),
    )
    line = report(tally)

    when = f"\nfailures (s from start, kind): {result.failures}; kill at {kill_t:.3f}"
    assert result.failed == 0, line + diagnostics(site) + when
    assert after.sent > 50, line
    assert all(pool_of_label(k) == "backup" for k in after.by_pool), f"a dead real task answered? {line}"
    # Slow GETs that a real task had when it died were retried on the backup pool.
    assert rescued, f"no request in flight at the kill was rescued by the backup pool: {line}"
    assert failed_over, line


# --- 3. the real pool comes back -----------------------------------------------------


def test_3_real_pool_back_on_the_same_addresses_answers_again_without_reload(site: LoopbackSite, report):
    fail_timeout, valid = seconds(site.args.fail_timeout), seconds(site.args.resolver_valid)
    master, workers = site.nginx.master_pid, site.nginx.worker_pids()
    probe = start_load(site)
    time.sleep(0.5)
    for app in site.pool("real"):
        app.kill()
    site.wait_for_pool("backup", timeout=5)
    time.sleep(1.0)
    for app in site.pool("real"):
        app.start()
    back_at = time.time()
    site.wait_for_pool("real", timeout=fail_timeout + valid + 5)
    time.sleep(1.5)
    result = probe.stop()

    back_t = at(result, back_at)
    first_real = min((s.t for s in answered(result, "real") if s.t >= back_t), default=None)
    delay = None if first_real is None else first_real - back_t
    tail = result.last(1.0)
    tally = Tally.of(
        "3 real back (same addresses)",
        result,
        real_again_after_s=delay,
        bound_s=fail_timeout + valid + 1.0,
        last_second=dict(tail.by_pool),
    )
    line = report(tally)

    assert result.failed == 0, line + diagnostics(site)
    assert delay is not None and delay <= fail_timeout + valid + 1.0, line
    assert tail.by_pool and all(pool_of_label(k) == "real" for k in tail.by_pool), line
    no_reload_evidence(site, master, workers)


def test_3b_real_pool_removed_then_redeployed_on_new_addresses_is_found_by_re_resolving(site: LoopbackSite, report):
    # The tutorial's `docker service rm` and redeploy: Swarm drops the tasks from DNS,
    # stops them, and new tasks come back with new addresses. Only run-time
    # re-resolution (`resolve`, `valid=`) lets nginx find them without a reload.
    bound = dns_change_bound(site)
    master, workers = site.nginx.master_pid, site.nginx.worker_pids()
    probe = start_load(site)
    time.sleep(1.0)
    site.dns.remove(site.real_name)
    removed_at = time.time()
    site.wait_for_pool("backup", timeout=bound + 5)
    gone_after = time.time() - removed_at
    for app in site.pool("real"):
        app.terminate()  # graceful: Swarm's stop after the DNS removal
    time.sleep(1.0)
    new_apps = [site.add_app(f"app-real-{i}", address) for i, address in enumerate(SPARE_ADDRESSES, 3)]
    site.dns.set(site.real_name, SPARE_ADDRESSES)
    dns_at, dns_clock = time.time(), time.monotonic()
    site.wait_for_pool("real", timeout=bound + 5)
    time.sleep(1.5)
    result = probe.stop()

    dns_t = at(result, dns_at)
    old = {"app-real-1", "app-real-2"}
    new = {app.name for app in new_apps}
    first_new = min((s.t for s in result.samples if s.pool in new and s.t >= dns_t), default=None)
    delay = None if first_new is None else first_new - dns_t
    between = result.window(at(result, removed_at) + gone_after, dns_t)
    tail = result.last(1.0)
    requeried = site.dns.queries_for(site.real_name, since=dns_clock)
    tally = Tally.of(
        "3b real removed from DNS, back on new addresses",
        result,
        backup_only_after_removal_s=gone_after,
        new_real_after_s=delay,
        bound_s=bound,
        last_second=dict(tail.by_pool),
        dns_queries_since_change=len(requeried),
    )
    line = report(tally)

    assert result.failed == 0, line + diagnostics(site)
    assert gone_after <= bound, line
    assert all(pool_of_label(k) == "backup" for k in between.by_pool), line
    assert delay is not None and delay <= bound, line
    assert tail.by_pool and set(tail.by_pool) <= new, line
    assert not any(s.pool in old and s.t >= dns_t for s in result.samples), line
    no_reload_evidence(site, master, workers)


# --- 4. rolling restart --------------------------------------------------------------


def test_4_rolling_restart_of_the_real_pool_fails_no_request(site: LoopbackSite, report):
    fail_timeout, valid = seconds(site.args.fail_timeout), seconds(site.args.resolver_valid)
    probe = start_load(site)
    time.sleep(1.5)  # mid-way through a slow request, as in test 2
    stops: list[tuple[str, float]] = []
    readmitted: dict[str, float] = {}
    for app in site.pool("real"):
        stops.append((app.name, time.time()))
        app.terminate()  # SIGTERM: stop accepting, finish in-flight requests, exit
        app.start()
        readmitted[app.name] = round(site.wait_for_pool("real", timeout=fail_timeout + valid + 5, label=app.name), 3)
    time.sleep(1.0)
    result = probe.stop()

    slow_ok = [s for s in result.samples if s.failure is None and s.latency_ms >= 1000]
    drained = [s for name, stopped in stops for s in in_flight_at(result, at(result, stopped)) if s.pool == name]
    tally = Tally.of(
        "4 rolling restart (SIGTERM, start, next)",
        result,
        slow_ok=len(slow_ok),
        drained_in_flight=len(drained),
        readmitted_after_s=readmitted,
    )
    line = report(tally)

    assert result.failed == 0, line + diagnostics(site)
    assert len(slow_ok) >= 4, f"too few slow requests to prove anything: {line}"
    assert {"app-real-1", "app-real-2"} <= set(tally.by_backend), line


# --- 5. POST -------------------------------------------------------------------------


def test_5a_post_that_cannot_connect_fails_over(site: LoopbackSite, report):
    fail_timeout = seconds(site.args.fail_timeout)
    for app in site.pool("real"):
        app.kill()  # nginx does not know yet: its next POSTs try to connect there
    probe = start_load(site, method="POST")
    time.sleep(fail_timeout + 1.5)  # past fail_timeout: nginx tries the dead peers again
    result = probe.stop()

    real_addresses = addresses(site, REAL_ADDRESSES)
    posts = [line for line in site.nginx.access_log() if line.method == "POST"]
    failed_over = [
        line for line in posts if len(line.upstreams) > 1 and line.upstreams[0] in real_addresses and line.status == 200
    ]
    tally = Tally.of("5a POST, real refused", result, posts_failed_over_by_nginx=len(failed_over))
    line = report(tally)

    assert result.failed == 0, line + diagnostics(site)
    assert set(tally.by_pool) == {"backup"}, line
    assert failed_over, f"no POST was seen failing over from a refused real task: {line}"


def _request_while_real_pool_dies(site: LoopbackSite, method: str) -> tuple[Any, float, list[Any]]:
    """`method` /2000 through nginx; SIGKILL the real pool while the request sleeps there."""
    marker = uuid.uuid4().hex
    outcome: dict[str, Any] = {}

    def send() -> None:
        started = time.monotonic()
        try:
            outcome["response"] = requests.request(method, f"{site.url}/2000?id={marker}", timeout=CLIENT_TIMEOUT)
        except requests.RequestException as exc:
            outcome["response"] = exc
        outcome["elapsed"] = time.monotonic() - started

    client = threading.Thread(target=send)
    client.start()
    time.sleep(0.5)
    for app in site.pool("real"):
        app.kill()
    client.join(CLIENT_TIMEOUT + 2)
    assert not client.is_alive(), f"{method} did not finish"
    # nginx writes the access log line after the response.
    deadline = time.monotonic() + 5
    while not (lines := [line for line in site.nginx.access_log() if marker in line.request]):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return outcome["response"], outcome["elapsed"], lines


def test_5b_post_already_sent_to_a_dying_backend_is_not_retried(site: LoopbackSite, report):
    response, elapsed, lines = _request_while_real_pool_dies(site, "POST")
    status = getattr(response, "status_code", repr(response))
    summary = (
        f"5b POST in flight, real SIGKILL: client got {status} after {elapsed:.3f}s; "
        f"nginx sent it to {[list(line.upstreams) for line in lines]} "
        f"(upstream status {[list(line.upstream_statuses) for line in lines]})"
    )
    report(summary)

    # Retried, it would have reached a live backup task and come back 200.
    assert status == 502, summary
    assert len(lines) == 1, summary
    assert len(lines[0].upstreams) == 1 and lines[0].upstreams[0] in addresses(site, REAL_ADDRESSES), summary
    assert lines[0].upstream_statuses == ("502",), summary


def test_5b_control_get_in_flight_to_a_dying_backend_is_retried_on_backup(site: LoopbackSite, report):
    # The same situation for GET: what makes the POST above a 502 is only that it is POST.
    response, elapsed, lines = _request_while_real_pool_dies(site, "GET")
    status = getattr(response, "status_code", repr(response))
    name = response.headers.get("X-App-Name") if hasattr(response, "headers") else None
    summary = (
        f"5b control GET in flight, real SIGKILL: client got {status} from {name} after {elapsed:.3f}s; "
        f"nginx tried {[list(line.upstreams) for line in lines]}"
    )
    report(summary)

    assert status == 200 and pool_of_label(name or "") == "backup", summary
    assert len(lines) == 1 and lines[0].upstreams[0] in addresses(site, REAL_ADDRESSES), summary
    assert lines[0].upstreams[-1] in addresses(site, BACKUP_ADDRESSES), summary


# --- 6. every backend down -----------------------------------------------------------


def test_6a_all_backends_refusing_get_a_quick_502(site: LoopbackSite, report):
    connect_timeout = seconds(site.args.connect_timeout)
    for app in site.apps.values():
        app.kill()
    probe = start_load(site, slow_path=None)
    time.sleep(2.0)
    result = probe.stop()
    worst_ms = max(s.latency_ms for s in result.samples)
    direct = site.get("/")
    tally = Tally.of("6a all down (refused)", result, worst_latency_ms=worst_ms)
    line = report(tally)

    assert result.sent > 50 and result.ok == 0, line
    assert set(result.failures_by_kind) <= {"HTTP 502", "HTTP 503"}, line
    assert worst_ms < connect_timeout * 1000, line
    assert direct.status_code in (502, 503) and direct.headers.get("Server") == "nginx", direct.headers
    assert "Bad Gateway" in direct.text or "Service" in direct.text, direct.text


def test_6b_all_backends_unreachable_answer_within_the_connect_timeout_bound(site: LoopbackSite, report):
    # Vanished tasks: connects neither succeed nor get refused (SYNs dropped), which
    # without proxy_connect_timeout would hold each try for nginx's default 60 s.
    # Two passes at most: location / and, after its 502, @fresh_peers (the template's
    # one retry over a re-resolved task list), each bounded by tries x connect timeout.
    connect_timeout = seconds(site.args.connect_timeout)
    bound = 2 * min(site.args.next_upstream_tries * connect_timeout, seconds(site.args.next_upstream_timeout))
    for app in site.apps.values():
        app.kill()
    for address in REAL_ADDRESSES + BACKUP_ADDRESSES:
        site.blackhole(address)
    timings: list[tuple[int, float]] = []
    for _ in range(4):
        started = time.monotonic()
        response = site.get("/", timeout=30)
        timings.append((response.status_code, round(time.monotonic() - started, 3)))
    first_status, first_s = timings[0]
    summary = (
        f"6b all down (connects unanswered): first request {first_status} after {first_s:.3f}s "
        f"(bound: 2 passes x {site.args.next_upstream_tries} tries x {connect_timeout:g}s connect timeout"
        f" = {bound:g}s); "
        f"then {timings[1:]}"
    )
    report(summary)

    assert first_status in (502, 503, 504), summary
    assert connect_timeout * 0.9 <= first_s <= bound + 1.0, summary
    assert all(status in (502, 503, 504) and took <= bound + 1.0 for status, took in timings), summary


# --- the health endpoint -------------------------------------------------------------


def test_nginx_health_listens_on_loopback_only_and_the_public_port_does_not_serve_it(site: LoopbackSite):
    # The health check has its own listener on 127.0.0.1: no client can reach
    # it, and on the public port the path is just another path of the app.
    health = requests.get(f"http://127.0.0.1:{site.args.health_port}{site.args.health_path}", timeout=5)
    assert (health.status_code, health.text) == (200, "ok\n")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.9:{site.args.health_port}{site.args.health_path}", timeout=5)
    public = site.get(site.args.health_path)
    assert public.status_code == 404 and pool_of_label(public.headers["X-App-Name"]) == "real"
