"""The structural analysis, checked against values worked out by hand."""

from __future__ import annotations

import itertools
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
    # Nodes in a closed class (no way out) are defined as 0; compare the rest.
    g = nx.DiGraph([(i, j) for i, j, _ in edges])
    g.add_nodes_from(range(n))
    leaks = {i for i in range(n) if dense[i].sum() < 1 - 1e-9}
    open_nodes = [i for i in range(n) if i in leaks or nx.descendants(g, i) & leaks]
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

    from journeymap.graph import _solve_component

    for name in fail:
        monkeypatch.setattr(sla, name, lambda a, b, **kw: (np.zeros_like(b), 1))
    a, rhs = _big_component(3000, seed=len(fail))
    x = _solve_component(a, rhs)
    expected = sla.spsolve(a.tocsc(), rhs)
    np.testing.assert_allclose(x, expected, rtol=1e-11, atol=1e-13)


def test_a_loop_customers_almost_never_leave_is_solved_exactly() -> None:
    # Ill-conditioned: the iterative solvers give up early and LU answers.
    import scipy.sparse as sp
    import scipy.sparse.linalg as sla

    from journeymap.graph import _solve_component

    n = 3000
    ring = sp.csr_matrix((np.full(n, 0.9999), (np.arange(n), (np.arange(n) + 1) % n)), shape=(n, n))
    a = (sp.identity(n, format="csr") - ring).tocsr()
    rhs = np.random.default_rng(1).random(n)
    np.testing.assert_allclose(_solve_component(a, rhs), sla.spsolve(a.tocsc(), rhs), rtol=1e-9)
