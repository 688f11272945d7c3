"""A child that checks inputs: one JSON job per line in, one JSON result per line out.

The checks run in a child, not in the harness, because the bugs we hunt can hang
in C code (the YAML parser, Graphviz), die of a signal or eat the memory: the
harness kills a worker at the time limit and starts another, and its address
space is capped like a user's would be by ``ulimit -v``.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fuzz.checks import MEMORY_LIMIT, Finding, check_cli, check_library


def _reset_peak() -> None:
    """Linux resets VmHWM on writing 5 to clear_refs: the peak of each input, not the worker's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def handle(job: dict[str, Any]) -> dict[str, Any]:
    path = Path(job["path"])
    _reset_peak()
    start = time.monotonic()
    found: list[Finding] = []
    loaded = False
    if job.get("lib", True):
        found, loaded = check_library(path, job["name"], job["deep"], job["twice"])
    lib_seconds = time.monotonic() - start
    peak = _peak_kb()
    timing: list[tuple[str, float, int]] = []
    if job["commands"]:
        cli_found, timing = check_cli(path, job["name"], path.parent, job["commands"], job["twice"])
        found += cli_found
    return {
        "index": job["index"],
        "loaded": loaded,
        "findings": [f.to_dict() for f in found],
        "lib_seconds": lib_seconds,
        "lib_peak_kb": peak,
        "cli": timing,
    }


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # The protocol gets its own descriptor; whatever the library prints goes nowhere.
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    # Import before the first job, so its time limit measures the checks, not the imports.
    import journeymap.analysis
    import journeymap.report  # noqa: F401

    channel.write('{"ready": true}\n')
    for line in sys.stdin:
        channel.write(json.dumps(handle(json.loads(line))) + "\n")


if __name__ == "__main__":
    main()
