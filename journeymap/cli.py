"""The ``journeymap`` command: a thin layer over the library.

Each command parses its options and calls one library function. Heavy
libraries are imported inside the commands so ``--help`` answers at once.
Errors in the user's input exit with status 1 and ``FILE:LINE:COLUMN:``
messages; wrong usage exits with 2 (click's convention).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

_F = TypeVar("_F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from .analysis import Analysis
    from .fixes import Fix
    from .logs.readers import LogOptions
    from .model import Journey

# Set by main(): what must outlive its command, so that the process can end
# without freeing it (see main). None when the CLI runs inside another program.
_KEEP: list[object] | None = None

PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


class _Group(click.Group):
    """Turns user errors into clean messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        from .errors import JourneyError, UsageError

        try:
            return super().invoke(ctx)
        except UsageError as exc:
            # An option value that fits no journey: wrong usage, status 2 like click's own.
            click.echo(f"Error: {terminal(str(exc))}", err=True)
            ctx.exit(2)
        except JourneyError as exc:
            for line in terminal(str(exc)).splitlines():
                click.echo(line if exc.problems else f"error: {line}", err=True)
            if exc.problems:
                n = len(exc.problems)
                files = len({p.file for p in exc.problems})
                click.echo(
                    f"{n} problem{'s' * (n != 1)} in {files} file{'s' * (files != 1)}", err=True
                )
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="journeymap")
def cli() -> None:
    """Customer journeys as code: validate, analyse and render journey files.

    A journey is a YAML (or JSON) file of stages, touchpoints, transitions and
    outcomes. PATH may be a file or a folder of journeys.
    """


# C0 and C1 control characters but tab and line feed: a title that reached a terminal
# raw could clear it, retitle the window or move the cursor. The loader refuses them
# in files; journeys made in memory, and file names, are shown through this.
_CONTROLS = {c: "\N{REPLACEMENT CHARACTER}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
del _CONTROLS[0x09], _CONTROLS[0x0A]


def terminal(text: str) -> str:
    """Text safe to print to a terminal: control characters shown as U+FFFD."""
    return text.translate(_CONTROLS)


def _load(paths: tuple[Path, ...]) -> list[Journey]:
    import gc

    from .loader import load_all

    # The journeys live until the command ends: move them out of the cyclic
    # collector's sight before it runs again, or its first pass after loading and
    # every later one rescan their millions of objects (seconds on a journey of
    # 100,000 touchpoints).
    gc.disable()
    try:
        journeys = load_all(paths)
        gc.freeze()
    finally:
        gc.enable()
    if _KEEP is not None:
        _KEEP.append(journeys)
    return journeys


def _echo_json(data: Any, size: int) -> None:
    """JSON on stdout: indented for people, compact for machine-sized journeys.

    Python's fast C encoder only runs without indentation; on a journey of 100,000
    touchpoints the indented form alone costs seconds and doubles the bytes.
    """
    indent = 2 if size <= 5000 else None
    separators = None if indent else (",", ":")
    text = json.dumps(data, indent=indent, separators=separators, ensure_ascii=False)
    import codecs
    import io

    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if (
        buffer is None
        or os.linesep != "\n"
        or not isinstance(out, io.TextIOWrapper)
        or codecs.lookup(out.encoding).name != "utf-8"
    ):
        click.echo(text)
        return
    # The bytes click.echo would write, without its pass over the text for ANSI
    # codes (a third of a second on 60 MB): JSON escapes every control character,
    # so there are none to strip.
    out.flush()
    buffer.write(text.encode(out.encoding, out.errors or "strict"))
    buffer.write(b"\n")
    buffer.flush()


def _count(n: int, noun: str) -> str:
    """``1 stage``, ``2 stages``: English plurals for the nouns the CLI counts."""
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _is_many(paths: tuple[Path, ...]) -> bool:
    return len(paths) > 1 or any(p.is_dir() for p in paths)


@cli.command()
@PATHS
def validate(paths: tuple[Path, ...]) -> None:
    """Check journey files; print every problem with its file, line and column."""
    for j in _load(paths):
        click.echo(
            terminal(
                f"ok  {j.source}  ({j.journey}: {_count(len(j.stages), 'stage')},"
                f" {_count(len(j.touchpoints), 'touchpoint')},"
                f" {_count(len(j.outcomes), 'outcome')})"
            )
        )


CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Findings config (YAML): thresholds and severities per rule.",
)


@cli.command()
@PATHS
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json is a stable interface for scripts.",
)
@CONFIG
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Exit with status 1 when a finding of this severity (or worse) is found, for CI.",
)
def analyze(
    paths: tuple[Path, ...], fmt: str, config_path: Path | None, fail_on: str | None
) -> None:
    """Where customers get lost: traps, loops, drop-off, leaks, findings and metrics."""
    from .analysis import analyze as run
    from .findings import load_config

    config = load_config(config_path) if config_path else None
    journeys = _load(paths)
    results = [run(j, config) for j in journeys]
    if fmt == "json":
        import gc

        # The JSON of a big journey is millions of dicts and lists, none in a cycle:
        # the collector's passes over them while they are made and encoded cost
        # half a second on 100,000 touchpoints. Paused first thing, before any
        # allocation could start a pass over what the analysis made (#14).
        was = gc.isenabled()
        gc.disable()
        try:
            data: Any = [r.to_dict() for r in results]
            if not _is_many(paths):
                data = data[0]
            _echo_json(data, sum(len(j.touchpoints) for j in journeys))
        finally:
            if was:
                gc.enable()
    else:
        for i, r in enumerate(results):
            if i:
                click.echo()
            click.echo(terminal(_table(journeys[i], r)))
    if fail_on:
        levels = ("error",) if fail_on == "error" else ("error", "warning")
        failing = sum(1 for r in results for f in r.findings if f.severity in levels)
        if failing:
            click.echo(f"{failing} finding{'s' * (failing != 1)} at {fail_on} or worse", err=True)
            raise SystemExit(1)


def _table(journey: Journey, r: Analysis) -> str:
    from .dot import percent

    head = f"{r.title} ({r.journey})"
    lines = [head, "=" * len(head)]
    lines.append("Success probability by entry:")
    for entry, p in r.success_probability.items():
        lines.append(f"  {entry:<32} {percent(p):>7}")
    lines.append(f"Of all who start, {percent(r.success_share)} end in a success.")

    def listing(name: str, items: list[str], why: str) -> None:
        lines.append(f"{name} ({len(items)}): {why}")
        lines.extend(f"  - {i}" for i in items) if items else lines.append("  none")

    listing("Dead ends", r.dead_ends, "touchpoints with no next step")
    listing("Traps", r.traps, "reachable, but no success outcome can be reached from them")
    listing("Unreachable", r.unreachable, "no entry leads here")
    lines.append(f"Loops ({len(r.loops)}):")
    lines.extend(f"  - {' -> '.join(loop)}" for loop in r.loops) if r.loops else lines.append(
        "  none"
    )
    lines.append(f"Drop-off ({len(r.drop_off)}): share of customers who leave at a touchpoint")
    for tp, share in sorted(r.drop_off.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {tp:<32} {percent(share):>7}")
    lines.append(f"Leaks ({len(r.leaks)}): where the customers who start are lost, biggest first")
    for leak in r.leaks:
        lines.append(f"  {leak.node:<32} {leak.kind:<9} {percent(leak.share):>7}")
    counts = {
        s: sum(1 for f in r.findings if f.severity == s) for s in ("error", "warning", "info")
    }
    lines.append(
        f"Findings ({len(r.findings)}): "
        + ", ".join(f"{n} {s}{'s' * (n != 1)}" for s, n in counts.items())
    )
    for f in r.findings:
        lines.append(f"  {f.severity:<7} {f.rule:<24} {f.subject:<24} {f.message}")
    lines.append(_time_text(r))
    lines.append(_fix_first_text(journey, r.fix_first))
    from .paths import routes_text

    m = r.metrics
    routes = routes_text(m["routes"])
    lines.append(
        f"Metrics: {m['touchpoints']} touchpoints, {m['transitions']} transitions,"
        f" {routes} routes entry -> outcome (each loop one step),"
        f" fewest steps to success: {m['fewest_steps_to_success']}"
    )
    return "\n".join(lines)


OUTDIR = click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder to write into.",
)


def _output_file(help: str, *, required: bool = False) -> Callable[[_F], _F]:
    """``-o FILE``: the one file a command writes (OUTDIR is for a folder of them).

    No ``default=None``: since click 8.3 an explicit default satisfies ``required``,
    and a missing ``-o`` reached the command as None (a traceback, not a usage error).
    """
    return click.option(
        "-o",
        "--output",
        "output",
        required=required,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help,
    )


def _paper(default: str) -> Callable[[_F], _F]:
    # The default is applied by the command, not by click, so that a command can
    # tell an option given for the wrong format from one left out.
    return click.option(
        "--paper",
        type=click.Choice(
            ["A4", "A3", "A2", "A1", "A0", "letter", "tabloid"], case_sensitive=False
        ),
        default=None,
        help=f"Paper size of PDF output.  [default: {default}]",
    )


def _orientation(default: str) -> Callable[[_F], _F]:
    return click.option(
        "--orientation",
        type=click.Choice(["landscape", "portrait"]),
        default=None,
        help=f"Orientation of the paper.  [default: {default}]",
    )


def _only_for(ctx: click.Context, fmt: str, wanted: str, *names: str) -> None:
    """Refuse options that do nothing in this format, rather than ignore them."""
    given = [f"--{n.replace('_', '-')}" for n in names if ctx.params.get(n) not in (None, False)]
    if given:
        are = "is" if len(given) == 1 else "are"
        raise click.UsageError(f"{' and '.join(given)} {are} for --format {wanted}, not {fmt}")


THEME = click.option(
    "--theme", default=None, help="default, print, colorblind, or a theme file (YAML)."
)


@cli.command()
@PATHS
@OUTDIR
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "pdf", "png", "dot", "mermaid"]),
    default="svg",
    show_default=True,
)
@click.option(
    "--view",
    type=click.Choice(["flow", "canvas"]),
    default="flow",
    show_default=True,
    help="flow: the journey as a graph; canvas: the classic journey map (stages as columns,"
    " rows for touchpoints, emotion, pain points and opportunities).",
)
@THEME
@click.option(
    "--dpi",
    type=click.IntRange(36, 1200),
    default=None,
    help="Resolution of PNG output.  [default: 96]",
)
@_paper("A3")
@_orientation("landscape")
@click.option("--tile", is_flag=True, help="PDF: the map at full size over several pages.")
def render(
    paths: tuple[Path, ...],
    outdir: Path,
    fmt: str,
    view: str,
    theme: str | None,
    dpi: int | None,
    paper: str | None,
    orientation: str | None,
    tile: bool,
) -> None:
    """Draw journey maps into OUTPUT/<journey>.<format> (<journey>-canvas.<format>).

    --format mermaid writes a Mermaid journey diagram, OUTPUT/<journey>.mmd.
    """
    from .rendering import render_files
    from .themes import get_theme

    ctx = click.get_current_context()
    if fmt != "pdf":
        _only_for(ctx, fmt, "pdf", "paper", "orientation", "tile")
    if fmt != "png":
        _only_for(ctx, fmt, "png", "dpi")
    if fmt == "mermaid" and theme is not None:
        raise click.UsageError("--theme does not apply to --format mermaid (Mermaid has its own)")
    t = get_theme(theme)
    options: dict[str, Any] = {"theme": t, "dpi": dpi, "view": view, "tile": tile}
    options["paper"] = paper or "A3"
    options["orientation"] = orientation or "landscape"
    for path in render_files(_load(paths), outdir, fmt, **options):
        click.echo(f"wrote {path}")


# Lost paths (#3) -------------------------------------------------------------


@cli.command()
@PATHS
@click.option(
    "--to",
    "to",
    default="lost",
    show_default=True,
    help="lost, success, or an outcome id.",
)
@click.option("--from", "start", default=None, help="Only paths from this entry.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="The N most probable paths (fast on any journey); without it, all paths, or a "
    "refusal when there are too many.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def paths(paths: tuple[Path, ...], to: str, start: str | None, limit: int | None, fmt: str) -> None:
    """The paths where customers get lost (or succeed), most probable first.

    A lost path ends in a lost outcome, at a dead end, by the drop-off of its last
    touchpoint, or in a loop with no way out. JSON for one file is a list of
    {steps, end, probability}; for several, a list of {journey, paths}.
    """
    from .analysis import fixes_of
    from .paths import find_paths

    results = [(j, find_paths(j, to=to, start=start, limit=limit)) for j in _load(paths)]
    many = _is_many(paths)
    if fmt == "json":
        data: Any = [
            {"journey": j.journey, "paths": [r.to_dict() for r in routes]} for j, routes in results
        ]
        if not many:
            data = data[0]["paths"]
        _echo_json(data, sum(len(j.touchpoints) for j, _ in results))
    elif fmt == "csv":
        import csv
        import sys

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["journey", "rank", "probability", "end", "steps"])
        for j, routes in results:
            for k, r in enumerate(routes, 1):
                w.writerow(
                    [j.journey, k, repr(r.to_dict()["probability"]), r.end, " > ".join(r.steps)]
                )
    else:
        from .dot import percent

        for i, (j, routes) in enumerate(results):
            if i:
                click.echo()
            head = terminal(f"{j.title} ({j.journey}): {len(routes)} paths to {to}")
            click.echo(head)
            click.echo("=" * len(head))
            for k, r in enumerate(routes, 1):
                click.echo(
                    f"{k:>4}. {percent(r.probability):>7}  {r.end:<9} {' -> '.join(r.steps)}"
                )
            click.echo()
            click.echo(terminal(_fix_first_text(j, fixes_of(j, start), start)))


def _time_text(r: Analysis) -> str:
    """Time to success per entry (mean, median, 90th percentile), as the table shows it."""
    from .dot import percent
    from .timing import SUCCESS, human_duration

    def show(seconds: float | None) -> str:
        return "?" if seconds is None else human_duration(seconds)

    rows = [(e, records[SUCCESS]) for e, records in r.time.entries.items() if SUCCESS in records]
    if not rows:
        return "Time to success: no entry reaches a success outcome"
    lines = [
        "Time to success by entry, of those who succeed:",
        f"  {'':<32} {'mean':>10} {'median':>10} {'90% within':>10}",
    ]
    for entry, t in rows:
        known = (
            ""
            if t.known_wait_share is None
            else f"  (waits written: {percent(t.known_wait_share)})"
        )
        lines.append(
            f"  {entry:<32} {show(t.mean_s):>10} {show(t.p50_s):>10} {show(t.p90_s):>10}{known}"
        )
    lines.extend(f"  note: {note}" for note in r.time.notes)
    return "\n".join(lines)


def _fix_first_text(j: Journey, fixes: list[Fix], start: str | None = None, top: int = 5) -> str:
    """The top fixes as a short list: what to change, and the customers it keeps."""
    from .fixes import describe, gain_text

    who = "who start" if start is None else f"who start at {start}"
    if not fixes:
        return "Fix first: nothing to fix (no drop-off, no way into a lost outcome to halve)"
    fixes = [fx for fx in fixes if fx.gain > 0 or (fx.gain_max or 0) > 0]
    if not fixes:
        return f"Fix first: no single change keeps a customer {who} (no success can be reached)"
    titles = {k: n.title for k, n in j.nodes.items()}
    lines = [f"Fix first: the customers each change keeps, per 1,000 {who}"]
    width = max(len(gain_text(fx)) for fx in fixes[:top])
    for k, fx in enumerate(fixes[:top], 1):
        lines.append(f"{k:>4}. {gain_text(fx):>{width}}  {describe(fx, titles)}")
    return "\n".join(lines)


# Canvas, worksheets and cards (#4) ----------------------------------------------


@cli.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--stages", default=None, help="Stage titles, comma separated, without a journey.")
@click.option("--prefill", is_flag=True, help="Put the journey's touchpoints in the worksheet.")
@OUTDIR
@_paper("A3")
@_orientation("landscape")
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "svg"]), default="pdf", show_default=True
)
@THEME
def worksheet(
    path: Path | None,
    stages: str | None,
    prefill: bool,
    outdir: Path,
    paper: str | None,
    orientation: str | None,
    fmt: str,
    theme: str | None,
) -> None:
    """A blank journey canvas for a workshop: stages, row labels, room for sticky notes.

    From a journey file (its stages) or from --stages "Awareness,Apply,Onboarding".
    """
    from .canvas import worksheet_svg
    from .model import Stage
    from .output import write_files
    from .themes import get_theme

    if path is None and stages is None:
        raise click.UsageError("give a journey file, or the stages with --stages")
    if path is not None and stages is not None:
        raise click.UsageError("give a journey file or --stages, not both")
    if prefill and path is None:
        raise click.UsageError("--prefill fills the worksheet from a journey file; give one")
    if fmt != "pdf":
        _only_for(click.get_current_context(), fmt, "pdf", "paper", "orientation")
    t = get_theme(theme)
    j: Journey | None = None
    cols: list[Stage] | None = None
    if path is not None:
        if path.is_dir():
            raise click.UsageError("worksheet takes one journey file")
        [j] = _load((path,))
        name = f"{j.journey}-worksheet"
    else:
        import re

        titles = [s.strip() for s in (stages or "").split(",") if s.strip()]
        if not titles:
            raise click.UsageError("--stages needs at least one stage title")
        ids = [
            re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or f"s{k}"
            for k, s in enumerate(titles)
        ]
        cols = [
            Stage(id=f"{k + 1}-{i}", title=s)
            for k, (i, s) in enumerate(zip(ids, titles, strict=True))
        ]
        name = "worksheet"
    notes: list[str] = []
    if fmt == "svg":
        data = worksheet_svg(j, cols, theme=t, prefill=prefill).encode("utf-8")
    else:
        from .printing import paper as paper_size
        from .printing import worksheet_pdf

        size = paper_size(paper or "A3", orientation or "landscape")
        data, notes = worksheet_pdf(j, cols, t, prefill=prefill, paper_size=size)
    for written in write_files({outdir / f"{name}.{fmt}": data}):
        click.echo(f"wrote {written}")
    for note in notes:
        click.echo(f"note: {terminal(note)}")


@cli.command()
@PATHS
@OUTDIR
@_paper("A4")
@_orientation("portrait")
def cards(
    paths: tuple[Path, ...], outdir: Path, paper: str | None, orientation: str | None
) -> None:
    """Printable touchpoint cards, several per page with cut lines: OUTPUT/<journey>-cards.pdf."""
    from .analysis import analyze as run
    from .output import write_files
    from .printing import cards_pdf
    from .printing import paper as paper_size

    size = paper_size(paper or "A4", orientation or "portrait")
    files = {
        outdir / f"{j.journey}-cards.pdf": cards_pdf(j, run(j, quantiles=False), size)
        for j in _load(paths)
    }
    for written in write_files(files):
        click.echo(f"wrote {written}")


# The HTML report (#5) -----------------------------------------------------------


def _log_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """How to read an event log: columns, object type, lifecycle, time zone, mapping.

    The command receives them as one ``read`` (a :class:`~journeymap.logs.readers.LogOptions`)
    and ``mapping`` (the MAPPING.yaml path or None), not as six separate values.
    """

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        case: str | None,
        activity: str | None,
        timestamp: str | None,
        object_type: str | None,
        lifecycle: str,
        timezone: str | None,
        **kwargs: Any,
    ) -> Any:
        from .logs.readers import LogOptions

        read = LogOptions(
            case=case,
            activity=activity,
            timestamp=timestamp,
            object_type=object_type,
            lifecycle="complete" if lifecycle == "complete" else "all",
            timezone=timezone,
        )
        return command(*args, read=read, **kwargs)

    options = [
        click.option(
            "--case",
            default=None,
            help="The case id column.  [default: case:concept:name, case_id, ...]",
        ),
        click.option(
            "--activity",
            default=None,
            help="The activity column.  [default: concept:name, activity, ...]",
        ),
        click.option(
            "--timestamp",
            default=None,
            help="The time column.  [default: time:timestamp, timestamp, ...]",
        ),
        click.option(
            "--object-type",
            default=None,
            help="OCEL: the object type whose objects are the cases (without it, the types are listed).",
        ),
        click.option(
            "--lifecycle",
            type=click.Choice(["all", "complete"]),
            default="all",
            show_default=True,
            help="XES: complete keeps only events whose lifecycle:transition is complete.",
        ),
        click.option(
            "--timezone",
            default=None,
            metavar="TZ",
            help="The zone of times written without an offset (Europe/Amsterdam).  [default: UTC]",
        ),
        click.option(
            "--map",
            "mapping",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="MAPPING.yaml: stages, touchpoint names, outcomes and ignored activities.",
        ),
    ]
    decorated: Callable[..., Any] = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def _progress() -> Callable[[int, int], None] | None:
    """A progress line on stderr for a log that takes more than two seconds to read."""
    import time

    if not sys.stderr.isatty():
        return None
    start = time.monotonic()
    shown = [False]

    def show(done: int, total: int) -> None:
        if time.monotonic() - start < 2.0 and not shown[0]:
            return
        shown[0] = True
        share = done / total if total else 1.0
        bar = "#" * int(30 * share)
        click.echo(f"\rreading the log [{bar:<30}] {share:4.0%}", err=True, nl=False)
        if done >= total:
            click.echo(err=True)

    return show


@cli.command()
@PATHS
@_output_file("The file to write [default: output/report.html, or output/report.md].")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True
)
@click.option(
    "--template",
    "template_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder of templates that replace the built-in ones (report.html.j2, report.css,"
    " report.js, report.md.j2).",
)
@click.option("--theme", default=None, help="Theme of the maps in the report.")
@CONFIG
@click.option(
    "--log",
    "logs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An event log to check the journey against (repeat for several files):"
    " adds an Observed section and draws the log's steps on the map.",
)
@_log_options
def report(
    paths: tuple[Path, ...],
    output: Path | None,
    fmt: str,
    template_dir: Path | None,
    theme: str | None,
    config_path: Path | None,
    logs: tuple[Path, ...],
    read: LogOptions,
    mapping: Path | None,
) -> None:
    """One self-contained report (HTML or Markdown) for one journey or a folder.

    With --log, for one journey: how the journey fits an event log (the log is read
    as `discover` and `compare` read it, with the same options).
    """
    from .findings import load_config
    from .output import write_files
    from .report import report_html, report_markdown

    if fmt == "md" and theme is not None:
        raise click.UsageError("--theme is for --format html; the Markdown report draws no maps")
    log_options = {
        "--case": read.case,
        "--activity": read.activity,
        "--timestamp": read.timestamp,
        "--object-type": read.object_type,
        "--timezone": read.timezone,
        "--map": mapping,
        "--lifecycle": None if read.lifecycle == "all" else read.lifecycle,
    }
    given = [name for name, value in log_options.items() if value is not None]
    if given and not logs:
        raise click.UsageError(f"{', '.join(given)} read an event log: give it with --log LOG")
    config = load_config(config_path) if config_path else None
    journeys = _load(paths)
    observed = None
    if logs:
        if len(journeys) != 1:
            raise click.UsageError(
                f"--log checks one journey against a log; {len(journeys)} journeys were given"
            )
        from .logs import compare

        found = compare(
            journeys[0], list(logs), options=read, mapping=mapping, progress=_progress()
        )
        observed = {journeys[0].journey: found}
    if fmt == "md":
        text = report_markdown(
            journeys, template_dir=template_dir, config=config, observed=observed
        )
    else:
        text = report_html(
            journeys, template_dir=template_dir, theme=theme, config=config, observed=observed
        )
    target = output or Path("output") / f"report.{fmt}"
    for path in write_files({target: text.encode("utf-8")}):
        click.echo(f"wrote {path}")


# Live preview (#13) -----------------------------------------------------------


@cli.command()
@click.argument("path", required=False, default=".", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1; 0 picks a free one.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
def serve(path: Path, port: int, open_browser: bool) -> None:
    """A live preview in the browser: map, canvas and report redrawn on every save.

    PATH is a journey file or a folder of them [default: the current folder].
    A broken file shows its problems in the page instead of the map. Listens on
    127.0.0.1 only; Ctrl-C stops it.
    """
    from .serve import serve as run

    run(path, port=port, open_browser=open_browser, log=lambda s: click.echo(terminal(s)))


# Starting a journey (#13) -------------------------------------------------------


@cli.command()
@click.argument(
    "path", required=False, type=click.Path(path_type=Path), default=Path("journey.yaml")
)
@click.option(
    "--kind",
    type=click.Choice(["candidate", "client", "blank"]),
    default="candidate",
    show_default=True,
    help="candidate or client: a short staffing journey to adapt; blank: the bare bones.",
)
def init(path: Path, kind: str) -> None:
    """Write a short, commented journey to start from [PATH: journey.yaml].

    Every key is shown once; it validates and renders as it is. The schema for
    editors (journey.schema.json) is written beside it unless one is there. An
    existing file is never overwritten.
    """
    from .output import write_files
    from .starter import init_files

    for written in write_files(init_files(path, kind)):
        click.echo(f"wrote {terminal(str(written))}")


@cli.command()
@_output_file("The file to write (journey.schema.json); without it, the schema goes to stdout.")
def schema(output: Path | None) -> None:
    """The JSON Schema of a journey file, for editors (VS Code's YAML extension)."""
    from .interop.schema import schema_json

    text = schema_json()
    if output is None:
        click.echo(text, nl=False)
        return
    from .output import write_files

    for written in write_files({output: text.encode("utf-8")}):
        click.echo(f"wrote {terminal(str(written))}")


# Diff (#13) --------------------------------------------------------------------


@cli.command("diff")
@click.argument("sides", nargs=-1, required=True, metavar="OLD NEW")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "md"]),
    default="text",
    show_default=True,
    help="md is a pull-request comment; json a stable interface for scripts.",
)
@CONFIG
def diff_(sides: tuple[str, ...], fmt: str, config_path: Path | None) -> None:
    """What changed between two versions of a journey, and what it does to the customers.

    OLD and NEW are journey files, or REV:PATH read through git (HEAD:journeys/x.yaml:
    PATH from the repository's top, or ./PATH from here); /dev/null is no journey.
    Exits with status 0 whether or not they differ (the JSON's "changed" says).
    Given the 7 arguments git passes an external diff, it is that driver (README).
    """
    from .diff import compare
    from .errors import JourneyError, UsageError
    from .findings import load_config

    if len(sides) == 1 and "GIT_DIFF_PATH_COUNTER" in os.environ:
        click.echo(terminal(f"{sides[0]}: unmerged"))  # git's external diff, for a conflict
        return
    config = load_config(config_path) if config_path else None
    try:
        d = compare(sides, config)
    except JourneyError as exc:
        if len(sides) == 2 or isinstance(exc, UsageError):
            raise
        # As git's external diff, a failure would stop git's whole diff: say why, go on.
        click.echo(terminal(str(exc)), err=True)
        click.echo(terminal(f"{sides[0]}: not compared as journeys (see the messages above)"))
        return
    if fmt == "json":
        _echo_json(d.to_dict(), d.size)
    else:
        click.echo(terminal(d.markdown() if fmt == "md" else d.text()), nl=fmt != "md")


# Importers and exporters (#13) ------------------------------------------------


@cli.group("import")
def import_() -> None:
    """Build a journey file from another format: a Mermaid journey diagram or a spreadsheet.

    The journey is written only once it validates; an existing file is never
    overwritten without --force.
    """


# import mermaid ----------------------------------------------------------------


def _import_options(journey_help: str) -> Callable[[_F], _F]:
    """FILE, -o OUT, --journey and --force: what every ``import`` command takes."""
    options = [
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        _output_file("The journey file to write (.yaml).", required=True),
        click.option("--journey", "journey_id", default=None, help=journey_help),
        click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists."),
    ]

    def apply(command: _F) -> _F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@import_.command("mermaid")
@_import_options("The journey's id.  [default: from FILE's name]")
def import_mermaid(file: Path, output: Path, journey_id: str | None, force: bool) -> None:
    """A journey from a Mermaid journey diagram (a .mmd file).

    Sections become stages, tasks touchpoints in the same order (each leading to
    the next), scores emotion (1..5 as -2..+2) and actors the owner. Other kinds
    of Mermaid diagram are refused.
    """
    from .interop.mermaid import import_file

    written = import_file(file, output, journey_id=journey_id, force=force)
    click.echo(f"wrote {terminal(str(written))}")


# import csv, import xlsx, inventory ---------------------------------------------


@cli.command()
@PATHS
@_output_file(
    "The spreadsheet to write: FILE.xlsx or FILE.csv (the format is its suffix).", required=True
)
def inventory(paths: tuple[Path, ...], output: Path) -> None:
    """The touchpoint inventory as a spreadsheet: one row per touchpoint, with the analysis.

    Every attribute of every touchpoint, stage and outcome of the journeys, the
    transitions in the `next` column, and reach, drop-off and findings beside
    them (read-only: `import csv` and `import xlsx` ignore them).
    """
    fmt = output.suffix.lower().removeprefix(".")
    if fmt not in ("csv", "xlsx"):
        raise click.UsageError(
            f"{terminal(str(output))}: the inventory is written as .xlsx or .csv, not"
            f" {terminal(output.suffix) or 'a file without a suffix'}"
        )
    from .interop.sheetfiles import inventory_bytes
    from .output import write_files

    for written in write_files({output: inventory_bytes(_load(paths), fmt)}):
        click.echo(f"wrote {terminal(str(written))}")


_sheet_options = _import_options(
    "Which journey of a sheet of several (its `journey` column); the id to give"
    " a sheet without that column.  [default: the sheet's one journey, or FILE's name]"
)


def _sheet_import(file: Path, output: Path, fmt: str, journey_id: str | None, force: bool) -> None:
    from .interop.sheetfiles import import_file

    written, j = import_file(file, output, fmt, journey=journey_id, force=force)
    click.echo(
        terminal(
            f"wrote {written}  ({j.journey}: {_count(len(j.stages), 'stage')},"
            f" {_count(len(j.touchpoints), 'touchpoint')}, {_count(len(j.outcomes), 'outcome')})"
        )
    )


@import_.command("csv")
@_sheet_options
def import_csv(file: Path, output: Path, journey_id: str | None, force: bool) -> None:
    """A journey from a CSV sheet: the inventory `journeymap inventory` writes, or a team's own.

    One row per touchpoint, columns named as the keys of a journey file (id, stage,
    title, channel, owner, ...); `next` lists the ids that follow. Comma, semicolon
    or tab separated, UTF-8 (or UTF-16 with its byte order mark). Every problem is
    reported as FILE:ROW:COLUMN, and nothing is written unless the whole journey is valid.
    """
    _sheet_import(file, output, "csv", journey_id, force)


@import_.command("xlsx")
@_sheet_options
def import_xlsx(file: Path, output: Path, journey_id: str | None, force: bool) -> None:
    """A journey from an Excel workbook: the sheet named touchpoints, or the first one.

    The same columns as `import csv`. Cells are read as values: a formula is refused
    (paste its value instead). Every problem is reported as FILE:ROW:COLUMN, and
    nothing is written unless the whole journey is valid.
    """
    _sheet_import(file, output, "xlsx", journey_id, force)


# Event logs (#11) ---------------------------------------------------------------


@cli.command()
@click.argument("logs", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_output_file("The journey file to write (.yaml, or .json).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default=None,
    help="The journey file's format.  [default: from OUTPUT's extension]",
)
@click.option(
    "--journey", "journey_id", default=None, help="The journey's id.  [default: from OUTPUT's name]"
)
@click.option(
    "--counts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Build the journey from the result of --print-sql run elsewhere (CSV: from, to, count, median_wait_s) instead of a log.",
)
@click.option(
    "--print-sql",
    is_flag=True,
    help="Print the SQL of the aggregation, for a warehouse or Spark, and stop.",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@_log_options
def discover(
    logs: tuple[Path, ...],
    output: Path | None,
    fmt: str | None,
    journey_id: str | None,
    counts: Path | None,
    print_sql: bool,
    force: bool,
    read: LogOptions,
    mapping: Path | None,
) -> None:
    """A journey from event logs: what customers did, as a journey file.

    LOG is CSV (any delimiter), Parquet, XES (.xes, .xes.gz), OCEL 1.0 or 2.0 JSON,
    or OCEL 2.0 SQLite; several LOGs are one log (a case id in two files is one
    case). One touchpoint per activity, one transition per pair of activities that
    follow each other in a case, with its count and median wait; entries with the
    number of cases starting there. A summary goes to stderr.
    """
    from .logs import discover_file
    from .logs import print_sql as sql_text

    if print_sql:
        if logs or output or counts:
            raise click.UsageError(
                "--print-sql takes no LOG, -o or --counts: it prints the SQL and stops"
            )
        click.echo(sql_text(mapping), nl=False)
        return
    if output is None:
        raise click.UsageError("Missing option '-o' / '--output'.")
    if bool(logs) == bool(counts):
        raise click.UsageError("give LOG files, or --counts FILE.csv (not both)")
    written, found = discover_file(
        logs,
        output,
        fmt="json" if fmt == "json" else "yaml" if fmt == "yaml" else None,
        options=read,
        mapping=mapping,
        counts=counts,
        journey_id=journey_id,
        force=force,
        progress=_progress(),
    )
    for line in found.summary.lines():
        click.echo(terminal(line), err=True)
    click.echo(f"wrote {terminal(str(written))}")


# Compare (#11) ------------------------------------------------------------------


@cli.command()
@click.argument("journey", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument(
    "logs",
    nargs=-1,
    required=True,
    metavar="LOG...",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@_log_options
def compare(
    journey: Path,
    logs: tuple[Path, ...],
    fmt: str,
    read: LogOptions,
    mapping: Path | None,
) -> None:
    """How well a declared journey fits an event log: fitness and deviations.

    JOURNEY is a journey file; LOG files are read as `discover` reads them. A log
    activity is the touchpoint or outcome whose id or title it is (ignoring case),
    or the one --map names. Shows the share of cases that follow a declared path,
    declared shares outside the log's 95% interval, transitions the journey lacks
    or the log never shows, and activities the journey does not name.
    """
    from .logs import compare as run
    from .logs.conformance import conformance_table

    found = run(journey, logs, options=read, mapping=mapping, progress=_progress())
    if fmt == "json":
        _echo_json(found.to_dict(), len(found.transitions))
    else:
        click.echo(terminal(conformance_table(found)))


def main() -> None:
    """The console script.

    A journey of 100,000 touchpoints is over a million Python objects; freeing
    them one by one when the command ends costs half a second and gives nothing
    back, as the process ends right after. So the script keeps them, flushes its
    output and leaves at once with the status click chose. Calling ``main()`` thus
    ends the process; programs that embed the CLI call ``cli.main(...)`` or use
    click's test runner, where nothing of this happens.
    """
    global _KEEP
    _KEEP = []
    # One BLAS thread, set before numpy is first imported: the solves are sparse and
    # small per call, and on two shared cores OpenBLAS's threads made the largest
    # one 8x slower (0.8 s against 0.1 s). A user's own setting wins.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    # No pydantic plugins: journeymap uses none, and any installed in the environment
    # would run inside the validation of every file read. Looking for them reads the
    # metadata of every installed package, 10 ms of a 0.25 s start.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli(prog_name="journeymap")
        code: Any = 0
    except SystemExit as stop:
        code = stop.code
    except OSError as exc:  # writing failed: a full disk, a closed stream, no permission
        _cannot_write(exc)
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader has gone (`| head`): nothing to tell it
        code = code or 1
    except (OSError, ValueError) as exc:  # a full disk, a closed stream
        _cannot_write(exc)
        code = code or 1
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 1
    os._exit(code)


def _cannot_write(exc: OSError | ValueError) -> None:
    filename = getattr(exc, "filename", None)
    reason = getattr(exc, "strerror", None) or exc
    where = f"{filename}: " if filename else "the output: "
    print(f"error: cannot write {where}{reason}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    main()
