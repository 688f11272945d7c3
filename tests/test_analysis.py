"""The structural analysis, checked against values worked out by hand."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.analysis import analyze
from journeymap.graph import Solution, flow, to_networkx
from journeymap.model import Journey

Make = Callable[..., Journey]

LOOP = """\
journey: loop
stages: [a, b]
touchpoints:
  - id: start
    stage: a
    next:
      - {to: apply, probability: 0.8}
  - id: apply
    stage: a
    next:
      - {to: interview, probability: 0.5}
      - {to: apply, probability: 0.2}
      - {to: gave-up, probability: 0.3}
  - id: interview
    stage: b
    next:
      - {to: placed, probability: 0.6}
      - {to: reapply, probability: 0.4}
  - id: reapply
    stage: b
    next: [apply]
  - id: orphan
    stage: b
    next: [start]
  - id: stuck
    stage: b
  - id: spin
    stage: b
    next: [spin2]
  - id: spin2
    stage: b
    next: [spin]
outcomes:
  - {id: placed, result: success}
  - {id: gave-up, result: lost}
entries: [start]
"""


def test_loop_needs_the_linear_solve(make_journey: Make) -> None:
    a = analyze(make_journey(LOOP))
    # x_apply = 0.5 x_interview + 0.2 x_apply; x_interview = 0.6 + 0.4 x_apply
    # => x_apply = 0.3 + 0.4 x_apply => 0.5; x_start = 0.8 * 0.5 = 0.4.
    # A walk truncated after a few rounds of the loop would give less.
    assert a.success_probability == {"start": 0.4}
    assert a.entries == ["start"]
    assert a.dead_ends == ["stuck"]
    assert a.unreachable == ["orphan", "spin", "spin2", "stuck"]
    assert a.traps == []  # stuck and spin are traps only if an entry reaches them
    assert a.loops == [["apply", "interview", "reapply"], ["spin", "spin2"]]
    assert a.drop_off == {"start": pytest.approx(0.2)}


def test_traps_dead_ends_and_drop_off_from_volumes(make_journey: Make) -> None:
    a = analyze(
        make_journey(
            """\
            journey: j
            stages: [s]
            touchpoints:
              - id: ad
                stage: s
                volume: 1000
                next:
                  - {to: form, volume: 600}
                  - {to: voicemail, volume: 100}
              - id: form
                stage: s
                next: [placed, limbo]
              - id: voicemail
                stage: s
              - id: limbo
                stage: s
                next: [limbo2]
              - id: limbo2
                stage: s
                next: [limbo, lost]
            outcomes:
              - {id: placed, result: success}
              - {id: lost, result: lost}
            """
        )
    )
    assert a.entries == ["ad"]
    assert a.dead_ends == ["voicemail"]
    assert a.traps == ["limbo", "limbo2", "voicemail"]
    assert a.drop_off == {"ad": pytest.approx(0.3)}
    # ad -> form 0.6, form -> placed 0.5
    assert a.success_probability == {"ad": pytest.approx(0.3)}
    assert a.loops == [["limbo", "limbo2"]]


def test_a_self_loop_is_a_loop_and_is_solved_exactly(make_journey: Make) -> None:
    a = analyze(
        make_journey(
            """\
            journey: j
            stages: [s]
            touchpoints:
              - id: wait
                stage: s
                next:
                  - {to: wait, probability: 0.9}
                  - {to: won, probability: 0.05}
            outcomes: [{id: won, result: success}]
            entries: [wait]
            """
        )
    )
    assert a.loops == [["wait"]]
    # x = 0.05 + 0.9 x => x = 0.5 (the other 5% leave at each round)
    assert a.success_probability == {"wait": pytest.approx(0.5)}
    assert a.drop_off == {"wait": pytest.approx(0.05)}


def test_a_closed_loop_never_succeeds(make_journey: Make) -> None:
    a = analyze(
        make_journey(
            """\
            journey: j
            stages: [s]
            touchpoints:
              - {id: in, stage: s, next: [x, won]}
              - {id: x, stage: s, next: [y]}
              - {id: y, stage: s, next: [x]}
            outcomes: [{id: won, result: success}]
            entries: [in]
            """
        )
    )
    assert a.success_probability == {"in": 0.5}
    assert a.traps == ["x", "y"]


def test_to_dict_is_the_stable_json_shape(make_journey: Make) -> None:
    d = analyze(make_journey(LOOP)).to_dict()
    for key in (
        "journey",
        "entries",
        "dead_ends",
        "unreachable",
        "traps",
        "loops",
        "drop_off",
        "success_probability",
    ):
        assert key in d
    assert d["journey"] == "loop"


def test_networkx_graph_carries_the_journey(make_journey: Make) -> None:
    g = to_networkx(make_journey(LOOP))
    assert g.nodes["placed"]["kind"] == "outcome"
    assert g.nodes["placed"]["result"] == "success"
    assert g.nodes["apply"]["stage"] == "a"
    assert g.edges["apply", "interview"]["probability"] == 0.5
    assert g.nodes["start"]["drop_off"] == pytest.approx(0.2)
    assert set(g.successors("apply")) == {"interview", "apply", "gave-up"}


@st.composite
def chains(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, float]]]:
    n = draw(st.integers(1, 9))
    edges: dict[tuple[int, int], float] = {}
    for i in range(n):
        targets = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=3))
        weights = draw(st.lists(st.floats(0.01, 1), min_size=len(targets), max_size=len(targets)))
        total = sum(weights) / draw(st.floats(0.3, 1.0))
        for t, w in zip(targets, weights, strict=True):
            edges[i, t] = w / total
    return n, [(i, j, p) for (i, j), p in edges.items()]


@settings(max_examples=200, deadline=None)
@given(chains(), st.lists(st.floats(0, 1), min_size=9, max_size=9))
def test_component_solve_equals_a_dense_solve(
    chain: tuple[int, list[tuple[int, int, float]]], b: list[float]
) -> None:
    import scipy.sparse as sp

    n, edges = chain
    q = sp.csr_matrix(
        ([p for *_, p in edges], ([i for i, *_ in edges], [j for _, j, _ in edges])), shape=(n, n)
    )
    rhs = np.asarray(b[:n])
    x = Solution.of(q).solve(rhs)
    dense = q.toarray()
    # Nodes in a closed class (a loop nothing leaves) are defined as 0; compare the rest,
    # which includes nodes that can only end in a closed class (their expected visits
    # are finite: hypothesis found a self-loop of 0.5 whose only exit is a closed one).
    g = nx.DiGraph([(i, j) for i, j, _ in edges])
    g.add_nodes_from(range(n))
    leaks = {i for i in range(n) if dense[i].sum() < 1 - 1e-9}
    closed = {
        i
        for part in nx.strongly_connected_components(g)
        if not part & leaks
        and all(set(g.successors(i)) <= part for i in part)
        and any(g.has_edge(i, j) for i in part for j in part)
        for i in part
    }
    open_nodes = [i for i in range(n) if i not in closed]
    if open_nodes:
        sub = np.ix_(open_nodes, open_nodes)
        expected = np.linalg.solve(np.eye(len(open_nodes)) - dense[sub], rhs[open_nodes])
        np.testing.assert_allclose(x[open_nodes], expected, rtol=1e-7, atol=1e-9)


def test_success_probability_matches_brute_force_on_a_dag(make_journey: Make) -> None:
    j = make_journey(
        """\
        journey: dag
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next: [{to: b, probability: 0.5}, {to: c, probability: 0.3}]
          - id: b
            stage: s
            next: [{to: c, probability: 0.5}, {to: won, probability: 0.4}]
          - id: c
            stage: s
            next: [won, lost]
        outcomes: [{id: won, result: success}, {id: lost, result: lost}]
        """
    )
    f = flow(j)
    g = to_networkx(j)
    total = 0.0
    for path in nx.all_simple_paths(g, "a", "won"):
        total += float(np.prod([g.edges[u, v]["probability"] for u, v in itertools.pairwise(path)]))
    assert analyze(j).success_probability["a"] == pytest.approx(total)
    assert f.n == 5


def _big_component(n: int, seed: int) -> tuple[object, np.ndarray]:
    """I - Q for one strongly connected ring of n nodes with random shortcuts and exits."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    src = np.concatenate([np.arange(n), rng.integers(0, n, 4 * n)])
    dst = np.concatenate([(np.arange(n) + 1) % n, rng.integers(0, n, 4 * n)])
    w = rng.random(len(src))
    q = sp.csr_matrix((w, (src, dst)), shape=(n, n))
    q.sum_duplicates()
    keep = rng.uniform(0.5, 0.95, n)  # what stays in the journey; the rest leaves
    q = sp.diags(keep / np.asarray(q.sum(axis=1)).ravel()) @ q
    return sp.identity(n, format="csr") - q.tocsr(), rng.random(n)


@pytest.mark.parametrize("fail", [(), ("bicgstab",), ("bicgstab", "gmres")])
def test_a_large_component_is_solved_to_machine_precision(
    monkeypatch: pytest.MonkeyPatch, fail: tuple[str, ...]
) -> None:
    # Above the dense limit the iterative solvers run, each falling back to the
    # next when it reports no convergence; every route must give the exact answer.
    import scipy.sparse.linalg as sla

    from journeymap.graph import _solve_sparse

    for name in fail:
        monkeypatch.setattr(sla, name, lambda a, b, **kw: (np.zeros_like(b), 1))
    a, rhs = _big_component(3000, seed=len(fail))
    x = _solve_sparse(a, rhs)
    expected = sla.spsolve(a.tocsc(), rhs)
    np.testing.assert_allclose(x, expected, rtol=1e-11, atol=1e-13)


def test_a_loop_customers_almost_never_leave_is_solved_exactly() -> None:
    # Ill-conditioned: the iterative solvers give up early and LU answers.
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla

    from journeymap.graph import _solve_sparse

    n = 3000
    ring = sp.csr_matrix((np.full(n, 0.9999), (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
    a = (sp.identity(n, format="csr") - ring).tocsr()
    rhs = np.random.default_rng(1).random(n)
    np.testing.assert_allclose(_solve_sparse(a, rhs), sla.spsolve(a.tocsc(), rhs), rtol=1e-9)


def _json_journey(touchpoints: list[dict[str, object]], entries: list[str]) -> Journey:
    import json

    from journeymap.loader import loads

    data = {
        "journey": "j",
        "stages": ["s"],
        "touchpoints": [{"stage": "s", **t} for t in touchpoints],
        "outcomes": [{"id": "won", "result": "success"}, {"id": "lost", "result": "lost"}],
        "entries": entries,
    }
    return loads(json.dumps(data), "x.json")


def _adds_up(a: object) -> float:
    import math

    return a.success_share + math.fsum(leak.share for leak in a.leaks)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("stay", "leave"),
    [(0.99999999999999, 9e-10), (0.999999999, 1e-9), (1.0, 1e-300)],
)
def test_a_loop_left_only_through_a_tiny_exit_succeeds_exactly(stay: float, leave: float) -> None:
    # Old: 90072.99 (9,007,299%), 1.000000028, a LinAlgError or 0 with no leaks.
    a = _json_journey(
        [
            {
                "id": "a",
                "next": [{"to": "a", "probability": stay}, {"to": "won", "probability": leave}],
            }
        ],
        ["a"],
    )
    r = analyze(a)
    assert r.success_probability == {"a": 1.0}
    assert r.success_share == 1.0
    assert r.leaks == []


def test_a_ring_left_only_through_1e_300_succeeds_and_adds_up() -> None:
    j = _json_journey(
        [
            {"id": "in", "next": ["a"]},
            {"id": "a", "next": ["b"]},
            {"id": "b", "next": [{"to": "a", "probability": 0.9}, {"to": "c", "probability": 0.1}]},
            {
                "id": "c",
                "next": [
                    {"to": "a", "probability": 0.5},
                    {"to": "b", "probability": 0.5},
                    {"to": "won", "probability": 1e-300},
                    {"to": "lost", "probability": 3e-300},
                ],
            },
        ],
        ["in"],
    )
    r = analyze(j)
    assert r.success_probability["in"] == pytest.approx(0.25, rel=1e-12)
    assert r.success_share == pytest.approx(0.25, rel=1e-12)
    assert _adds_up(r) == pytest.approx(1.0, abs=1e-12)


def test_decimal_sums_of_one_leave_no_share_to_a_loop() -> None:
    # 0.01 + 0.29 + 0.7 is 1 - 1.1e-16 in binary, and that rest went to the
    # unnumbered transition: the loop looked left only through 1.1e-16, a
    # LinAlgError (singular matrix) on a valid journey. It is a closed loop.
    j = _json_journey(
        [
            {
                "id": "a",
                "next": [
                    {"to": "b", "probability": 0.01},
                    {"to": "c", "probability": 0.29},
                    {"to": "d", "probability": 0.7},
                    "won",
                ],
            },
            {"id": "b", "next": ["a"]},
            {"id": "c", "next": ["a"]},
            {"id": "d", "next": ["a"]},
        ],
        ["a"],
    )
    r = analyze(j)
    assert r.success_probability == {"a": 0.0}
    assert [(leak.node, leak.kind, leak.share) for leak in r.leaks] == [("a", "loop", 1.0)]


def test_a_volume_just_above_its_touchpoints_is_refused() -> None:
    # An absolute slack of 1e-9 let this through: probability 10, a negative
    # cycle in -log p, and `paths` never ended.
    from journeymap.errors import JourneyError

    with pytest.raises(JourneyError, match="add up to 1e-09, more than its volume 1e-10"):
        _json_journey(
            [
                {"id": "a", "volume": 1e-10, "next": [{"to": "b", "volume": 1e-9}]},
                {"id": "b", "next": ["a", "won"]},
            ],
            ["a"],
        )


def test_volumes_near_the_largest_float_are_checked_and_analysed() -> None:
    from journeymap.errors import JourneyError

    with pytest.raises(
        JourneyError, match=r"x.json:1:\d+: .* add up to 2.7e\+308, more than its volume 1.7e\+308"
    ):
        _json_journey(
            [
                {
                    "id": "a",
                    "volume": 1.7e308,
                    "next": [{"to": "won", "volume": 1e308}, {"to": "lost", "volume": 1.7e308}],
                }
            ],
            ["a"],
        )
    r = analyze(
        _json_journey(
            [
                {
                    "id": "a",
                    "volume": 1e308,
                    "next": [{"to": "won", "volume": 5e307}, {"to": "lost", "volume": 5e307}],
                },
                {"id": "b", "volume": 1.7e308, "next": [{"to": "won", "volume": 1.7e308}]},
                {
                    "id": "c",
                    "next": [{"to": "won", "volume": 1e308}, {"to": "lost", "volume": 1e308}],
                },
            ],
            ["a", "b"],
        )
    )
    # Weights 1 : 1.7 (old: the sum overflowed and nobody started anywhere).
    assert r.success_share == pytest.approx((0.5 + 1.7) / 2.7)
    assert r.flow.prob[r.flow.src == r.flow.index["c"]].tolist() == [0.5, 0.5]
    assert _adds_up(r) == pytest.approx(1.0, abs=1e-12)


def test_an_entry_of_volume_zero_gets_nobody() -> None:
    from journeymap.analysis import entry_weights

    j = _json_journey(
        [{"id": "a", "volume": 0, "next": ["won"]}, {"id": "b", "volume": 5, "next": ["lost"]}],
        ["a", "b"],
    )
    assert analyze(j).success_share == 0.0
    f = flow(j)
    assert entry_weights(j, f)[f.index["b"]] == 1.0
    # All zero, or one without a volume: equally.
    j = _json_journey(
        [{"id": "a", "volume": 0, "next": ["won"]}, {"id": "b", "volume": 0, "next": ["lost"]}],
        ["a", "b"],
    )
    assert analyze(j).success_share == 0.5
    j = _json_journey(
        [{"id": "a", "volume": 0, "next": ["won"]}, {"id": "b", "next": ["lost"]}], ["a", "b"]
    )
    assert analyze(j).success_share == 0.5


def test_entry_volumes_say_how_many_start_where() -> None:
    from journeymap.loader import loads

    # a is passed 100 times, but 90 start there (entries' volume, not the touchpoint's).
    j = loads(
        "journey: x\nstages: [s]\ntouchpoints:\n"
        "  - {id: a, stage: s, volume: 100, next: [{to: b, volume: 80}]}\n"
        "  - {id: c, stage: s, volume: 50, next: [b]}\n"
        "  - {id: b, stage: s, next: [ok]}\n"
        "outcomes: [{id: ok, result: success}]\n"
        "entries: [{id: a, volume: 90}, {id: c, volume: 10}]\n",
        "j.yaml",
    )
    assert j.entry_ids == ["a", "c"]
    assert j.entry_volumes == {"a": 90, "c": 10}
    assert analyze(j).success_share == pytest.approx(0.9 * 0.8 + 0.1)
    # An entry without a volume of its own falls back to its touchpoint's.
    j = loads(
        "journey: x\nstages: [s]\ntouchpoints:\n"
        "  - {id: a, stage: s, volume: 100, next: [{to: b, volume: 80}]}\n"
        "  - {id: c, stage: s, volume: 300, next: [b]}\n"
        "  - {id: b, stage: s, next: [ok]}\n"
        "outcomes: [{id: ok, result: success}]\n"
        "entries: [{id: a}, c]\n",
        "j.yaml",
    )
    assert analyze(j).success_share == pytest.approx(0.25 * 0.8 + 0.75)


@pytest.mark.parametrize(("n", "eps"), [(450, 1e-300), (1600, 1e-300), (450, 1e-14), (1600, 1e-9)])
def test_a_large_ring_left_only_through_tiny_exits_is_solved_exactly(n: int, eps: float) -> None:
    # Past the dense GTH limit the solvers subtracted again: a 450-node ring left through
    # 1e-300 was a LinAlgError, through 1e-14 success and loss added up to 1.0008.
    from journeymap.loader import loads

    tps = [{"id": "e", "stage": "s", "next": ["t0"]}]
    tps += [{"id": f"t{k}", "stage": "s", "next": [f"t{k + 1}"]} for k in range(n - 1)]
    tps.append(
        {
            "id": f"t{n - 1}",
            "stage": "s",
            "next": [
                {"to": "t0", "probability": 1.0 - 2 * eps},
                {"to": "won", "probability": eps},
                {"to": "bad", "probability": eps},
            ],
        }
    )
    doc = {
        "journey": "ring",
        "stages": ["s"],
        "touchpoints": tps,
        "outcomes": [{"id": "won", "result": "success"}, {"id": "bad", "result": "lost"}],
        "entries": ["e"],
    }
    a = analyze(loads(json.dumps(doc), "ring.json"))
    assert a.success_probability == {"e": pytest.approx(0.5, rel=1e-9)}
    assert a.success_share + sum(leak.share for leak in a.leaks) == pytest.approx(1.0, abs=1e-9)


def test_sparse_state_reduction_agrees_with_the_dense_one() -> None:
    import scipy.sparse as sp

    from journeymap.graph import _gth, _gth_sparse

    rng = np.random.default_rng(1)
    for _ in range(40):
        m = int(rng.integers(2, 30))
        dense = (rng.random((m, m)) < 0.25) * rng.random((m, m))
        for k in range(m):  # a ring keeps it one loop
            dense[k, (k + 1) % m] = rng.random() + 0.01
        escape = rng.random(m) * (rng.random(m) < 0.3) * 10.0 ** -rng.integers(0, 200, m)
        escape[0] += 1e-12
        rhs = rng.random(m)
        off = dense.copy()
        np.fill_diagonal(off, 0.0)
        for transposed in (False, True):
            want = _gth(off, escape, rhs, transposed)
            got = _gth_sparse(sp.csr_matrix(dense), escape, rhs, transposed)
            assert got is not None
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_visits_that_overflow_a_float_do_not_poison_the_leaks() -> None:
    # Found by fuzzing: a loop left at 1e-300 x 4e-24 a visit has more expected visits
    # than a float holds; the dense solve spread NaN to every node, and success plus
    # leaks came to 0. Everyone here leaves at t0's drop-off in the end.
    from journeymap.loader import loads

    text = (
        '{"journey":"z","stages":["s"],"touchpoints":['
        '{"id":"t0","stage":"s","next":[{"to":"t0","probability":5e-3},'
        '{"to":"t2","probability":5e-4},{"to":"t1","probability":5e-5}]},'
        '{"id":"t1","stage":"s","next":[{"to":"t1","probability":1.0},{"to":"t2","probability":1e-300}]},'
        '{"id":"t2","stage":"s","next":[{"to":"t1","probability":0.1},"t2",'
        '{"to":"t0","probability":4e-24}]}],"entries":["t0"]}'
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing printed to the user on the way
        a = analyze(loads(text, "z.json"))
    assert [(leak.node, leak.kind) for leak in a.leaks] == [("t0", "drop-off")]
    assert a.success_share + sum(leak.share for leak in a.leaks) == pytest.approx(1.0, abs=1e-9)
