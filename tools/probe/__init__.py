"""Deploy probe: steady HTTP load that counts every dropped request and which pool answered.

Library use, for tests that load the app while something else (a rollout) happens:

    probe = Probe(ProbeOptions(url="http://127.0.0.1:8080/", concurrency=4, slow_path="/1000"))
    probe.start()
    ...  # the rollout
    result = probe.stop()
    assert result.failed == 0 and set(result.last(3).by_pool) == {"real"}

CLI: python -m tools.probe --help
"""

from .load import Probe, Progress, check_reachable, run_probe
from .options import DEFAULT_POOL_PATTERN, OptionError, ProbeOptions
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
    "run_probe",
]
