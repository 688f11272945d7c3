"""The properties every input must keep, checked in-process and through the CLI.

Each check returns :class:`Finding` records instead of raising, so one input can
show several bugs at once and the harness keeps going. A finding's ``sig`` is what
makes two findings "the same bug" (exception type and place, invariant, marker...),
so a long run reports each bug once however often it is hit.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fuzz.inputs import MARKERS, TEMPLATE_EVALUATED

CLI_TIMEOUT = 20.0
MEMORY_LIMIT = 2 * 2**30
# C0 controls but newline and tab, DEL, and C1 (0x9b is a one-byte CSI for some terminals).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")
SUMMARY_LINE = re.compile(r"^\d+ problems? in \d+ files?$")
YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@dataclass(frozen=True)
class Finding:
    """One property broken by one input. ``kind`` is the class of bug for the report."""

    kind: str  # crash | hang | memory | wrong-number | unescaped | bad-position | bad-message | bad-exit | half-written | nondeterministic
    where: str  # lib:load, cli:render-svg, ...
    detail: str
    sig: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _finding(kind: str, where: str, detail: str, key: str = "") -> Finding:
    return Finding(kind, where, detail[:2000], f"{kind}|{where}|{key}")


def _shape(message: str) -> str:
    """A message with its particulars blanked, so one bug with many ids dedups to one."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", message)
    return re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", message)[:120]


# Where things are in the file ------------------------------------------------------


def _lines(data: bytes) -> list[str]:
    """The file's lines, split once per input: a file can have 50,000 problems."""
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    by_newline = text.split("\n")
    by_yaml = YAML_BREAKS.split(text)
    return by_yaml if len(by_yaml) > len(by_newline) else by_newline


def check_position(lines: Sequence[str], line: int, column: int) -> str | None:
    """Why ``line:column`` cannot be a place in the file, or None.

    Lines are counted by every break YAML knows and by newlines alone (whichever
    gives more, so either editor convention passes); one past the end is allowed.
    """
    if line < 1 or column < 1:
        return f"{line}:{column} is not 1-based"
    if line > len(lines) + 1:
        return f"line {line} but the file has {len(lines)} lines"
    width = len(lines[line - 1]) if line <= len(lines) else 0
    if column > width + 2:
        return f"column {column} but line {line} has {width} characters"
    return None


# Numbers -----------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"JSON has {name}")


def strict_json(text: str) -> Any:
    """JSON as a strict parser (JavaScript's, jq's) reads it: no NaN, no Infinity."""
    return json.loads(text, parse_constant=_no_constant)


def _floats(obj: Any, path: str = "") -> Iterable[tuple[str, float]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _floats(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            yield from _floats(v, f"{path}[{k}]")
    elif isinstance(obj, float | int) and not isinstance(obj, bool):
        yield path, float(obj)


def check_analysis(d: dict[str, Any], where: str) -> list[Finding]:
    """The README's numeric promises about ``analyze`` JSON."""
    out: list[Finding] = []

    def bad(key: str, detail: str) -> None:
        out.append(_finding("wrong-number", where, detail, key))

    for path, x in _floats(d):
        if not math.isfinite(x):
            bad("not-finite", f"{path} = {x}")
    probs: list[tuple[str, Any]] = [("success_share", d.get("success_share"))]
    probs += [(f"drop_off.{k}", v) for k, v in (d.get("drop_off") or {}).items()]
    probs += [
        (f"success_probability.{k}", v) for k, v in (d.get("success_probability") or {}).items()
    ]
    probs += [(f"leaks.{x.get('node')}", x.get("share")) for x in d.get("leaks") or []]
    top = (d.get("metrics") or {}).get("most_probable_success_path")
    if top:
        probs.append(("metrics.most_probable_success_path", top.get("probability")))
    for name, p in probs:
        if not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 1:
            bad(name.split(".")[0] + "-range", f"{name} = {p!r}, not in [0, 1]")
    for k, v in (d.get("drop_off") or {}).items():
        if isinstance(v, int | float) and v <= 0:
            bad("drop_off-zero", f"drop_off.{k} = {v!r} is listed but not above 0")
    if d.get("entries"):
        shares = [x.get("share") for x in d.get("leaks") or []]
        if all(isinstance(s, int | float) for s in shares) and isinstance(
            d.get("success_share"), int | float
        ):
            total = float(d["success_share"]) + math.fsum(shares)
            if not abs(total - 1) <= 1e-9:
                bad("sum", f"success_share + leaks = {total!r}, not 1 (entries {d['entries'][:5]})")
    return out


def check_routes(routes: Sequence[dict[str, Any]], where: str, limit: int) -> list[Finding]:
    out = []
    if len(routes) > limit:
        out.append(
            _finding("wrong-number", where, f"{len(routes)} paths for --limit {limit}", "limit")
        )
    last = math.inf
    for r in routes:
        p = r.get("probability")
        if not isinstance(p, int | float) or not (0 < p <= 1) or not math.isfinite(p):
            out.append(
                _finding(
                    "wrong-number", where, f"path probability {p!r} not in (0, 1]: {r}", "range"
                )
            )
        elif p > last * (1 + 1e-9):
            out.append(
                _finding("wrong-number", where, f"paths out of order: {p} after {last}", "order")
            )
        else:
            last = min(last, p)
    return out


# Escaping ------------------------------------------------------------------------------


def check_markup(text: str, where: str, *, xml: bool) -> list[Finding]:
    """No marker raw in SVG or HTML; SVG is well-formed XML without script."""
    out = [
        _finding("unescaped", where, f"raw {m!r} in the output", m) for m in MARKERS if m in text
    ]
    if TEMPLATE_EVALUATED in text:
        out.append(
            _finding(
                "unescaped", where, "a template expression in the input was evaluated", "template"
            )
        )
    if xml:
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            out.append(_finding("unescaped", where, f"SVG is not well-formed XML: {exc}", "xml"))
        else:
            for el in root.iter():
                tag = el.tag.rsplit("}", 1)[-1]
                if tag in ("script", "foreignObject") or any(
                    a.lower().startswith("on") for a in el.attrib
                ):
                    out.append(
                        _finding("unescaped", where, f"SVG has <{tag} {el.attrib}>", "svg-script")
                    )
                    break
    return out


_DOT_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def check_dot(text: str, where: str) -> list[Finding]:
    """Markers may sit inside DOT's quoted strings (Graphviz escapes those), never
    outside them: there they are HTML labels or DOT syntax, and an unescaped quote
    leaves a string early."""
    bare = _DOT_QUOTED.sub('""', text)
    out = [
        _finding("unescaped", where, f"raw {m!r} outside DOT strings", m)
        for m in MARKERS
        if m in bare
    ]
    if bare.count('"') % 2:
        out.append(_finding("unescaped", where, "an unbalanced quote in the DOT text", "quote"))
    return out


def check_terminal(text: str, where: str) -> list[Finding]:
    m = CONTROL.search(text)
    if m is None:
        return []
    ch = m.group()
    around = text[max(0, m.start() - 60) : m.end() + 20]
    return [
        _finding(
            "unescaped",
            where,
            f"control character {ch!r} on the terminal: {around!r}",
            f"control-{ord(ch):02x}",
        )
    ]


# Exceptions -------------------------------------------------------------------------------


def _crash(exc: BaseException, where: str) -> Finding:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "journeymap" in f.filename and "/fuzz/" not in f.filename]
    place = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    kind = "memory" if isinstance(exc, MemoryError) else "crash"
    name = type(exc).__name__
    text = "".join(traceback.format_exception(exc, limit=-6))
    return _finding(kind, where, f"{name} at {place}: {exc!s:.300}\n{text}", f"{name}@{place}")


def check_problems(exc: Any, data: bytes, name: str, where: str) -> list[Finding]:
    """A JourneyError the user sees: right file, a place inside it, printable text."""
    out: list[Finding] = []
    lines = _lines(data)
    for p in exc.problems:
        if p.file != name:
            out.append(
                _finding(
                    "bad-position", where, f"problem names {p.file!r}, not {name!r}: {p}", "file"
                )
            )
        why = check_position(lines, p.line, p.column)
        if why:
            out.append(_finding("bad-position", where, f"{why}: {p}", _shape(p.message)))
        if not p.message.strip():
            out.append(_finding("bad-message", where, f"empty message: {p!r}", "empty"))
    out += check_terminal(str(exc), where)
    return out


# In-process --------------------------------------------------------------------------------


def check_library(path: Path, name: str, deep: bool, twice: bool) -> tuple[list[Finding], bool]:
    """The library calls a program embedding journeymap makes; (findings, loaded)."""
    import journeymap
    from journeymap.errors import JourneyError
    from journeymap.loader import load

    data = path.read_bytes()
    out: list[Finding] = []
    try:
        j = load(path)
    except JourneyError as exc:
        return check_problems(exc, data, str(path), "lib:load"), False
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return [_crash(exc, "lib:load")], False
    step = "analyze"
    try:
        a = journeymap.analyze(j)
        d = a.to_dict()
        text = json.dumps(d, allow_nan=False)
        out += check_analysis(json.loads(text), "lib:analyze")
        for to in ("lost", "success"):
            step = f"find_paths-{to}"
            routes = journeymap.find_paths(j, to=to, limit=5, analysis=a)
            out += check_routes([r.to_dict() for r in routes], f"lib:{step}", 5)
        step = "to_dot"
        dot = journeymap.to_dot(j, a)
        out += check_dot(dot, "lib:to_dot")
        if twice:
            step = "twice"
            j2 = load(path)
            a2 = journeymap.analyze(j2)
            if (
                json.dumps(a2.to_dict(), allow_nan=False) != text
                or journeymap.to_dot(j2, a2) != dot
            ):
                out.append(
                    _finding(
                        "nondeterministic", "lib:analyze", "same file, other result", "analyze"
                    )
                )
        if deep:
            step = "render-svg"
            svg = journeymap.render(j, "svg")
            out += check_markup(svg.decode("utf-8", "replace"), "lib:render-svg", xml=True)
            step = "report_html"
            html = journeymap.report_html([j])
            out += check_markup(html, "lib:report_html", xml=False)
            if twice and journeymap.report_html([load(path)]) != html:
                out.append(
                    _finding(
                        "nondeterministic", "lib:report_html", "same file, other report", "report"
                    )
                )
    except JourneyError as exc:
        if exc.problems:
            out += check_problems(exc, data, str(path), f"lib:{step}")
        else:
            out += check_terminal(str(exc), f"lib:{step}")
    except ValueError as exc:
        if (step == "analyze" and "JSON" in str(exc)) or "Out of range float" in str(exc):
            out.append(
                _finding("wrong-number", "lib:analyze", f"to_dict() is not JSON: {exc}", "json")
            )
        else:
            out.append(_crash(exc, f"lib:{step}"))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        out.append(_crash(exc, f"lib:{step}"))
    return out, True


# The real CLI -----------------------------------------------------------------------------


def _limits() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


@dataclass
class Run:
    status: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float
    max_rss_kb: int


def run_cli(args: Sequence[str], cwd: Path, timeout: float = CLI_TIMEOUT) -> Run:
    """``python -m journeymap ARGS`` with a time and memory limit, and its own peak RSS
    (``wait4`` gives each child's rusage; RUSAGE_CHILDREN would mix them)."""
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "journeymap", *args],
            stdin=subprocess.DEVNULL,
            stdout=so,
            stderr=se,
            cwd=cwd,
            preexec_fn=_limits,
            env={**os.environ, "COLUMNS": "100", "PYTHONHASHSEED": "random"},
        )
        status: int | None = None
        rss = 0
        while True:
            pid, wstatus, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(wstatus)
                rss = usage.ru_maxrss
                break
            if time.monotonic() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, _, usage = os.wait4(proc.pid, 0)
                rss = usage.ru_maxrss
                break
            time.sleep(0.005)
        proc.returncode = status if status is not None else -9
        seconds = time.monotonic() - start
        so.seek(0)
        se.seek(0)
        return Run(
            status,
            so.read().decode("utf-8", "replace"),
            se.read().decode("utf-8", "replace"),
            seconds,
            rss,
        )


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def check_run(run: Run, where: str, data: bytes, name: str, outdir: Path | None) -> list[Finding]:
    """What every command owes its user, whatever the input."""
    out: list[Finding] = []
    if run.status is None:
        return [_finding("hang", where, f"no answer after {run.seconds:.0f} s", "timeout")]
    if "Traceback" in run.stderr or run.status < 0:
        last = [ln for ln in run.stderr.strip().splitlines() if ln and not ln.startswith(" ")]
        exc_line = last[-1] if last else f"killed by signal {-run.status}"
        places = re.findall(r'File "[^"]*journeymap/([^"]+)", line (\d+)', run.stderr)
        place = f"{places[-1][0]}:{places[-1][1]}" if places else "?"
        kind = "memory" if "MemoryError" in run.stderr else "crash"
        exc_name = exc_line.split(":")[0][:60]
        return [
            _finding(
                kind,
                where,
                f"exit {run.status}: {exc_line}\n{run.stderr[-3000:]}",
                f"{exc_name}@{place}",
            )
        ]
    if "MemoryError" in run.stderr or "out of memory" in run.stderr.lower():
        out.append(_finding("memory", where, run.stderr[-500:], "message"))
    if run.status not in (0, 1, 2):
        out.append(
            _finding(
                "bad-exit", where, f"exit status {run.status}\n{run.stderr[-500:]}", str(run.status)
            )
        )
    out += check_terminal(run.stdout, where + ":stdout")
    out += check_terminal(run.stderr, where + ":stderr")
    if run.status == 1:
        lines = _lines(data)
        for line in run.stderr.splitlines():
            m = PROBLEM_LINE.match(line)
            if m and m["file"] == name:
                why = check_position(lines, int(m["line"]), int(m["column"]))
                if why:
                    out.append(
                        _finding(
                            "bad-position", where, f"{why}: {line[:300]}", _shape(m["message"])
                        )
                    )
            elif m:
                out.append(
                    _finding("bad-position", where, f"names another file: {line[:300]}", "file")
                )
            elif not (line.startswith("error: ") or SUMMARY_LINE.match(line)):
                out.append(
                    _finding(
                        "bad-message", where, f"not FILE:LINE:COLUMN: {line[:300]!r}", _shape(line)
                    )
                )
        if not run.stderr.strip():
            out.append(_finding("bad-message", where, "status 1 and nothing on stderr", "silent"))
    if run.status != 0 and outdir is not None and _files(outdir):
        out.append(
            _finding(
                "half-written", where, f"status {run.status} left {_files(outdir)[:5]}", "files"
            )
        )
    return out


def check_cli(
    path: Path, name: str, work: Path, commands: Sequence[str], twice: bool
) -> tuple[list[Finding], list[tuple[str, float, int]]]:
    """The real command on the file; also (command, seconds, peak RSS) per run."""
    data = path.read_bytes()
    out: list[Finding] = []
    timing: list[tuple[str, float, int]] = []
    for cmd in commands:
        outdir = work / f"out-{cmd}"
        outdir.mkdir()
        args = {
            "validate": ["validate", name],
            "analyze-json": ["analyze", name, "--format", "json"],
            "analyze-table": ["analyze", name],
            "paths": ["paths", name, "--limit", "3"],
            "paths-json": ["paths", name, "--limit", "3", "--format", "json", "--to", "success"],
            "render-svg": ["render", name, "-o", str(outdir), "--format", "svg"],
            "render-dot": ["render", name, "-o", str(outdir), "--format", "dot"],
            "report": ["report", name, "-o", str(outdir / "report.html")],
        }[cmd]
        run = run_cli(args, cwd=path.parent)
        if run.status is None:  # a shared machine can stall: a hang must happen twice
            shutil.rmtree(outdir)
            outdir.mkdir()
            run = run_cli(args, cwd=path.parent, timeout=2 * CLI_TIMEOUT)
        timing.append((cmd, run.seconds, run.max_rss_kb))
        where = f"cli:{cmd}"
        found = check_run(run, where, data, name, outdir)
        out += found
        if run.status != 0 or found:
            continue
        try:
            if cmd == "analyze-json":
                out += check_analysis(strict_json(run.stdout), where)
            elif cmd == "paths-json":
                out += check_routes(strict_json(run.stdout), where, 3)
        except ValueError as exc:
            out.append(_finding("wrong-number", where, f"stdout is not strict JSON: {exc}", "json"))
        files = [p for p in outdir.rglob("*") if p.is_file()]
        if cmd.startswith("render") or cmd == "report":
            if len(files) != 1:
                out.append(_finding("half-written", where, f"wrote {_files(outdir)}", "count"))
            for f in files:
                text = f.read_bytes().decode("utf-8", "replace")
                if cmd == "render-dot":
                    out += check_dot(text, where)
                else:
                    out += check_markup(text, where, xml=cmd == "render-svg")
        if twice:
            again = work / f"again-{cmd}"
            again.mkdir()
            args2 = [
                str(again / "report.html")
                if a == str(outdir / "report.html")
                else str(again)
                if a == str(outdir)
                else a
                for a in args
            ]
            run2 = run_cli(args2, cwd=path.parent)
            same = run2.stdout.replace(str(again), str(outdir)) == run.stdout and all(
                (again / f.relative_to(outdir)).is_file()
                and (again / f.relative_to(outdir)).read_bytes() == f.read_bytes()
                for f in files
            )
            if not same:
                out.append(
                    _finding("nondeterministic", where, "same input twice, other bytes", "bytes")
                )
    return out, timing
