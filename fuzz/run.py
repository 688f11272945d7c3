"""Fuzz journeymap: hostile journey files through the library and the real CLI.

    python fuzz/run.py --minutes 30 --seed 1 --jobs 2 --out /tmp/fuzz-findings

Loops until the time (or ``--count`` inputs) is up, then prints a summary and
exits 1 if anything was found. Each distinct bug is saved once under ``--out``
(shrunk to a small reproducer) with what broke and how to replay it:

    python fuzz/run.py --replay /tmp/fuzz-findings/01-crash-.../repro.yaml

Inputs depend only on (seed, index), so a run is reproducible input by input
whatever ``--jobs`` is; see fuzz/README.md for what is checked and why.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from fuzz.checks import CLI_TIMEOUT
from fuzz.inputs import FuzzInput, Source

WORKER = Path(__file__).resolve().parent / "worker.py"
LIB_TIMEOUT = 20.0
# Command sets for the inputs that also go through the CLI, taken in turn: every
# run of the CLI costs a Python start, so each input gets a few, all of them over time.
COMMAND_SETS = (
    ("validate", "analyze-json", "paths", "render-svg"),
    ("analyze-json", "paths-json", "render-dot"),
    ("validate", "analyze-table", "render-svg"),
    ("analyze-json", "paths", "report"),
)


@dataclass
class Job:
    item: FuzzInput
    path: Path
    commands: tuple[str, ...]
    deep: bool
    twice: bool
    lib: bool = True
    retried: bool = False

    def message(self) -> str:
        return json.dumps(
            {
                "index": self.item.index,
                "path": str(self.path),
                "name": self.path.name,
                "commands": list(self.commands),
                "deep": self.deep,
                "twice": self.twice,
                "lib": self.lib,
            }
        )

    def deadline_seconds(self) -> float:
        runs = len(self.commands) * (2 if self.twice else 1)
        return LIB_TIMEOUT * (3 if self.twice else 1) + runs * (CLI_TIMEOUT + 5)


class Worker:
    """One child running fuzz/worker.py; killed with its children at a time limit."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if not ready.startswith('{"ready"'):
            raise SystemExit("fuzz: the worker did not start (is journeymap installed?)")
        self.job: Job | None = None
        self.started = 0.0

    def send(self, job: Job) -> None:
        assert self.proc.stdin is not None
        self.job, self.started = job, time.monotonic()
        self.proc.stdin.write(job.message() + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any] | None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.job = None
        return json.loads(line) if line else None

    def kill(self) -> int | None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return self.proc.returncode

    def ask(self, job: Job, timeout: float | None = None) -> dict[str, Any] | None:
        """One job, waiting for it; None when the worker hung or died on it."""
        self.send(job)
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(job.deadline_seconds() if timeout is None else timeout)
        sel.close()
        return self.receive() if ready else None


@dataclass
class Stats:
    tried: Counter[str] = field(default_factory=Counter)
    loaded: Counter[str] = field(default_factory=Counter)
    cli_inputs: Counter[str] = field(default_factory=Counter)
    cli_runs: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)
    slowest: tuple[float, str] = (0.0, "")
    slowest_cli: tuple[float, str] = (0.0, "")
    peak_lib_kb: int = 0
    peak_cli_kb: int = 0


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.source = Source(args.seed, quick=args.quick)
        self.stats = Stats()
        self.findings: dict[str, dict[str, Any]] = {}
        self.out = Path(args.out)
        self.tmp = Path(tempfile.mkdtemp(prefix="journeymap-fuzz-"))
        self.cli_count = 0

    # Inputs ---------------------------------------------------------------------------

    def job_for(self, index: int) -> Job:
        try:
            item = self.source.make(index)
        except Exception as exc:  # the harness's own bug: a finding, not the end of the run
            import traceback

            frame = traceback.extract_tb(exc.__traceback__)[-1]
            sig = f"harness|{type(exc).__name__}@{Path(frame.filename).name}:{frame.lineno}"
            self.stats.hits[sig] += 1
            if sig not in self.findings:
                self.findings[sig] = {
                    "kind": "harness-error",
                    "where": "fuzz/inputs.py",
                    "detail": traceback.format_exc(),
                    "sig": sig,
                    "index": index,
                }
                print(f"fuzz: #{index} harness error: {exc!r} (see --replay)", file=sys.stderr)
            item = FuzzInput(index, "text", "input.yaml", b"journey: x\n", f"harness error {sig}")
        where = self.tmp / str(index)
        where.mkdir()
        path = where / item.name
        path.write_bytes(item.data)
        a = self.args
        commands: tuple[str, ...] = ()
        if a.cli_every and self._picked(index, a.cli_every):
            commands = COMMAND_SETS[(index // a.cli_every) % len(COMMAND_SETS)]
        deep = bool(a.deep_every) and self._picked(index + 3, a.deep_every)
        twice = bool(a.twice_every) and self._picked(index + 5, a.twice_every)
        return Job(item, path, commands, deep, twice)

    @staticmethod
    def _picked(index: int, every: int) -> bool:
        """One index in each block of ``every``, its offset turning with the block, so
        that the picked inputs are of every kind (kinds follow ``index % 4``)."""
        if every < 4:
            return index % every == 0
        block, offset = divmod(index, every)
        base = every - 4
        return offset == base + (block - every * block - base) % 4

    # Results --------------------------------------------------------------------------

    def record(self, job: Job, result: dict[str, Any] | None, why: str = "") -> None:
        item, st = job.item, self.stats
        st.tried[item.kind] += 1
        if job.commands:
            st.cli_inputs[item.kind] += 1
        if result is None:
            finding = {
                "kind": "hang" if why == "timeout" else "crash",
                "where": "lib",
                "detail": why,
                "sig": f"worker|{why}",
            }
            self.found(job, [finding])
        else:
            st.loaded[item.kind] += bool(result["loaded"])
            seconds = result["lib_seconds"] + sum(t for _, t, _ in result["cli"])
            if seconds > st.slowest[0]:
                st.slowest = (seconds, f"#{item.index} {item.kind} ({item.note[:60]})")
            st.peak_lib_kb = max(st.peak_lib_kb, result["lib_peak_kb"])
            for cmd, t, rss in result["cli"]:
                st.cli_runs[item.kind] += 1
                st.peak_cli_kb = max(st.peak_cli_kb, rss)
                if t > st.slowest_cli[0]:
                    st.slowest_cli = (t, f"{cmd} on #{item.index} {item.kind}")
            self.found(job, result["findings"])
        shutil.rmtree(job.path.parent, ignore_errors=True)

    def found(self, job: Job, findings: list[dict[str, Any]]) -> None:
        for f in findings:
            self.stats.hits[f["sig"]] += 1
            if f["sig"] in self.findings:
                continue
            f = {**f, "index": job.item.index, "input_kind": job.item.kind, "note": job.item.note}
            self.findings[f["sig"]] = f
            if not self.args.quiet:
                print(
                    f"fuzz: #{job.item.index} {f['kind']} in {f['where']}: {f['detail'].splitlines()[0][:150]}",
                    file=sys.stderr,
                )
            self.save(job, f)

    def save(self, job: Job, f: dict[str, Any]) -> None:
        n = len(self.findings)
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", f"{f['kind']}-{f['where']}-{f['sig'].split('|')[-1]}")[
            :70
        ].strip("-")
        d = self.out / f"{n:02d}-{slug}"
        d.mkdir(parents=True, exist_ok=True)
        suffix = job.path.suffix
        (d / f"original{suffix}").write_bytes(job.item.data)
        data = job.item.data
        if self.args.minimize and f["sig"] != "worker|timeout":
            data = self.minimize(job, f)
        repro = d / f"repro{suffix}"
        repro.write_bytes(data)
        f["repro"] = str(repro)
        cmd = f["where"].split(":")[1] if f["where"].startswith("cli:") else "lib"
        (d / "finding.txt").write_text(
            f"{f['kind']} in {f['where']}\nsignature: {f['sig']}\n"
            f"input: seed {self.args.seed}, index {f['index']}, {f['input_kind']}: {f['note']}\n"
            f"replay: python fuzz/run.py --replay {repro}"
            + (f" --cli {cmd}" if cmd != "lib" else "")
            + f"\n\n{f['detail']}\n",
            "utf-8",
        )

    # Shrinking ------------------------------------------------------------------------

    def minimize(self, job: Job, f: dict[str, Any]) -> bytes:
        """Delta debugging over lines, then bytes, while the same signature still shows.

        Bounded by --minimize-seconds: a reproducer a few lines long is the goal, not
        the smallest possible one.
        """
        cli = f["where"].startswith("cli:")
        commands = (f["where"].split(":")[1],) if cli else ()
        deep = f["where"] in ("lib:render-svg", "lib:report_html")
        twice = f["kind"] == "nondeterministic"
        deadline = time.monotonic() + self.args.minimize_seconds
        worker = Worker()
        probe_dir = self.tmp / "minimize"

        def still(data: bytes) -> bool:
            if time.monotonic() > deadline:
                return False
            shutil.rmtree(probe_dir, ignore_errors=True)
            probe_dir.mkdir()
            path = probe_dir / job.path.name
            path.write_bytes(data)
            probe = Job(job.item, path, commands, deep, twice, lib=not cli)
            # A probe may hang (that can be the bug); it gets what is left of the budget.
            result = nonlocal_worker[0].ask(probe, max(1.0, deadline - time.monotonic()))
            if result is None:
                nonlocal_worker[0].kill()
                nonlocal_worker[0] = Worker()
                return f["kind"] in ("hang", "crash") and f["where"] == "lib"
            return any(g["sig"] == f["sig"] for g in result["findings"])

        nonlocal_worker = [worker]
        data = job.item.data
        try:
            for split in (lambda b: b.splitlines(keepends=True), lambda b: [bytes([c]) for c in b]):
                parts = split(data)
                if len(parts) > 20_000:
                    continue
                chunk = max(1, len(parts) // 2)
                while chunk >= 1 and time.monotonic() < deadline:
                    k, changed = 0, False
                    while k < len(parts) and time.monotonic() < deadline:
                        trial = parts[:k] + parts[k + chunk :]
                        if trial and still(b"".join(trial)):
                            parts, changed = trial, True
                        else:
                            k += chunk
                    if not changed:
                        chunk //= 2
                data = b"".join(parts)
        finally:
            nonlocal_worker[0].kill()
            shutil.rmtree(probe_dir, ignore_errors=True)
        return data

    # The loop ------------------------------------------------------------------------

    def run(self) -> int:
        a = self.args
        end = time.monotonic() + a.minutes * 60
        workers = [Worker() for _ in range(a.jobs)]
        sel = selectors.DefaultSelector()
        for w in workers:
            assert w.proc.stdout is not None
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        index = a.start
        stop = a.start + a.count if a.count else None
        try:
            while True:
                more = time.monotonic() < end and (stop is None or index < stop)
                for w in workers:
                    if w.job is None and more:
                        w.send(self.job_for(index))
                        index += 1
                        more = time.monotonic() < end and (stop is None or index < stop)
                busy = [w for w in workers if w.job is not None]
                if not busy:
                    break
                now = time.monotonic()
                wait = min(w.started + w.job.deadline_seconds() - now for w in busy if w.job)
                for key, _ in sel.select(max(0.0, wait)):
                    w = key.data
                    job = w.job
                    assert job is not None
                    result = w.receive()
                    if result is None:
                        code = w.kill()
                        self.record(job, None, f"worker died (exit {code})")
                        self.replace(sel, workers, w)
                    else:
                        self.record(job, result)
                for w in list(workers):
                    if (
                        w.job is not None
                        and time.monotonic() > w.started + w.job.deadline_seconds()
                    ):
                        job = w.job
                        w.kill()
                        new = self.replace(sel, workers, w)
                        if job.retried:
                            self.record(job, None, "timeout")
                        else:  # a shared machine can stall: a hang must happen twice
                            job.retried = True
                            new.send(job)
        finally:
            for w in workers:
                w.kill()
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.summary()
        return 1 if self.findings else 0

    def replace(self, sel: selectors.BaseSelector, workers: list[Worker], old: Worker) -> Worker:
        assert old.proc.stdout is not None
        sel.unregister(old.proc.stdout)
        new = Worker()
        assert new.proc.stdout is not None
        sel.register(new.proc.stdout, selectors.EVENT_READ, new)
        workers[workers.index(old)] = new
        return new

    def summary(self) -> None:
        st = self.stats
        kinds = Source.KINDS
        print(f"{'input kind':<12}{'tried':>8}{'loaded':>8}{'via CLI':>9}{'CLI runs':>10}")
        for k in kinds:
            print(
                f"{k:<12}{st.tried[k]:>8}{st.loaded[k]:>8}{st.cli_inputs[k]:>9}{st.cli_runs[k]:>10}"
            )
        total = [sum(c.values()) for c in (st.tried, st.loaded, st.cli_inputs, st.cli_runs)]
        print(f"{'total':<12}{total[0]:>8}{total[1]:>8}{total[2]:>9}{total[3]:>10}")
        print(
            f"strategies:   {'tests/strategies.py' if self.source.strategy_used else 'fuzz/inputs.py generator'}"
        )
        print(f"slowest input: {st.slowest[0]:.2f} s  {st.slowest[1]}")
        print(f"slowest CLI run: {st.slowest_cli[0]:.2f} s  {st.slowest_cli[1]}")
        print(
            f"peak RSS: library {st.peak_lib_kb / 1024:.0f} MB, CLI {st.peak_cli_kb / 1024:.0f} MB"
        )
        print(f"findings: {len(self.findings)} distinct, {sum(st.hits.values())} hits")
        for f in sorted(self.findings.values(), key=lambda f: (f["kind"], f["where"], f["sig"])):
            first = f["detail"].splitlines()[0] if f["detail"] else ""
            print(f"  {f['kind']:<16} {f['where']:<22} x{st.hits[f['sig']]:<5} {first[:110]}")
            if "repro" in f:
                print(f"  {'':<16} {f['repro']}")


def replay(args: argparse.Namespace) -> int:
    """Check one file as the harness would, and print what breaks."""
    path = Path(args.replay).resolve()
    work = Path(tempfile.mkdtemp(prefix="journeymap-replay-"))
    try:
        copy = work / path.name
        copy.write_bytes(path.read_bytes())
        item = FuzzInput(-1, "replay", path.name, copy.read_bytes(), str(path))
        commands = tuple(args.cli) if args.cli else ()
        job = Job(item, copy, commands, deep=True, twice=True)
        worker = Worker()
        result = worker.ask(job)
        worker.kill()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if result is None:
        print("hang or crash: the worker gave no answer")
        return 1
    for f in result["findings"]:
        print(f"{f['kind']} in {f['where']}: {f['detail']}\n")
    print(f"{len(result['findings'])} findings")
    return 1 if result["findings"] else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=1.0, help="time budget (default 1)")
    p.add_argument("--count", type=int, default=0, help="stop after this many inputs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=int, default=0, help="first input index (to resume a seed)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--out", default="/tmp/fuzz-findings", help="where reproducers go")
    p.add_argument("--cli-every", type=int, default=10, help="every Nth input also runs the CLI")
    p.add_argument(
        "--deep-every", type=int, default=8, help="every Nth input is rendered + reported"
    )
    p.add_argument(
        "--twice-every", type=int, default=25, help="every Nth input is checked for same bytes"
    )
    p.add_argument("--minimize", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--minimize-seconds", type=float, default=20.0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--quick", action="store_true", help="no multi-second inputs (for the test suite)"
    )
    p.add_argument("--replay", metavar="FILE", help="check one file and print its findings")
    p.add_argument("--cli", action="append", help="with --replay: a CLI check to run too")
    args = p.parse_args(argv)
    if args.replay:
        return replay(args)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    return Harness(args).run()


if __name__ == "__main__":
    sys.exit(main())
