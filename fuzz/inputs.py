"""Fuzz inputs: hostile journey files, each a pure function of (seed, index).

Every input is rebuilt from ``random.Random(f"{seed}:{index}")`` alone, so a finding
in a long parallel run is reproduced by its seed and index, whatever ran before it.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "journeys" / "candidate.yaml", ROOT / "journeys" / "client.yaml"]
STRATEGIES = ROOT / "tests" / "strategies.py"

# Marker strings whose raw appearance in SVG, HTML or DOT (outside a quoted string)
# means user text reached markup unescaped. Each carries a token ("fz...") that no
# template contains, so a legitimate `</style>` of the report is never mistaken.
MARKERS = (
    "<script>fzA()</script>",
    "</style><i>fzB</i>",
    '"><svg onload=fzC>',
    "]]><fzD/>",
    "<!--fzF-->",
)
# Text that would show up only if a template evaluated user text.
TEMPLATE_PROBE = "{{ 'fz' ~ 'E' }}"
TEMPLATE_EVALUATED = "fzE"

HUGE_INT = "9" * 5000
HOSTILE = (
    "&a",
    "*a",
    "&anchor [1, 2]",
    "*anchor",
    "<<: *a",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!custom x",
    "!!set {a, b}",
    "!!timestamp 2001-12-14",
    "!!float x",
    "[" * 3000,
    "{" * 3000,
    "[" * 5000 + "]" * 5000,
    "- " * 400 + "x",
    "\x00",
    "\x07",
    "\x1b]0;title\x07",
    "\x1b[31mred\x1b[0m",
    "\x9b31m",
    "\u202e",
    "\u2028",
    "\x85",
    "\ufeff",
    "\r",
    "\t",
    "</style><script>",
    "{{ 7*7 }}",
    TEMPLATE_PROBE,
    *MARKERS,
    "1e308",
    "-1e308",
    "1e309",
    "1e-300",
    "5e-324",
    HUGE_INT,
    "-" + HUGE_INT,
    "0." + "0" * 400 + "1",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "NaN",
    "Infinity",
    "-1",
    "-0",
    "-0.0",
    "0x1F",
    "0o17",
    "1_000",
    "190:20:30",
    "~",
    "null",
    "yes",
    "on",
    "2001-01-01",
    "---",
    "...",
    "%YAML 1.1",
    "? complex",
    "|",
    ">",
    '"\\x"',
    "'unterminated",
    "x" * 100_000,
    "é" * 5000,
    "😀" * 50,
    "\ud800",
)
HOSTILE_STRINGS = (
    *MARKERS,
    TEMPLATE_PROBE,
    "\x1b]0;title\x07",
    "\x1b[2J",
    "a\u202eb",
    "line\nbreak",
    "tab\there",
    "\x00nul",
    "\x9bcsi",
    "x" * 20_000,
    "",
    " ",
    "日本語のタッチポイント",
    "&amp; &lt;",
    "\\N \\G \\l",
    '" ; evil [label="x"]',
    "{{ 7*7 }}",
    "%s %n",
)
# What a valid journey may carry: markup, template syntax, scripts the fonts lack.
PRINTABLE_HOSTILE = (
    *MARKERS,
    TEMPLATE_PROBE,
    "a\u202eb",
    "日本語",
    "&amp; &lt;",
    "\\N \\G",
    '" ; x [',
    "%s",
)
HOSTILE_NUMBERS: tuple[Any, ...] = (
    float("nan"),
    float("inf"),
    float("-inf"),
    -1,
    -0.0,
    0,
    1e308,
    1e-300,
    5e-324,
    10**5000,
    1.0000000001,
    0.9999999999,
    1 + 1e-9,
    1 - 1e-9,
    2**63,
    "5",
    True,
    None,
    [],
    {},
)


@dataclass(frozen=True)
class FuzzInput:
    """One file to try: ``name`` gives the suffix the loader sees."""

    index: int
    kind: str
    name: str
    data: bytes
    note: str


def _example(i: int) -> tuple[Path, bytes]:
    path = EXAMPLES[i % len(EXAMPLES)]
    return path, path.read_bytes()


# Text-level mutations ------------------------------------------------------------


def _text_mutation(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    ops: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
        lines = data.split(b"\n")
        op = rng.choice(
            (
                "flip",
                "delete",
                "duplicate",
                "swap",
                "token",
                "value",
                "value",
                "indent",
                "truncate",
                "dupkey",
                "bom",
                "badutf8",
            )
        )
        n = rng.randrange(len(lines))
        if op == "flip" and data:
            pos = rng.randrange(len(data))
            data = data[:pos] + bytes([data[pos] ^ (1 << rng.randrange(8))]) + data[pos + 1 :]
        elif op == "delete":
            del lines[n]
            data = b"\n".join(lines)
        elif op == "duplicate":
            lines.insert(n, lines[n])
            data = b"\n".join(lines)
        elif op == "swap":
            m = rng.randrange(len(lines))
            lines[n], lines[m] = lines[m], lines[n]
            data = b"\n".join(lines)
        elif op == "token":
            pos = rng.randrange(len(data) + 1)
            token = rng.choice(HOSTILE).encode("utf-8", "surrogatepass")
            data = data[:pos] + token + data[pos:]
        elif op == "value":
            candidates = [k for k, line in enumerate(lines) if b": " in line]
            if candidates:
                k = rng.choice(candidates)
                head = lines[k].split(b": ", 1)[0]
                value = rng.choice(HOSTILE).encode("utf-8", "surrogatepass")
                lines[k] = head + b": " + value
                data = b"\n".join(lines)
        elif op == "indent":
            lines[n] = (b"  " + lines[n]) if rng.random() < 0.5 else lines[n][2:]
            data = b"\n".join(lines)
        elif op == "truncate":
            data = data[: rng.randrange(len(data) + 1)]
        elif op == "dupkey":
            keyed = [k for k, line in enumerate(lines) if b": " in line and b"- " not in line]
            if keyed:
                k = rng.choice(keyed)
                lines.insert(k + 1, lines[k])
                data = b"\n".join(lines)
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
        elif op == "badutf8":
            pos = rng.randrange(len(data) + 1)
            data = (
                data[:pos] + rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80")) + data[pos:]
            )
        ops.append(op)
    return data, "+".join(ops)


# Structure-level mutations -------------------------------------------------------


def _node_ids(doc: dict[str, Any]) -> list[str]:
    ids = [tp.get("id") for tp in doc.get("touchpoints") or [] if isinstance(tp, dict)]
    ids += [o.get("id") for o in doc.get("outcomes") or [] if isinstance(o, dict)]
    return [i for i in ids if isinstance(i, str)]


def _touchpoints(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [tp for tp in doc.get("touchpoints") or [] if isinstance(tp, dict)]


def _split_to_one(rng: random.Random, n: int, total: float) -> list[float]:
    if n == 0:
        return []
    cuts = sorted(rng.random() for _ in range(n - 1))
    parts = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0], strict=True)]
    return [p * total for p in parts]


def _walk_strings(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_strings(v, (*path, k))
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            yield from _walk_strings(v, (*path, k))
    elif isinstance(obj, str):
        yield path


def _walk_numbers(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk_numbers(v, (*path, k))
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            yield from _walk_numbers(v, (*path, k))
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        yield path


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


def _struct_op(rng: random.Random, doc: dict[str, Any], quick: bool = False) -> str:
    tps = _touchpoints(doc)
    ids = _node_ids(doc)
    op = rng.choice(
        (
            "swap-ids",
            "add-transition",
            "loop",
            "probabilities",
            "volumes",
            "number",
            "number",
            "string",
            "string",
            "retype",
            "drop-key",
            "unknown-key",
            "entries",
            "stages",
            "outcome-flip",
            "scale",
            "strip-numbers",
            "id",
        )
    )
    if not tps or not ids or (quick and op == "scale"):
        op = "string"
    if op == "swap-ids" and len(tps) > 1:
        a, b = rng.sample(tps, 2)
        a["id"], b["id"] = b.get("id"), a.get("id")
    elif op == "add-transition":
        tp = rng.choice(tps)
        step: dict[str, Any] = {"to": rng.choice(ids)}
        if rng.random() < 0.5:
            step["probability"] = rng.choice((0.0, 0.5, 1.0, 1e-12, rng.random()))
        tp.setdefault("next", [])
        if isinstance(tp["next"], list):
            tp["next"].append(step if rng.random() < 0.7 else step["to"])
    elif op == "loop":
        k = rng.randrange(len(tps))
        j = rng.randrange(k, len(tps))
        back = {"to": tps[k].get("id")}
        if rng.random() < 0.5:
            back["probability"] = rng.choice((1.0, 0.999999, 0.5))
        if isinstance(tps[j].get("next"), list):
            tps[j]["next"].append(back)
            if rng.random() < 0.3:  # a loop nobody leaves
                tps[j]["next"] = [back]
    elif op == "probabilities":
        tp = rng.choice(tps)
        steps = [s for s in tp.get("next") or [] if isinstance(s, dict)]
        if steps:
            total = rng.choice((1.0, 1 + 1e-9, 1 - 1e-9, 1 + 1e-15, 0.0, 1.5))
            for s, p in zip(steps, _split_to_one(rng, len(steps), total), strict=True):
                s.pop("volume", None)
                s["probability"] = p
    elif op == "volumes":
        tp = rng.choice(tps)
        steps = [s for s in tp.get("next") or [] if isinstance(s, dict)]
        for s in steps:
            s.pop("probability", None)
            s["volume"] = rng.choice((0, 1, 10**6, 10**18, 1e300, rng.randrange(10**4)))
        if rng.random() < 0.5:
            tp["volume"] = rng.choice((0, 1, 100, 10**9))
    elif op == "number":
        spots = list(_walk_numbers(doc))
        if spots:
            _set(doc, rng.choice(spots), rng.choice(HOSTILE_NUMBERS))
    elif op == "string":
        spots = list(_walk_strings(doc))
        if spots:
            path = rng.choice(spots)
            value = rng.choice(HOSTILE_STRINGS)
            if path and path[-1] in ("id", "to", "stage", "journey", "result"):
                value = rng.choice((value, value[:10], "fz-" + str(rng.randrange(100))))
            _set(doc, path, value)
    elif op == "retype":
        tp = rng.choice(tps)
        key = rng.choice(sorted(tp))
        tp[key] = rng.choice(([], {}, None, "text", 3, [tp[key]], {"x": tp[key]}))
    elif op == "drop-key":
        tp = rng.choice(tps)
        tp.pop(rng.choice(sorted(tp)), None)
    elif op == "unknown-key":
        rng.choice([doc, *tps])[rng.choice(("nxt", "probabilty", "Stage", "x" * 300))] = 1
    elif op == "entries":
        doc["entries"] = rng.choice(
            ([], [rng.choice(ids)], rng.sample(ids, min(3, len(ids))), ["nope"], ids, "x")
        )
    elif op == "stages":
        stages = doc.get("stages")
        if isinstance(stages, list) and stages:
            choice = rng.random()
            if choice < 0.3:
                stages.append(copy.deepcopy(rng.choice(stages)))
            elif choice < 0.6:
                stages.pop(rng.randrange(len(stages)))
            else:
                rng.shuffle(stages)
    elif op == "outcome-flip":
        for o in doc.get("outcomes") or []:
            if isinstance(o, dict) and rng.random() < 0.5:
                o["result"] = "lost" if o.get("result") == "success" else "success"
    elif op == "scale":  # many copies: the analysis and layout at a few hundred nodes
        copies = rng.choice((3, 10, 30))
        extra = []
        # Earlier operations may have made an id anything (a mapping, a list): only
        # text ids are copied along.
        tp_ids = {str(t["id"]) for t in tps if isinstance(t, dict) and isinstance(t.get("id"), str)}
        for c in range(copies):
            for tp in tps:
                dup = copy.deepcopy(tp)
                dup["id"] = f"{tp.get('id')}-c{c}"
                moves = dup.get("next")
                for s in moves if isinstance(moves, list) else []:  # retyped: anything
                    if isinstance(s, dict) and isinstance(s.get("to"), str) and s["to"] in tp_ids:
                        s["to"] = f"{s['to']}-c{c}"
                extra.append(dup)
        doc["touchpoints"] = [*doc["touchpoints"], *extra]
    elif op == "strip-numbers":
        for tp in tps:
            for s in tp.get("next") or []:
                if isinstance(s, dict):
                    s.pop("probability", None)
                    s.pop("volume", None)
    elif op == "id":
        tp = rng.choice(tps)
        tp["id"] = rng.choice(("UPPER", "a b", "-x", "x" * 500, "é", "a--b", "1", "outcome"))
    return op


def _dump(rng: random.Random, doc: Any) -> tuple[str, bytes]:
    # A 5000-digit int is a fair input; Python refuses to print one by default.
    # Lifted only while dumping: the library under test keeps the user's default.
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        if rng.random() < 0.35:
            text = json.dumps(doc, indent=rng.choice((None, 2)))
            return "input.json", text.encode("utf-8", "surrogatepass")
        text = yaml.safe_dump(
            doc, sort_keys=False, allow_unicode=rng.random() < 0.5, width=rng.choice((80, 10**6))
        )
        return rng.choice(("input.yaml", "input.yml")), text.encode("utf-8", "surrogatepass")
    finally:
        sys.set_int_max_str_digits(limit)


_PARSED: dict[Path, dict[str, Any]] = {}


def _parsed(path: Path) -> dict[str, Any]:
    if path not in _PARSED:
        _PARSED[path] = yaml.safe_load(path.read_text("utf-8"))
    return copy.deepcopy(_PARSED[path])


# A journey generator of our own: hostile text in every field, which the property
# tests' strategy (tests/strategies.py, numbers and shapes) does not write -----------


def _slug(rng: random.Random, prefix: str, k: int) -> str:
    return f"{prefix}{k}" if rng.random() < 0.9 else f"{prefix}-{rng.choice('abcxyz')}{k}"


def generate_journey(rng: random.Random) -> dict[str, Any]:
    """A random, mostly valid journey: the analysis sees shapes no example has."""
    stages = [_slug(rng, "s", k) for k in range(rng.randint(1, 6))]
    tp_ids = [_slug(rng, "t", k) for k in range(rng.randint(1, 25))]
    outcomes = [
        {"id": f"o{k}", "title": f"Outcome {k}", "result": rng.choice(("success", "lost"))}
        for k in range(rng.randint(0, 4))
    ]
    nodes = tp_ids + [o["id"] for o in outcomes]
    touchpoints = []
    for k, ident in enumerate(tp_ids):
        tp: dict[str, Any] = {
            "id": ident,
            "stage": stages[min(k * len(stages) // len(tp_ids), len(stages) - 1)],
        }
        if rng.random() < 0.3:
            tp["title"] = rng.choice(HOSTILE_STRINGS if rng.random() < 0.2 else PRINTABLE_HOSTILE)
        if rng.random() < 0.5:
            tp["volume"] = rng.choice((0, 1, 100, 5000, 10**12))
        for key, values in (
            ("owner", ("Sales", "Recruiter", *MARKERS)),
            ("channel", ("phone", "web", "\x1b[1mbold" if rng.random() < 0.1 else "chat")),
            ("quality", (1, 3, 5)),
            ("emotion", (-2, -1, 0, 1, 2)),
            ("duration", ("5m", "2d", "1w")),
        ):
            if rng.random() < 0.3:
                tp[key] = rng.choice(values)
        steps: list[Any] = []
        mode = rng.choice(("none", "probability", "volume", "mixed-none"))
        count = rng.choice((0, 1, 1, 2, 2, 3, 5))
        targets = list(dict.fromkeys(rng.choice(nodes) for _ in range(count)))
        total = rng.choice((1.0, 1.0, 0.9, 0.5, 1 - 1e-9, 1 + 1e-9))
        shares = _split_to_one(rng, len(targets), total)
        for target, share in zip(targets, shares, strict=True):
            step: dict[str, Any] = {"to": target}
            if mode == "probability" or (mode == "mixed-none" and rng.random() < 0.5):
                digits = rng.choice((2, 6, 17))
                step["probability"] = math.floor(share * 10**digits) / 10**digits
            elif mode == "volume":
                step["volume"] = rng.randrange(0, 10_000)
            if rng.random() < 0.2:
                step["wait"] = rng.choice(("1d", "2w", "0s"))
            if rng.random() < 0.1:
                step["label"] = rng.choice(PRINTABLE_HOSTILE)
            steps.append(step if len(step) > 1 or rng.random() < 0.5 else target)
        if steps:
            tp["next"] = steps
        touchpoints.append(tp)
    doc: dict[str, Any] = {
        "journey": "generated",
        "stages": stages,
        "touchpoints": touchpoints,
        "outcomes": outcomes,
    }
    if rng.random() < 0.6:
        doc["entries"] = sorted(set(rng.sample(tp_ids, rng.randint(1, len(tp_ids)))))
    if rng.random() < 0.2:
        doc["title"] = rng.choice(PRINTABLE_HOSTILE)
    return doc


def _strategy_examples(seed: int, batch: int, count: int) -> list[Any] | None:
    """Examples of tests/strategies.py's ``journey_dicts()``, or None without it.

    Drawn through ``@given`` with ``@seed`` (the public, reproducible way) in the
    generate phase only: no shrinking, no example database.
    """
    if not STRATEGIES.exists():
        return None
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.strategies import SearchStrategy

    spec = importlib.util.spec_from_file_location("_journeymap_strategies", STRATEGIES)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        return None
    strategy: SearchStrategy[Any] = module.journey_dicts()
    found: list[Any] = []

    @hypothesis.seed(seed * 100_003 + batch)
    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    try:
        collect()
    except Exception:
        return None
    return found


class Source:
    """The inputs of one run: ``make(index)`` depends on (seed, index) only."""

    KINDS = ("text", "struct", "generated", "hostile")

    def __init__(self, seed: int, *, quick: bool = False) -> None:
        self.seed = seed
        self.quick = quick
        self._batches: dict[int, list[Any] | None] = {}
        self.strategy_used = False

    def _from_strategy(self, index: int) -> Any:
        batch, k = divmod(index, 50)
        if batch not in self._batches:
            self._batches[batch] = _strategy_examples(self.seed, batch, 50)
        examples = self._batches[batch]
        if not examples:
            return None
        self.strategy_used = True
        return examples[k % len(examples)]

    def make(self, index: int) -> FuzzInput:
        rng = random.Random(f"{self.seed}:{index}")
        kind = self.KINDS[index % 4] if index % 8 != 7 else rng.choice(self.KINDS)
        if kind == "text":
            path, data = _example(rng.randrange(2))
            data, note = _text_mutation(rng, data)
            return FuzzInput(index, kind, "input.yaml", data, f"{path.name}: {note}")
        if kind == "struct":
            path, _ = _example(rng.randrange(2))
            doc = _parsed(path)
            ops = [_struct_op(rng, doc, self.quick) for _ in range(rng.choice((1, 1, 2, 3)))]
            name, data = _dump(rng, doc)
            return FuzzInput(index, kind, name, data, f"{path.name}: {'+'.join(ops)}")
        if kind == "generated":
            # Half from the property tests' strategy, half from ours (hostile text).
            example = self._from_strategy(index) if rng.random() < 0.5 else None
            if example is None:
                doc, note = generate_journey(rng), "fuzz/inputs.py generator"
            elif isinstance(example, str | bytes):
                data = (
                    example.encode("utf-8", "surrogatepass")
                    if isinstance(example, str)
                    else example
                )
                return FuzzInput(index, kind, "input.yaml", data, "tests/strategies.py text")
            else:
                doc, note = example, "tests/strategies.py"
            if rng.random() < 0.3:
                _struct_op(rng, doc, self.quick)
            name, data = _dump(rng, doc)
            return FuzzInput(index, kind, name, data, note)
        return _hostile(rng, index, self.quick)


# Hostile files that take seconds each (big files, 50,000 problems): left out of
# --quick, the few-seconds run of the test suite.
SLOW_HOSTILE = {"deep-json", "deep-json-open", "long-line", "many-keys"}


def _hostile(rng: random.Random, index: int, quick: bool = False) -> FuzzInput:
    """Whole files built to break parsers: bombs, depth, encodings, odd documents."""
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 9)}]\n" for k in range(8)
    )
    _, example = _example(rng.randrange(2))
    makers: list[tuple[str, Callable[[], tuple[str, bytes]]]] = [
        ("billion-laughs", lambda: ("input.yaml", laughs.encode())),
        ("deep-list", lambda: ("input.yaml", ("[" * 5000 + "]" * 5000).encode())),
        ("deep-map", lambda: ("input.yaml", ("a: " + "{a: " * 3000 + "1" + "}" * 3000).encode())),
        ("deep-json", lambda: ("input.json", ("[" * 100_000 + "]" * 100_000).encode())),
        ("deep-json-open", lambda: ("input.json", ('{"a":' * 50_000).encode())),
        (
            "deep-block",
            lambda: ("input.yaml", "".join(f"{' ' * k}a{k}:\n" for k in range(200)).encode()),
        ),
        ("empty", lambda: ("input.yaml", b"")),
        ("whitespace", lambda: ("input.yaml", b"  \n\t\n")),
        ("comment", lambda: ("input.yaml", b"# nothing\n")),
        ("null", lambda: ("input.json", b"null")),
        ("scalar", lambda: ("input.yaml", b"journey")),
        ("list", lambda: ("input.yaml", b"- a\n- b\n")),
        ("two-docs", lambda: ("input.yaml", example + b"\n---\n" + example)),
        ("bom-json", lambda: ("input.json", b"\xef\xbb\xbf{}")),
        ("utf16", lambda: ("input.yaml", example.decode().encode("utf-16"))),
        (
            "latin1",
            lambda: ("input.yaml", example.replace(b"journey:", "journé:".encode("latin-1"), 1)),
        ),
        ("nul", lambda: ("input.yaml", example[:200] + b"\x00" + example[200:])),
        ("crlf", lambda: ("input.yaml", example.replace(b"\n", b"\r\n"))),
        ("cr", lambda: ("input.yaml", example.replace(b"\n", b"\r"))),
        ("u2028", lambda: ("input.yaml", example.replace(b"\n", "\u2028".encode(), 5))),
        ("tabs", lambda: ("input.yaml", example.replace(b"  ", b"\t", 3))),
        ("json-nan", lambda: ("input.json", b'{"journey": NaN, "stages": [Infinity, -Infinity]}')),
        ("json-dupkey", lambda: ("input.json", b'{"journey": "a", "journey": "b"}')),
        (
            "json-bigint",
            lambda: ("input.json", b'{"journey": "a", "x": ' + HUGE_INT.encode() + b"}"),
        ),
        ("json-float", lambda: ("input.json", b'{"journey": 1e999999}')),
        (
            "yaml-bigint",
            lambda: (
                "input.yaml",
                example.replace(b"volume: 6000", b"volume: " + HUGE_INT.encode()),
            ),
        ),
        ("yaml-tag", lambda: ("input.yaml", b"!!python/object/apply:os.system ['true']\n")),
        ("yaml-merge", lambda: ("input.yaml", b"base: &b {x: 1}\njourney:\n  <<: *b\n")),
        ("long-line", lambda: ("input.yaml", b"journey: " + b"x" * 2_000_000)),
        (
            "many-keys",
            lambda: ("input.yaml", b"".join(b"k%d: %d\n" % (k, k) for k in range(50_000))),
        ),
        (
            "yaml-directive",
            lambda: ("input.yaml", b"%YAML 1.1\n%TAG ! tag:evil,2000:\n---\n" + example),
        ),
        ("surrogate", lambda: ("input.yaml", example + b'\nx: "\\ud800"\n')),
    ]
    if quick:
        makers = [m for m in makers if m[0] not in SLOW_HOSTILE]
    name, make = makers[index // 4 % len(makers)] if rng.random() < 0.7 else rng.choice(makers)
    file_name, data = make()
    return FuzzInput(index, "hostile", file_name, data, name)
