"""Time journeymap as users run it: whole processes, against a baseline in the same run.

    python benchmarks/run.py            # everything (a few minutes)
    python benchmarks/run.py --quick    # without the 100,000-touchpoint journey
    python benchmarks/run.py --paths    # only the path search's hard cases (issue #12)

Machines here are noisy, so every figure is the median of a few runs and the
targets are ratios against a bare ``yaml.load(..., Loader=yaml.CSafeLoader)``
of the same file, measured in the same run. Peak memory is the process's
maximum resident set. Generated journeys go to benchmarks/data/ (not committed).
The naive networkx enumeration of simple paths is timed beside ``paths
--limit 20`` for scale: it is cut off after a time limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
PY = sys.executable
JM = [PY, "-m", "journeymap"]


def ensure(name: str, touchpoints: int, transitions: int) -> Path:
    path = DATA / name
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        subprocess.run(
            [PY, str(HERE / "generate.py"), "--touchpoints", str(touchpoints),
             "--transitions", str(transitions), "-o", str(path)],
            check=True,
        )  # fmt: skip
    return path


def measure(
    cmd: list[str], repeat: int, timeout: float | None = None, status: int = 0
) -> tuple[float, float, bool]:
    """Median wall time (s), peak memory (MB) and whether it finished in time.

    ``status`` is the exit status expected (1 for a file that must be refused).
    """
    import tempfile

    times: list[float] = []
    peak = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        # stderr to a file: a child reporting 50,000 problems would fill a pipe and wait.
        with tempfile.TemporaryFile() as err_file:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, cwd=ROOT)
            timer = threading.Timer(timeout, proc.kill) if timeout else None
            if timer:
                timer.start()
            # wait4, not Popen.wait: it also gives the child's own peak memory.
            _, wait_status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - start)
            proc.returncode = os.waitstatus_to_exitcode(wait_status)
            if timer:
                timer.cancel()
            peak = max(peak, usage.ru_maxrss / 1024)
            if timeout and proc.returncode == -9:
                return times[-1], peak, False
            err_file.seek(0)
            err = err_file.read().decode("utf-8", "replace")
        if proc.returncode != status or "Traceback" in err:
            raise SystemExit(f"failed (status {proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return statistics.median(times), peak, True


def dense(touchpoints: int) -> Path:
    """Issue #12: an entry, then touchpoints that all lead to each other, each with a
    0.02 way back to the entry: (n - 1)! simple paths, none of them lost but one."""
    path = DATA / f"dense{touchpoints}.yaml"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        others = [f"t{i}" for i in range(1, touchpoints)]
        each = 0.98 / (len(others) - 1)
        lines = ["journey: dense", "stages: [s]", "touchpoints:", "  - id: e", "    stage: s"]
        lines.append("    next: [{to: lost, probability: 0.4}, " + ", ".join(others) + "]")
        for o in others:
            nxt = [f"{{to: {t}, probability: {each!r}}}" for t in others if t != o]
            lines += [f"  - id: {o}", "    stage: s", f"    next: [{', '.join(nxt)}, {{to: e, probability: 0.02}}]"]  # fmt: skip
        lines += [
            "outcomes: [{id: lost, result: lost}, {id: won, result: success}]",
            "entries: [e]",
        ]
        path.write_text("\n".join(lines) + "\n")
    return path


def diamonds(count: int) -> Path:
    """Issue #12: a chain of two-way choices (0.99 / 0.01), then won or lost 50:50."""
    path = DATA / f"diamonds{count}.yaml"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        lines = ["journey: chain", "stages: [s]", "touchpoints:"]
        for i in range(count):
            d, nxt = f"d{i:05d}", f"d{i + 1:05d}" if i + 1 < count else "z"
            lines += [f"  - {{id: {d}, stage: s, next: [{{to: {d}-b, probability: 0.99}}, {{to: {d}-c, probability: 0.01}}]}}"]  # fmt: skip
            lines += [f"  - {{id: {d}-b, stage: s, next: [{nxt}]}}", f"  - {{id: {d}-c, stage: s, next: [{nxt}]}}"]  # fmt: skip
        lines.append("  - {id: z, stage: s, next: [{to: won, probability: 0.5}, {to: lost, probability: 0.5}]}")  # fmt: skip
        lines += ["outcomes: [{id: won, result: success}, {id: lost, result: lost}]", "entries: [d00000]"]  # fmt: skip
        path.write_text("\n".join(lines) + "\n")
    return path


def misspelt(count: int) -> Path:
    """Issue #12: every touchpoint leads to a misspelt id ("did you mean" for each)."""
    path = DATA / f"misspelt{count}.yaml"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        tps = [f"  - {{id: t{i}, stage: s, next: [t{i + 1}x]}}" for i in range(count)]
        path.write_text("journey: x\nstages: [s]\ntouchpoints:\n" + "\n".join(tps) + "\n")
    return path


def unknown_keys(count: int) -> Path:
    """Issue #12: one touchpoint with tens of thousands of unknown keys, each placed."""
    path = DATA / f"keys{count}.yaml"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        keys = "".join(f"  k{i}: 1\n" for i in range(count))
        path.write_text("journey: x\nstages: [s]\ntouchpoints:\n- id: a\n  stage: s\n" + keys)
    return path


def many_outcomes(count: int) -> Path:
    """Issue #12: the candidate example with `count` more outcomes, each reached."""
    import yaml

    path = DATA / f"outcomes{count}.yaml"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        data = yaml.safe_load((ROOT / "journeys" / "candidate.yaml").read_text())
        tps = data["touchpoints"]
        for i in range(count):
            data["outcomes"].append({"id": f"extra-{i}", "result": "lost"})
            tps[i % len(tps)].setdefault("next", []).append(f"extra-{i}")
        for tp in tps:  # unnumbered now, so the shares stay valid
            tp["next"] = [t if isinstance(t, str) else t["to"] for t in tp.get("next", [])]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


NAIVE = """
import sys, time, yaml, networkx as nx
data = yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)
g = nx.DiGraph()
for tp in data["touchpoints"]:
    for t in tp.get("next", []):
        g.add_edge(tp["id"], t if isinstance(t, str) else t["to"])
lost = [o["id"] for o in data["outcomes"] if o["result"] == "lost"]
n = 0
for path in nx.all_simple_paths(g, data["entries"][0], lost):
    n += 1
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the 100,000-touchpoint journey")
    ap.add_argument(
        "--hostile", action="store_true", help="only the hard and hostile cases of issue #12"
    )
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    r = a.repeat
    big = ensure("t10k.yaml", 10_000, 35_000)
    mid = ensure("t1k.yaml", 1_000, 3_500)
    rows: list[tuple[str, float, float, bool]] = []

    def run(
        label: str,
        cmd: list[str],
        repeat: int = r,
        timeout: float | None = None,
        status: int = 0,
    ) -> float:
        seconds, mb, done = measure(cmd, repeat, timeout, status)
        rows.append((label, seconds, mb, done))
        print(f"  {label}: {seconds:.2f} s", file=sys.stderr)
        return seconds

    # Start-up is measured as users see it after their first run or a pip install: with
    # the bytecode compiled. (An editable install under PYTHONDONTWRITEBYTECODE would
    # recompile every module at every start, 70 ms.)
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "journeymap")], check=True)
    print("measuring (each the median of several whole-process runs)...", file=sys.stderr)
    load = "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"
    base = run("baseline: yaml.load (CSafeLoader) of the 10k file", [PY, "-c", load, str(big)])
    d13, chain = dense(13), diamonds(8000)
    run("journeymap paths dense 13 (12! paths) --limit 2", [*JM, "paths", str(d13), "--limit", "2"])
    run(
        "journeymap paths dense 13 (12! paths) --limit 20",
        [*JM, "paths", str(d13), "--limit", "20"],
    )
    run(
        "journeymap validate chain of 8,000 diamonds (loading alone)", [*JM, "validate", str(chain)]
    )
    for to, k in (("success", "1"), ("success", "20"), ("lost", "20")):
        run(f"journeymap paths chain of 8,000 diamonds --to {to} --limit {k}", [*JM, "paths", str(chain), "--to", to, "--limit", k])  # fmt: skip
    run("journeymap analyze chain of 30,000 diamonds", [*JM, "analyze", str(diamonds(30_000))])
    run("journeymap validate 4,000 misspelt ids (refused)", [*JM, "validate", str(misspelt(4000))], status=1)  # fmt: skip
    run("journeymap validate 50,000 unknown keys (refused)", [*JM, "validate", str(unknown_keys(50_000))], status=1)  # fmt: skip
    out = str(DATA / "out")
    run("journeymap render candidate + 500 outcomes (SVG)", [*JM, "render", str(many_outcomes(500)), "-o", out], 1)  # fmt: skip
    if a.hostile:
        report(rows, base)
        return
    run("journeymap analyze 10k (YAML, 2.8 MB; time and fix first included)", [*JM, "analyze", str(big), "--format", "json"])  # fmt: skip
    run("journeymap paths 10k --to lost --limit 20", [*JM, "paths", str(big), "--limit", "20"])
    run("journeymap validate 10k", [*JM, "validate", str(big)])
    run("journeymap render 1k (SVG)", [*JM, "render", str(mid), "-o", str(DATA / "out")], 1)
    run("naive networkx all_simple_paths 10k (cut at 60 s)", [PY, "-c", NAIVE, str(big)], 1, 60)
    if not a.quick:
        huge = ensure("t100k.json", 100_000, 1_000_000)
        run("journeymap analyze 100k/1M (JSON, 47 MB; time and fix first included)", [*JM, "analyze", str(huge), "--format", "json"])  # fmt: skip
    examples = ROOT / "journeys"
    run("journeymap analyze journeys/ (examples)", [*JM, "analyze", str(examples)])
    run("journeymap paths journeys/ (examples, all lost paths)", [*JM, "paths", str(examples)])
    run("journeymap --help", [*JM, "--help"])

    report(rows, base)


def report(rows: list[tuple[str, float, float, bool]], base: float) -> None:
    print("\n| case | seconds | x baseline | peak MB |")
    print("|---|---:|---:|---:|")
    for label, seconds, mb, done in rows:
        shown = f"{seconds:.2f}" if done else f"> {seconds:.0f} (cut)"
        print(f"| {label} | {shown} | {seconds / base:.2f} | {mb:.0f} |")


if __name__ == "__main__":
    main()
