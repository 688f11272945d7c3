"""Time ``journeymap discover`` on real and large event logs, beside PM4Py in the same run.

    python benchmarks/logs.py                  # the table and the agreement check
    python benchmarks/logs.py --no-20m         # without the 20,000,000-event Parquet
    python benchmarks/logs.py --agree-only     # only the agreement check
    python benchmarks/logs.py --data DIR       # the PM4Py logs are in DIR (no download)
    python benchmarks/logs.py --fast-pm4py     # also PM4Py with r4pm (XES) and polars (CSV)

Rows (targets of issue #11): ``bpic2012.xes.gz`` (262,200 events, 74 MB of XES):
journeymap at most 1/2 of PM4Py's time; a 1,048,800-event CSV (bpic2012 four
times over, with new case ids): at most 1/3; a 20,000,000-event Parquet log
(2,000,000 cases of 10 events over 50 activities): journeymap alone, peak memory
under 2 GiB. Every figure is a whole process (start-up and imports included),
the median of a few runs; the ratio compares the two tools in the same run, since
machines here are noisy. Peak memory is the child's maximum resident set.

PM4Py is AGPL-3.0: it runs as a peer in a throwaway virtual environment
(benchmarks/data/pm4py-venv, made on first use: ``pip install pm4py==2.7.23.11``), never
imported by journeymap; benchmarks/pm4py_peer.py is what it runs. The agreement
check (not timed) compares what journeymap wrote (touchpoint volumes, transition
volumes and waits, entry volumes, drop-off = volume - sum of the transitions)
with PM4Py's event counts, ``discover_dfg`` and median ``discover_performance_dfg``.

The logs come from PM4Py's repository at a pinned commit, downloaded into
benchmarks/data/pm4py-logs/ and checked against the SHA-256 sums below; where
GitHub cannot be reached, put the files there yourself (or in ``--data DIR``):
``git show 0a56171c:tests/input_data/NAME`` in a clone of
https://github.com/process-intelligence-solutions/pm4py. Generated logs go to
benchmarks/data/ (not committed).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
PY = sys.executable
JM = [PY, "-m", "journeymap"]

PM4PY_VERSION = "2.7.23.11"  # the version measured; change it on purpose
PM4PY_COMMIT = "0a56171c2b51efa9d409a84b16b00c9a2a791e15"  # 2025-02-04
RAW = f"https://raw.githubusercontent.com/process-intelligence-solutions/pm4py/{PM4PY_COMMIT}/tests/input_data/"  # fmt: skip
#: The logs taken from PM4Py's repository (tests/input_data/), with their SHA-256.
LOGS = {
    "bpic2012.xes.gz": "fdc916898cd56f0fb65f0c6c2f69140e6345fe9fc8be2ef1dde0647107db050b",
    "receipt.csv": "8d00a7d15e02796ae262336d304a7265a158956e8914aeb8ee2242f37d778854",
    "running-example.xes": "663cd7b1da01cd024291e527a46079e0e7676fcf3a81ca8f5dee070b073c5df9",
}
GIB = 1024.0  # MiB
FAST_PACKAGES = ["r4pm==0.6.2", "polars==2.1.0", "pyarrow==26.0.1"]  # the versions measured


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def real_log(name: str, data: Path | None) -> Path:
    """A log of PM4Py's repository: from ``--data``, or downloaded once and checked."""
    want = LOGS[name]
    if data is not None:
        path = data / name
        if not path.exists():
            raise SystemExit(f"{path} is missing (see the top of benchmarks/logs.py)")
    else:
        path = DATA / "pm4py-logs" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"downloading {name} from PM4Py's repository...", file=sys.stderr)
            try:
                with urllib.request.urlopen(RAW + name, timeout=60) as r:
                    body = r.read()
            except OSError as e:
                raise SystemExit(
                    f"cannot download {RAW + name}: {e}\nPut the file in {path.parent} yourself"
                    " (see the top of benchmarks/logs.py), or pass --data DIR."
                ) from None
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(body)
            tmp.replace(path)
    got = sha256(path)
    if got != want:
        raise SystemExit(f"{path}: SHA-256 {got}, expected {want} (not the file measured)")
    return path


# --- generated logs -------------------------------------------------------------------


def xes_events(path: Path) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """The traces of an XES file: (case id, [(activity, time, lifecycle, resource)]).

    Streamed with expat; only the attributes a CSV export would keep. The time
    is the XES text as written (ISO 8601 with its UTC offset).
    """
    import xml.parsers.expat

    traces: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    state: dict[str, Any] = {"in_event": False, "case": "", "events": [], "ev": {}}

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "trace":
            state["case"], state["events"] = "", []
        elif tag == "event":
            state["in_event"], state["ev"] = True, {}
        elif "key" in attrs and "value" in attrs:
            if state["in_event"]:
                state["ev"][attrs["key"]] = attrs["value"]
            elif tag == "string" and attrs["key"] == "concept:name":
                state["case"] = attrs["value"]

    def end(tag: str) -> None:
        if tag == "event":
            ev = state["ev"]
            state["events"].append(
                (ev["concept:name"], ev["time:timestamp"], ev.get("lifecycle:transition", ""),
                 ev.get("org:resource", ""))
            )  # fmt: skip
            state["in_event"] = False
        elif tag == "trace":
            traces.append((state["case"], state["events"]))

    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        parser.ParseFile(f)
    return traces


def replicated_csv(bpic: Path, copies: int = 4) -> Path:
    """bpic2012 ``copies`` times over as one CSV, each copy with new (numeric) case ids.

    Columns as an ordinary export names them (case_id, activity, timestamp,
    lifecycle, resource), so journeymap finds them by its defaults and PM4Py is
    told them through ``format_dataframe``.
    """
    path = DATA / f"bpic2012x{copies}.csv"
    if path.exists():
        return path
    print(f"writing {path.name} (bpic2012 x {copies})...", file=sys.stderr)
    traces = xes_events(bpic)
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".part")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "activity", "timestamp", "lifecycle", "resource"])
        for k in range(copies):
            for case, events in traces:
                new = str(k * 1_000_000 + int(case))
                w.writerows((new, *ev) for ev in events)
    tmp.replace(path)
    return path


PARQUET_SQL = """
COPY (
    SELECT 'case ' || (i // {per_case}) AS case_id,
           'activity ' || lpad(CAST(hash(i, 'a') % {activities} AS VARCHAR), 2, '0') AS activity,
           TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i, 't') % 31536000 AS BIGINT)) AS timestamp
    FROM range({events}) t(i)
) TO '{path}' (FORMAT parquet)
"""


def big_parquet(cases: int = 2_000_000, per_case: int = 10, activities: int = 50) -> Path:
    """A synthetic log written by DuckDB itself: deterministic ("random" times by hash)."""
    events = cases * per_case
    path = DATA / f"synthetic{events // 1_000_000}m.parquet"
    if path.exists():
        return path
    print(f"writing {path.name} ({events:,} events)...", file=sys.stderr)
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".part")
    sql = PARQUET_SQL.format(per_case=per_case, activities=activities, events=events, path=tmp)
    code = "import duckdb, sys; con = duckdb.connect(); con.execute('SET enable_progress_bar = false'); con.execute(sys.argv[1])"  # fmt: skip
    subprocess.run([PY, "-c", code, sql], check=True)
    tmp.replace(path)
    return path


def pm4py_python(given: str | None) -> str:
    """The interpreter of the throwaway environment holding PM4Py (made on first use)."""
    if given:
        return given
    venv = DATA / "pm4py-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing pm4py=={PM4PY_VERSION} into {venv} (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", f"pm4py=={PM4PY_VERSION}"]
        subprocess.run(pip, check=True)
    return str(python)


def fast_pm4py(python: str) -> dict[str, str]:
    """The environment under which PM4Py uses its optional fast paths (made on first use).

    PM4Py's ``read_xes`` picks the Rust importer ``r4pm`` when it is importable, and
    PM4Py works on polars frames: both are optional installs that make PM4Py several
    times faster, so the table shows PM4Py with them too. They go to a folder of
    their own (benchmarks/data/pm4py-fast), put on PYTHONPATH only for those runs,
    so the plain rows stay a plain ``pip install pm4py``.
    """
    target = DATA / "pm4py-fast"
    if not (target / "r4pm").exists():
        print(f"installing {', '.join(FAST_PACKAGES)} into {target} (once)...", file=sys.stderr)
        pip = [python, "-m", "pip", "install", "-q", "--target", str(target)]
        subprocess.run([*pip, *FAST_PACKAGES], check=True)
    return {**os.environ, "PYTHONPATH": str(target)}


# --- measuring ------------------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds, median
    cpu: float  # user + system seconds of the child, median
    peak: float  # MiB, the largest of the runs
    error: str = ""  # the last line of stderr, when a run failed and failing was allowed


def measure(
    cmd: list[str], repeat: int, may_fail: bool = False, env: dict[str, str] | None = None
) -> Run:
    """Whole-process runs of ``cmd``: the medians, and the child's own peak memory.

    With ``may_fail`` a failed run is a result (its error kept), not the end of the run.
    """
    walls: list[float] = []
    cpus: list[float] = []
    peak = 0.0
    for _ in range(repeat):
        with tempfile.TemporaryFile() as err_file:
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err_file, cwd=ROOT, env=env
            )
            # wait4, not Popen.wait: it gives the child's own CPU time and peak memory.
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - start)
            cpus.append(usage.ru_utime + usage.ru_stime)
            peak = max(peak, usage.ru_maxrss / 1024)
            code = os.waitstatus_to_exitcode(status)
            err_file.seek(0)
            err = err_file.read().decode("utf-8", "replace")
        if code != 0 or "Traceback" in err:
            if may_fail:
                lines = [line for line in err.splitlines() if line.strip()] or [f"status {code}"]
                said = [line for line in lines if "Error" in line] or lines
                return Run(walls[-1], cpus[-1], peak, said[-1][:160])
            raise SystemExit(f"failed (status {code}): {' '.join(cmd)}\n{err[-3000:]}")
    return Run(statistics.median(walls), statistics.median(cpus), peak)


def discover_cmd(log: Path, out: Path) -> list[str]:
    return [*JM, "discover", str(log), "-o", str(out), "--force"]


def peer_cmd(
    python: str, log: Path, out: Path, columns: tuple[str, ...] = (), kind: str = ""
) -> list[str]:
    kind = kind or ("csv" if log.suffix == ".csv" else "xes")
    return [python, str(HERE / "pm4py_peer.py"), kind, str(log), str(out), *columns]


# --- agreement ------------------------------------------------------------------------

_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def seconds(duration: str) -> float:
    """``3d 4h 12m 5s`` or ``0.25s`` -> seconds (the forms discover writes)."""
    parts = _PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration.replace(" ", ""):
        raise ValueError(f"not a duration discover writes: {duration!r}")
    return sum(float(n) * _UNIT[u] for n, u in parts)


@dataclass
class Found:
    """What a journey file (or PM4Py's results) says about a log, by activity name."""

    activities: dict[str, int]
    pairs: dict[tuple[str, str], int]
    waits: dict[tuple[str, str], float]
    starts: dict[str, int]
    ends: dict[str, int]


def from_journey(path: Path) -> Found:
    import yaml

    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    title = {tp["id"]: tp["title"] for tp in data["touchpoints"]}
    found = Found({}, {}, {}, {}, {})
    for tp in data["touchpoints"]:
        name = tp["title"]
        found.activities[name] = tp["volume"]
        left = tp["volume"]
        for t in tp.get("next", []):
            pair = (name, title[t["to"]])
            found.pairs[pair] = t["volume"]
            found.waits[pair] = seconds(t["wait"])
            left -= t["volume"]
        if left:
            found.ends[name] = left
    for e in data.get("entries", []):
        found.starts[title[e["id"]]] = e["volume"]
    return found


def from_peer(path: Path) -> Found:
    r = json.loads(path.read_text(encoding="utf-8"))
    return Found(
        r["activities"],
        {(a, b): n for a, b, n in r["dfg"]},
        {(a, b): s for a, b, s in r["median_s"]},
        r["start"],
        r["end"],
    )


def differences(ours: Found, theirs: Found) -> list[str]:
    """What differs; waits agree when journeymap's is PM4Py's median to the second."""
    out: list[str] = []
    for what in ("activities", "pairs", "starts", "ends"):
        a, b = getattr(ours, what), getattr(theirs, what)
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                out.append(f"{what} {k}: journeymap {a.get(k)}, PM4Py {b.get(k)}")
    for k in sorted(set(ours.waits) | set(theirs.waits), key=str):
        x, y = ours.waits.get(k), theirs.waits.get(k)
        if x is None or y is None:
            out.append(f"wait {k}: journeymap {x}, PM4Py {y}")
            continue
        # Written to the second (to the millisecond below one second).
        tolerance = 0.0005 if y < 1 else 0.5
        if not math.isclose(x, y, abs_tol=tolerance + 1e-6):
            out.append(f"wait {k}: journeymap {x:g} s, PM4Py {y:g} s")
    return out


def agree(name: str, journey: Path, peer: Path) -> bool:
    ours, theirs = from_journey(journey), from_peer(peer)
    diff = differences(ours, theirs)
    events = sum(theirs.activities.values())
    summary = (f"{name}: {events:,} events, {sum(theirs.starts.values()):,} cases,"
               f" {len(theirs.activities)} activities, {len(theirs.pairs)} pairs")  # fmt: skip
    if not diff:
        print(f"  agree   {summary}: counts, starts, ends and waits equal")
        return True
    print(f"  DIFFER  {summary}: {len(diff)} differences")
    for line in diff[:10]:
        print(f"    {line}")
    return False


# --- the run --------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="the directory holding PM4Py's logs")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-20m", action="store_true", help="skip the 20,000,000-event Parquet")
    ap.add_argument("--agree-only", action="store_true", help="only the agreement check")
    ap.add_argument("--pm4py-python", help="an interpreter with PM4Py (default: made here)")
    ap.add_argument(
        "--fast-pm4py",
        action="store_true",
        help="also time PM4Py with r4pm (XES) and polars (CSV), installed beside it",
    )
    a = ap.parse_args()
    logs = {name: real_log(name, a.data) for name in LOGS}
    big_csv = replicated_csv(logs["bpic2012.xes.gz"])
    peer = pm4py_python(a.pm4py_python)
    out = DATA / "logs-out"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "journeymap")], check=True)
    csv_columns = ("case_id", "activity", "timestamp")

    rows: list[tuple[str, str, Run, Run | None, str]] = []
    if not a.agree_only:
        print("measuring (whole processes, medians of several runs)...", file=sys.stderr)

        def pair(label: str, log: Path, target: float, columns: tuple[str, ...] = ()) -> None:
            jm = measure(discover_cmd(log, out / f"{log.name}.yaml"), a.repeat)
            pm = measure(peer_cmd(peer, log, out / f"{log.name}.json", columns), a.repeat)
            add(label, target, jm, pm)
            if a.fast_pm4py:  # the same discover runs, against PM4Py's fast paths
                kind = "csv-polars" if columns else "xes"
                fast = peer_cmd(peer, log, out / f"{log.name}.fast.json", columns, kind)
                pm = measure(fast, a.repeat, env=fast_pm4py(peer))
                add(f"{label}, PM4Py with {'polars' if columns else 'r4pm'}", target, jm, pm)

        def add(label: str, target: float, jm: Run, pm: Run) -> None:
            verdict = "PASS" if jm.wall / pm.wall <= target else "FAIL"
            rows.append((label, f"<= 1/{round(1 / target)} of PM4Py", jm, pm, verdict))
            print(f"  {label}: {jm.wall:.2f} s vs {pm.wall:.2f} s", file=sys.stderr)

        pair("bpic2012.xes.gz (262,200 events, XES)", logs["bpic2012.xes.gz"], 1 / 2)
        pair(f"{big_csv.name} (1,048,800 events, CSV)", big_csv, 1 / 3, csv_columns)
        if not a.no_20m:
            parquet = big_parquet()
            jm = measure(discover_cmd(parquet, out / f"{parquet.name}.yaml"), 1, may_fail=True)
            verdict = "PASS" if jm.peak < 2 * GIB and not jm.error else "FAIL"
            if jm.error:
                verdict += f" ({jm.error})"
            rows.append((f"{parquet.name} (20,000,000 events, Parquet)", "peak < 2 GiB", jm, None, verdict))  # fmt: skip
        report(rows)

    print("\nagreement with PM4Py (counts exact, median waits to the second):")
    checks: list[tuple[str, Path, tuple[str, ...]]] = [
        ("running-example.xes", logs["running-example.xes"], ()),
        ("receipt.csv", logs["receipt.csv"], ()),
        ("bpic2012.xes.gz", logs["bpic2012.xes.gz"], ()),
        (big_csv.name, big_csv, csv_columns),
    ]
    timed = set() if a.agree_only else {logs["bpic2012.xes.gz"], big_csv}
    ok = True
    for name, log, columns in checks:
        journey, result = out / f"{log.name}.yaml", out / f"{log.name}.json"
        if log not in timed:  # the timed runs wrote the others' results
            run_quiet(discover_cmd(log, journey))
            run_quiet(peer_cmd(peer, log, result, columns))
        ok = agree(name, journey, result) and ok
    if a.fast_pm4py and not a.agree_only:
        print("PM4Py's fast paths (its polars path truncates each wait to whole seconds):")
        for name, log, _ in checks[2:]:
            agree(f"{name} (fast)", out / f"{log.name}.yaml", out / f"{log.name}.fast.json")
    if not ok:
        raise SystemExit(1)


def run_quiet(cmd: list[str]) -> None:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed (status {done.returncode}): {' '.join(cmd)}\n{done.stderr[-3000:]}")  # fmt: skip


def report(rows: list[tuple[str, str, Run, Run | None, str]]) -> None:
    print("\n| log | target | journeymap wall / CPU s | journeymap peak MiB"
          " | PM4Py wall / CPU s | PM4Py peak MiB | ratio (wall) | ratio (CPU) | |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for label, target, jm, pm, verdict in rows:
        peer = ["-"] * 4
        if pm:
            peer = [f"{pm.wall:.2f} / {pm.cpu:.2f}", f"{pm.peak:,.0f}",
                    f"1/{pm.wall / jm.wall:.1f}", f"1/{pm.cpu / jm.cpu:.1f}"]  # fmt: skip
        cells = [label, target, f"{jm.wall:.2f} / {jm.cpu:.2f}", f"{jm.peak:,.0f}", *peer, verdict]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
