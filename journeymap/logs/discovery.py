"""A journey from an event log: directly-follows counts, starts, ends, median waits.

The whole aggregation is one SQL text (:func:`counts_sql`) over a relation
``events(case_id, activity, ts, seq)``: journeymap runs it in DuckDB over the
files it reads, and ``discover --print-sql`` prints it for a warehouse or a
Spark cluster whose result ``discover --counts`` then turns into the same
journey. Its rows are ``(from, to, count, median_wait_s)``: ``from`` empty for
the cases that start at ``to``, ``to`` empty for those that end at ``from``.

From those rows alone (:func:`journey_from_counts`, pure) the journey follows:
one touchpoint per activity whose ``volume`` is its number of events, one
transition per pair with its count and median wait, entries with the number
of cases that start there. So every touchpoint's drop-off is the share of its
events after which the case ends, and the expected absorptions of the journey
are the observed ends: the success share of a discovered journey is exactly
the share of cases that reach a success outcome.

With a mapping (:mod:`journeymap.logs.mapping`), an outcome activity ends its
case's path (events after the first outcome are counted in the summary, not
in the journey) and ignored activities are left out before pairs are formed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JourneyError, Problem
from .mapping import Mapping

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from .readers import LogOptions

__all__ = [
    "Counts",
    "Discovery",
    "Summary",
    "activity_title",
    "counts_from_events",
    "counts_sql",
    "discover",
    "engine_error",
    "journey_from_counts",
    "read_counts",
    "steps_sql",
]

#: DuckDB's memory budget for reading and aggregating a log (it spills past it).
MEMORY_LIMIT = "1GB"

#: One row of the counts: (from, to, count, median wait in seconds).
Row = tuple[str | None, str | None, int, float | None]


@dataclass(frozen=True)
class Counts:
    """The aggregation's rows, with the activity names they use."""

    rows: list[Row]

    @property
    def activities(self) -> list[str]:
        names = {a for r in self.rows for a in r[:2] if a is not None}
        return sorted(names)

    @property
    def cases(self) -> int:
        return sum(r[2] for r in self.rows if r[0] is None)


@dataclass(frozen=True)
class Summary:
    """What ``discover`` says on stderr about the log it read."""

    cases: int
    events: int
    activities: int
    transitions: int
    first: datetime | None = None
    last: datetime | None = None
    variants: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    after_outcome: int = 0
    ignored: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary as lines of text (names still to be escaped for a terminal)."""
        out = [
            f"{self.cases:,} case{'s' * (self.cases != 1)}, {self.events:,} events,"
            f" {self.activities:,} activities, {self.transitions:,} transitions"
        ]
        if self.first is not None and self.last is not None:
            out.append(
                f"from {self.first.isoformat(sep=' ')} to {self.last.isoformat(sep=' ')} (UTC)"
            )
        if self.ignored:
            out.append(f"{self.ignored:,} events of ignored activities left out")
        if self.after_outcome:
            out.append(
                f"{self.after_outcome:,} events after a case's first outcome left out"
                " (a path ends at its first outcome)"
            )
        if self.variants:
            out.append(f"the {len(self.variants)} most common variants:")
            for steps, count in self.variants:
                share = count / self.cases if self.cases else 0.0
                out.append(f"  {share:6.1%}  {count:>7,}  {_variant(steps)}")
        out.extend(self.notes)
        return out


def _variant(steps: tuple[str, ...], limit: int = 8) -> str:
    if len(steps) <= limit:
        return " > ".join(steps)
    return " > ".join([*steps[: limit - 2], f"... {len(steps) - limit + 1} more ...", steps[-1]])


@dataclass(frozen=True)
class Discovery:
    """A discovered journey: its data (as a journey file holds it) and the summary."""

    data: dict[str, Any]
    summary: Summary
    counts: Counts


# --- the SQL -------------------------------------------------------------------------


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(names: Sequence[str]) -> str:
    return "(" + ", ".join(_lit(n) for n in names) + ")"


def steps_sql(outcomes: Sequence[str], ignore: Sequence[str]) -> str:
    """The CTEs up to ``steps``: each kept event with the next one of its case."""
    kept = "SELECT case_id, activity, ts, seq FROM events"
    if ignore:
        kept += f"\n    WHERE activity NOT IN {_in_list(sorted(ignore))}"
    parts = [
        f"kept AS (\n    {kept}\n)",
        "ranked AS (\n"
        "    SELECT case_id, activity, ts,\n"
        "           row_number() OVER (PARTITION BY case_id ORDER BY ts, seq) AS k\n"
        "    FROM kept\n)",
    ]
    source = "ranked"
    if outcomes:
        parts.append(
            "ends_at AS (  -- a case's path ends at its first outcome\n"
            "    SELECT case_id, min(k) AS last FROM ranked\n"
            f"    WHERE activity IN {_in_list(sorted(outcomes))}\n"
            "    GROUP BY case_id\n)"
        )
        parts.append(
            "path AS (\n"
            "    SELECT r.case_id, r.activity, r.ts, r.k\n"
            "    FROM ranked r LEFT JOIN ends_at e ON r.case_id = e.case_id\n"
            "    WHERE e.last IS NULL OR r.k <= e.last\n)"
        )
        source = "path"
    parts.append(
        "steps AS (\n"
        "    SELECT case_id, activity, ts, k,\n"
        "           lead(activity) OVER w AS next_activity,\n"
        "           lead(ts) OVER w AS next_ts\n"
        f"    FROM {source}\n"
        "    WINDOW w AS (PARTITION BY case_id ORDER BY k)\n)"
    )
    return "WITH\n" + ",\n".join(parts)


#: The aggregation over ``steps``: starts, then pairs and ends.
_COUNTS = """\
SELECT CAST(NULL AS VARCHAR) AS "from", activity AS "to", count(*) AS "count",
       CAST(NULL AS DOUBLE) AS median_wait_s
FROM steps WHERE k = 1 GROUP BY activity
UNION ALL
SELECT activity AS "from", next_activity AS "to", count(*) AS "count",
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM next_ts - ts))
           AS median_wait_s
FROM steps GROUP BY activity, next_activity
ORDER BY "from" NULLS FIRST, "to" NULLS LAST"""

_HEADER = """\
-- journeymap discover: the directly-follows counts of an event log, in one query.
-- Input: a table or view events(case_id, activity, ts, seq): one row per event, ts
-- its time (a TIMESTAMP, in UTC), seq its position in the log (any number that
-- keeps the order of events with equal times; a row id will do).
-- Output rows (from, to, count, median_wait_s): from empty for the cases starting
-- at to, to empty for those ending at from; median_wait_s is the median time
-- between the two events, in seconds. Save them as CSV and run
--   journeymap discover --counts FILE.csv -o journey.yaml [--map MAPPING.yaml]
-- Written for DuckDB and PostgreSQL; elsewhere adapt percentile_cont and
-- EXTRACT(EPOCH FROM ...) to the engine's own median and seconds between times.
"""


#: The most common variants. A case's sequence is keyed by a sum of hashes of
#: (position, activity) and its length, so every step is a fixed-size group-by that
#: DuckDB can spill: grouping by the lists themselves kept two million distinct
#: variants in memory and failed under the 1 GB limit on 20,000,000 events. Each
#: variant shown is read back from one of its cases (the first by case id). Two
#: sequences whose keys collide would be counted as one: a summary line, not a number
#: of the journey, and at 128 bits of sum not a practical risk.
_VARIANTS = """\
WITH keyed AS (
    SELECT case_id, sum(hash(k, activity)::HUGEINT) AS h, count(*) AS len
    FROM steps GROUP BY case_id
),
ranked AS (
    SELECT h, len, count(*) AS n, min(case_id) AS example
    FROM keyed GROUP BY h, len ORDER BY n DESC, example LIMIT ?
)
SELECT list(s.activity ORDER BY s.k) AS v, any_value(r.n) AS n
FROM ranked r JOIN steps s ON s.case_id = r.example
GROUP BY r.example ORDER BY n DESC, v"""


def counts_sql(outcomes: Sequence[str] = (), ignore: Sequence[str] = ()) -> str:
    """The one SQL text of the aggregation, for ``--print-sql`` and for the run.

    ``outcomes`` are the activities that end a case's path (at their first
    occurrence); ``ignore`` those left out before pairs are formed. Both as the
    log spells them.
    """
    return f"{_HEADER}{steps_sql(outcomes, ignore)}\n{_COUNTS};\n"


def counts_from_events(
    con: DuckDBPyConnection,
    outcomes: Sequence[str] = (),
    ignore: Sequence[str] = (),
    *,
    variants: int = 5,
) -> tuple[Counts, Summary]:
    """Run the aggregation over ``events`` in ``con``, and gather the summary.

    The rows of ``steps`` are made once (a temporary table) and read by the
    counts, the variants and the time span, so a CSV log is parsed once.
    """
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE steps AS\n{steps_sql(outcomes, ignore)}\nSELECT * FROM steps"
    )
    rows: list[Row] = [
        (f, t, int(c), None if m is None else float(m))
        for f, t, c, m in con.execute(_COUNTS).fetchall()
    ]
    counts = Counts(rows)
    events, first, last, alone, repeated = con.execute(
        "SELECT count(*), min(ts), max(ts),"
        " count(*) FILTER (WHERE k = 1 AND next_activity IS NULL),"
        " count(*) FILTER (WHERE next_activity = activity AND next_ts = ts)"
        " FROM steps"
    ).fetchone() or (0, None, None, 0, 0)
    top = con.execute(_VARIANTS, [variants]).fetchall()
    after = 0
    if outcomes:
        row = con.execute(
            "SELECT count(*) FROM ("
            " SELECT activity, row_number() OVER (PARTITION BY case_id ORDER BY ts, seq) AS k,"
            f" min(CASE WHEN activity IN {_in_list(sorted(outcomes))} THEN 1 END) OVER"
            " (PARTITION BY case_id ORDER BY ts, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS seen"
            f" FROM events{_where_not(ignore)}"
            ") WHERE seen = 1"
        ).fetchone()
        after = int(row[0]) if row else 0
    ignored = 0
    if ignore:
        row = con.execute(
            f"SELECT count(*) FROM events WHERE activity IN {_in_list(sorted(ignore))}"
        ).fetchone()
        ignored = int(row[0]) if row else 0
    con.execute("DROP TABLE steps")
    summary = Summary(
        cases=counts.cases,
        events=int(events),
        activities=len(counts.activities),
        transitions=sum(1 for r in rows if r[0] is not None and r[1] is not None),
        first=first,
        last=last,
        variants=[(tuple(v), int(n)) for v, n in top],
        after_outcome=after,
        ignored=ignored,
        notes=_oddities(int(alone), int(repeated)),
    )
    return counts, summary


def _oddities(alone: int, repeated: int) -> list[str]:
    """What a log may hold by mistake, said rather than hidden (both are counted as read)."""
    notes = []
    if alone:
        notes.append(
            f"{alone:,} case{'s' * (alone != 1)} of a single event: each starts and ends there"
        )
    if repeated:
        notes.append(
            f"{repeated:,} event{'s' * (repeated != 1)} repeat{'s' * (repeated == 1)} the one"
            " before in its case"
            " (same activity, same time): counted as a step from the activity to itself;"
            " remove duplicates from the log if they are not real"
        )
    return notes


def engine_error(logs: Sequence[str | Path], exc: Exception) -> JourneyError:
    """What went wrong in DuckDB while aggregating, as a message naming the logs.

    Reading problems are found (with their line) before any aggregation; what is
    left is the machine: memory, disk space for spilling, an interrupted read.
    """
    first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
    hint = ""
    if "memory" in first.lower():
        hint = (
            f"; journeymap lets DuckDB use {MEMORY_LIMIT} and spill the rest to a scratch"
            " folder in the system's temporary directory (TMPDIR): give it more room there"
        )
    names = ", ".join(str(p) for p in logs)
    return JourneyError(f"{names}: the log could not be aggregated: {first}{hint}")


def _where_not(ignore: Sequence[str]) -> str:
    return f" WHERE activity NOT IN {_in_list(sorted(ignore))}" if ignore else ""


# --- counts from a file (--counts) ---------------------------------------------------


def read_counts(path: str | Path) -> Counts:
    """The aggregation's result saved as CSV (``from,to,count,median_wait_s``).

    What ``--print-sql`` ran elsewhere. Every problem is reported with its line.
    """
    from ..loader import read_regular

    name = str(path)
    try:
        raw = read_regular(path, 1 << 30, "counts files")
        text = raw.decode("utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:
        raise JourneyError([Problem(name, 1, 1, f"cannot read counts: {exc}")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    wanted = ["from", "to", "count", "median_wait_s"]
    if header is None:
        raise JourneyError(
            [Problem(name, 1, 1, "empty file: expected the columns " + ",".join(wanted))]
        )
    found = [h.strip().lower() for h in header]
    missing = [w for w in wanted if w not in found]
    if missing:
        raise JourneyError(
            [
                Problem(
                    name,
                    1,
                    1,
                    f"missing column{'s' * (len(missing) > 1)} {', '.join(missing)};"
                    f" the columns found: {', '.join(header) or '(none)'}",
                )
            ]
        )
    at = {w: found.index(w) for w in wanted}
    rows: list[Row] = []
    problems: list[Problem] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(found):
            problems.append(Problem(name, line, 1, f"{len(cells)} cells, expected {len(found)}"))
            continue
        src = cells[at["from"]] or None
        dst = cells[at["to"]] or None
        if src is None and dst is None:
            problems.append(Problem(name, line, at["from"] + 1, "from and to are both empty"))
            continue
        try:
            count = float(cells[at["count"]])
            if count < 0 or not count.is_integer():
                raise ValueError
        except ValueError:
            problems.append(
                Problem(
                    name,
                    line,
                    at["count"] + 1,
                    f"count {cells[at['count']]!r} is not a whole number, 0 or more",
                )
            )
            continue
        wait_cell = cells[at["median_wait_s"]].strip()
        wait: float | None = None
        if wait_cell and src is not None and dst is not None:
            try:
                wait = float(wait_cell)
                if not math.isfinite(wait) or wait < 0:
                    raise ValueError
            except ValueError:
                problems.append(
                    Problem(
                        name,
                        line,
                        at["median_wait_s"] + 1,
                        f"median_wait_s {wait_cell!r} is not a number of seconds, 0 or more",
                    )
                )
                continue
        rows.append((src, dst, int(count), wait))
    if problems:
        raise JourneyError(problems[:50])
    if not rows:
        raise JourneyError([Problem(name, 2, 1, "no rows: the counts hold no case")])
    return Counts(rows)


# --- the journey ----------------------------------------------------------------------

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def activity_title(activity: str) -> str:
    """An activity name as a title: controls a journey file cannot hold become spaces."""
    return " ".join(_CONTROLS.sub(" ", activity).split()) or "(unnamed activity)"


class _Ids:
    """Ids from names, each used once: a collision gets -2, -3 and is reported."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.notes: list[str] = []
        self.first: dict[str, str] = {}

    def take(self, wanted: str, name: str, what: str) -> str:
        from ..model import slug

        base = wanted or slug(activity_title(name))
        if not base:
            # No letter or digit a slug keeps (a name in Chinese, or only punctuation).
            base = what
            n = 1
            while f"{base}-{n}" in self.used:
                n += 1
            ident = f"{base}-{n}"
            self.notes.append(f"'{name}' makes no id: the {what} of '{name}' is {ident}")
            self.used.add(ident)
            self.first.setdefault(ident, name)
            return ident
        ident, n = base, 1
        while ident in self.used:
            n += 1
            ident = f"{base}-{n}"
        if ident != base:
            self.notes.append(
                f"'{name}' and '{self.first[base]}' both make the id {base}: the {what} of"
                f" '{name}' is {ident}"
            )
        self.used.add(ident)
        self.first.setdefault(ident, name)
        return ident


def _order(counts: Counts, outcomes: set[str]) -> list[str]:
    """Activities in the order customers meet them: breadth first from the starts.

    The most common start first, and from each activity the most common next
    ones first. Only counts are used, so a journey from ``--counts`` is laid out
    like one from the log itself.
    """
    starts = Counter({r[1]: r[2] for r in counts.rows if r[0] is None and r[1] is not None})
    nexts: dict[str, list[tuple[int, str]]] = {}
    for src, dst, n, _ in counts.rows:
        if src is not None and dst is not None:
            nexts.setdefault(src, []).append((-n, dst))
    seen: list[str] = []
    done: set[str] = set()
    queue = deque(sorted(starts, key=lambda a: (-starts[a], a)))
    for a in queue:
        done.add(a)
    while queue:
        a = queue.popleft()
        seen.append(a)
        for _, b in sorted(nexts.get(a, ())):
            if b not in done:
                done.add(b)
                queue.append(b)
    rest = [a for a in counts.activities if a not in done]
    return [a for a in seen + rest if a not in outcomes]


def journey_from_counts(
    counts: Counts,
    mapping: Mapping | None = None,
    *,
    resolved: dict[str, str] | None = None,
    journey_id: str = "observed",
    title: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The journey file's data, and notes for the summary (ids changed, ...).

    ``resolved`` maps each activity the mapping names to the log's spelling
    (:meth:`Mapping.resolve`); by default the mapping's names are taken as written.
    """
    from ..model import format_duration, title_from_id

    mapping = mapping or Mapping()
    if resolved is None:
        resolved = {n: n for names in mapping.named().values() for n in names}
    outcome_of = {resolved[a]: spec for a, spec in mapping.outcomes.items()}
    stage_of = {resolved[a]: s for a, s in mapping.stages.items()}
    fields_of = {resolved[a]: f for a, f in mapping.touchpoints.items()}
    ids = _Ids()
    notes: list[str] = []

    # Stages: as the mapping orders them, or one for everything.
    stage_ids: dict[str, str] = {}
    stages: list[dict[str, Any]] = []
    stage_names = _Ids()  # stages have ids of their own, apart from touchpoints'
    for name in mapping.stage_order():
        ident = stage_names.take("", name, "stage")
        stage_ids[name] = ident
        stages.append({"id": ident, "title": name})
    order = _order(counts, set(outcome_of))
    loose = [a for a in order if stage_of.get(a) is None and "stage" not in fields_of.get(a, {})]
    if loose or not stages:
        label = "Observed" if not stages else "Not staged"
        ident = stage_names.take("", label, "stage")
        stage_ids[label] = ident
        stages.append({"id": ident, "title": label})
        for a in loose:
            stage_of[a] = label
        if mapping.stages:
            notes.append(
                f"{len(loose)} activit{'y' if len(loose) == 1 else 'ies'} the mapping gives no"
                f" stage: in the stage '{label}'"
            )
    node_id: dict[str, str] = {}
    for a in order:
        node_id[a] = ids.take(str(fields_of.get(a, {}).get("id") or ""), a, "touchpoint")
    outcome_names = [a for a in counts.activities if a in outcome_of]
    for a in sorted(outcome_names, key=lambda a: list(outcome_of).index(a)):
        node_id[a] = ids.take(outcome_of[a].id or "", a, "outcome")

    events = Counter[str]()
    out: dict[str, list[tuple[str, int, float | None]]] = {}
    starts: Counter[str] = Counter()
    for src, dst, n, wait in counts.rows:
        if src is None:
            starts[dst or ""] += n
            continue
        events[src] += n
        if dst is not None:
            out.setdefault(src, []).append((dst, n, wait))
    touchpoints: list[dict[str, Any]] = []
    for a in order:
        extra = {k: v for k, v in fields_of.get(a, {}).items() if k not in ("id", "stage")}
        stage = fields_of.get(a, {}).get("stage") or stage_of[a]
        tp: dict[str, Any] = {
            "id": node_id[a],
            "title": extra.pop("title", None) or activity_title(a),
            "stage": stage_ids[stage],
            **extra,
            "volume": events[a],
        }
        nxt = []
        for dst, n, wait in sorted(out.get(a, ()), key=lambda t: (-t[1], node_id[t[0]])):
            t: dict[str, Any] = {"to": node_id[dst], "volume": n}
            if wait is not None:
                t["wait"] = format_duration(wait)
            nxt.append(t)
        if nxt:
            tp["next"] = nxt
        touchpoints.append(tp)
    outcomes = []
    for a in sorted(outcome_names, key=lambda a: list(outcome_of).index(a)):
        spec = outcome_of[a]
        o: dict[str, Any] = {
            "id": node_id[a],
            "title": spec.title or activity_title(a),
            "result": spec.result,
        }
        if spec.description:
            o["description"] = spec.description
        outcomes.append(o)
    if not touchpoints:
        raise JourneyError(
            "every case starts at an outcome: no touchpoint to make a journey of"
            " (see the outcomes of the mapping)"
        )
    entries = [{"id": node_id[a], "volume": starts[a]} for a in order if starts[a]]
    at_outcome = sum(n for a, n in starts.items() if a in outcome_of)
    if at_outcome:
        notes.append(
            f"{at_outcome:,} case{'s' * (at_outcome != 1)} start at an outcome: left out of the journey"
        )
    data: dict[str, Any] = {"journey": mapping.journey or journey_id}
    data["title"] = mapping.title or title or f"{title_from_id(data['journey'])} (observed)"
    if mapping.description:
        data["description"] = mapping.description
    if mapping.kind:
        data["kind"] = mapping.kind
    data["stages"] = stages
    data["touchpoints"] = touchpoints
    if outcomes:
        data["outcomes"] = outcomes
    data["entries"] = entries
    return data, stage_names.notes + ids.notes + notes


def discover(
    logs: Sequence[str | Path] = (),
    *,
    options: LogOptions | None = None,
    mapping: Mapping | None = None,
    counts_file: str | Path | None = None,
    journey_id: str = "observed",
    progress: Callable[[int, int], None] | None = None,
) -> Discovery:
    """Read the logs (or the counts), aggregate, and build the journey's data."""
    mapping = mapping or Mapping()
    if counts_file is not None:
        counts = read_counts(counts_file)
        resolved = mapping.resolve(counts.activities)
        summary = Summary(
            cases=counts.cases,
            events=sum(r[2] for r in counts.rows if r[0] is not None),
            activities=len(counts.activities),
            transitions=sum(1 for r in counts.rows if r[0] is not None and r[1] is not None),
        )
    else:
        import tempfile

        from .readers import LogOptions, connect, load_events, require_duckdb

        # DuckDB keeps within MEMORY_LIMIT by spilling to a scratch folder of its own,
        # removed afterwards: a 20,000,000-event log then peaks near 1.1 GB.
        duckdb = require_duckdb()
        with tempfile.TemporaryDirectory(prefix="journeymap-") as spill:
            con = connect(memory_limit=MEMORY_LIMIT, temp_directory=spill)
            try:
                load_events(con, [str(p) for p in logs], options or LogOptions(), progress)
                found = con.execute("SELECT DISTINCT activity FROM events ORDER BY 1").fetchall()
                resolved = mapping.resolve([a for (a,) in found])
                counts, summary = counts_from_events(
                    con,
                    [resolved[a] for a in mapping.outcomes],
                    [resolved[a] for a in mapping.ignore],
                )
            except duckdb.Error as exc:
                raise engine_error(logs, exc) from None
            finally:
                con.close()
        if not counts.rows:
            raise JourneyError(
                f"{', '.join(str(p) for p in logs)}: no events left to make a journey of"
            )
    data, notes = journey_from_counts(counts, mapping, resolved=resolved, journey_id=journey_id)
    summary = replace(summary, notes=[*summary.notes, *notes])
    return Discovery(data, summary, counts)
