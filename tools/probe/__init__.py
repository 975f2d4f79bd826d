"""Deploy probe: steady HTTP load that counts every dropped request and which pool answered.

Library use, for tests that load the app while something else (a rollout) happens:

    probe = Probe(ProbeOptions(url="http://127.0.0.1:8080/", concurrency=4, slow_path="/1000"))
    probe.start()
    ...  # the rollout
    result = probe.stop()
    assert result.failed == 0 and set(result.last(3).by_pool) == {"real"}
    print(format_summary(result))

CLI: python -m tools.probe --help
"""

# Each module imports only from modules below it here, so no import is circular
# or deferred: options, classify, websocket_client <- result (data) <- load,
# websockets (engines) <- report, chart (formatting) <- cli. tests/unit/tools/test_probe.py holds them to it.
from .cli import run_probe
from .load import Probe, Progress, check_reachable
from .options import DEFAULT_POOL_PATTERN, OptionError, ProbeOptions
from .report import format_summary
from .result import ProbeResult, Sample, Second

__all__ = [
    "DEFAULT_POOL_PATTERN",
    "OptionError",
    "Probe",
    "ProbeOptions",
    "ProbeResult",
    "Progress",
    "Sample",
    "Second",
    "check_reachable",
    "format_summary",
    "run_probe",
]
