"""Command line (python -m tools.probe URL --duration S --concurrency N ...) and the timed run behind it."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from .chart import ChartUnavailable, require_matplotlib, write_chart
from .load import Probe, check_reachable
from .options import DEFAULT_POOL_PATTERN, DEFAULT_SLOW_SHARE, METHODS, OptionError, ProbeOptions, is_positive
from .report import format_progress, format_summary, format_totals
from .result import ProbeResult
from .websockets import WebSocketOptions, WebSocketWatch, format_websockets

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
PROGRESS_INTERVAL_S = 0.5

DESCRIPTION = """\
Steady HTTP load beside a deploy: counts every dropped request and shows
which pool answered, second by second."""

EPILOG = f"""\
Slow requests: with --slow-path, a share of the workers (--slow-share, default
{DEFAULT_SLOW_SHARE:g}, at least one) sends every request to that path instead of URL's
path and query, so a slow request is always in flight while the other workers
measure fast traffic. E.g. --concurrency 4 --slow-path /1000 gives 1 slow worker.

Pools: the pool that answered a successful request is capture group 1 (the whole
match if there is no group) of --pool-pattern searched in the body, or in the
value of --pool-header NAME. Answers matching nothing count as pool "unknown".

Failures: connection refused, connection reset, connect timeout (no
connection within --timeout), read timeout (a connection, no answer within
--timeout), other connection error, and every HTTP status >= 400 by code.
Latency percentiles cover successful requests. Ctrl-C ends the run early and
still reports.

WebSockets: with --websocket /PATH, --websockets N connections (default 4) to
that path on URL's host are held open beside the load, each pinged every 0.5 s;
when one ends it is reopened at once. The summary counts the new connections
that failed to open, and how held ones ended: "closed <code>" (the server's
close frame: 1001 is an app draining), "dropped" (no close frame), "reset",
"unanswered" (no pong within --timeout). Failed opens and connections ended
without a close frame count as failures.

Exit status: 0 when failures <= --max-failures, 1 when more, 2 for a bad
argument or a URL that cannot be reached before the load starts."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.slow_share is not None and args.slow_path is None:
        parser.error("argument --slow-share: needs --slow-path")
    try:
        options = ProbeOptions(
            url=args.url,
            concurrency=args.concurrency,
            rate=args.rate,
            slow_path=args.slow_path,
            slow_share=DEFAULT_SLOW_SHARE if args.slow_share is None else args.slow_share,
            method=args.method,
            timeout=args.timeout,
            pool_pattern=args.pool_pattern,
            pool_header=args.pool_header,
            ca_file=args.ca_file,
        )
        websockets = (
            None
            if args.websocket is None
            else WebSocketOptions(
                _with_path(args.url, args.websocket), args.websockets, timeout=args.timeout, ca_file=args.ca_file
            )
        )
        if args.chart:
            require_matplotlib()
    except OptionError as exc:
        parser.error(f"argument {'URL' if exc.option == 'url' else '--' + exc.option.replace('_', '-')}: {exc.reason}")
    except ChartUnavailable as exc:
        parser.error(f"argument {exc}")

    unreachable = check_reachable(options)
    if unreachable is not None:
        print(f"probe: cannot reach URL {options.url}: {unreachable}", file=sys.stderr)
        return EXIT_USAGE

    live = sys.stderr if sys.stderr.isatty() and not args.quiet else None
    watch = None if websockets is None else WebSocketWatch(websockets)
    if watch is not None:
        watch.start()
    result = run_probe(options, args.duration, progress=live)
    print(format_totals(result) if args.quiet else format_summary(result))
    failures, report = result.failed, result.to_dict()
    if watch is not None:
        held = watch.stop()
        print(format_websockets(held))
        failures += len(held.failed_opens) + held.dropped
        report["websockets"] = held.to_dict()
    try:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        if args.chart:
            write_chart(result, args.chart)
    except OSError as exc:
        print(f"probe: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK if failures <= args.max_failures else EXIT_FAILURES


def _with_path(url: str, path: str) -> str:
    if not path.startswith("/"):
        raise OptionError("websocket", f"must start with '/', got {path!r}")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


# Here rather than in the load engine because the progress line is text for a
# terminal: the engine stays below the formatting it would otherwise need.
def run_probe(options: ProbeOptions, duration: float, progress: TextIO | None = None) -> ProbeResult:
    """Load for `duration` seconds, refreshing a progress line on `progress` if given.

    Ctrl-C ends the run early and returns what was measured until then.
    """
    if not is_positive(duration):
        raise OptionError("duration", f"must be a number greater than 0, got {duration:g}")
    probe = Probe(options)
    probe.start()
    deadline = time.monotonic() + duration
    try:
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(PROGRESS_INTERVAL_S, left))
            if progress is not None:
                progress.write("\r" + format_progress(probe.progress()) + "\033[K")
                progress.flush()
    except KeyboardInterrupt:
        pass
    if progress is not None:
        progress.write("\r\033[K")
        progress.flush()
    return probe.stop()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.probe",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", metavar="URL", help="http:// or https:// URL to load")
    parser.add_argument("--duration", type=_positive, required=True, metavar="S", help="seconds of load")
    parser.add_argument(
        "--concurrency",
        type=int,
        required=True,
        metavar="N",
        help="worker threads, each with its own keep-alive session",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="cap on total requests/s, evenly paced (default: each worker back-to-back)",
    )
    parser.add_argument("--slow-path", metavar="/PATH", help="path for the slow workers, e.g. /1000 (see below)")
    parser.add_argument(
        "--slow-share",
        type=float,
        metavar="F",
        help=f"share of workers on --slow-path, 0 < F <= 1 (default {DEFAULT_SLOW_SHARE:g})",
    )
    parser.add_argument(
        "--method", type=str.upper, default="GET", metavar="|".join(METHODS), help="HTTP method (default GET)"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="per-request connect and read timeout (default 5)"
    )
    parser.add_argument(
        "--pool-pattern",
        default=DEFAULT_POOL_PATTERN,
        metavar="REGEX",
        help=f"regex naming the pool that answered (default {DEFAULT_POOL_PATTERN})",
    )
    parser.add_argument(
        "--pool-header", metavar="NAME", help="match --pool-pattern against this response header instead of the body"
    )
    parser.add_argument("--ca-file", metavar="PEM", help="verify an https:// URL against this CA certificate")
    parser.add_argument("--websocket", metavar="/PATH", help="hold WebSockets open to this path (see below)")
    parser.add_argument(
        "--websockets", type=int, default=4, metavar="N", help="WebSockets held with --websocket (default 4)"
    )
    parser.add_argument("--json", type=_writable, metavar="FILE", help="write the full result as JSON")
    parser.add_argument(
        "--chart", type=_writable, metavar="FILE.png", help="draw the per-second timeline (needs matplotlib)"
    )
    parser.add_argument(
        "--max-failures",
        type=_non_negative_int,
        default=0,
        metavar="K",
        help="failures tolerated before exit status 1 (default 0)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live progress line; print only the totals")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not is_positive(value):
        raise argparse.ArgumentTypeError(f"must be a number greater than 0, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, got {text!r}")
    return int(text)


def _writable(text: str) -> str:
    # Checked up front so a long run is not lost to a typo in the output path.
    if not Path(text).resolve().parent.is_dir():
        raise argparse.ArgumentTypeError(f"directory of {text!r} does not exist")
    return text
