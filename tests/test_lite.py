"""journeymap.lite against scipy 1.17: the same structure, labels, orders and numbers.

Everything is compared bit for bit (``tobytes``, so 0.0 and -0.0 differ, and
dtypes too), except :func:`lite.solve_triangular`, which agrees with LAPACK to a
few units in the last place (it substitutes in another order than OpenBLAS).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.sparse as sp
import scipy.sparse.csgraph as cg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap import lite

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Component labels decide the order of the lead's sums: thousands of graphs.
MANY = settings(SETTINGS, max_examples=2000)

#: Values whose sums depend on the order they are added in (and both zeros).
FLOATS = [0.0, -0.0, 1.0, 0.5, 0.1, 0.2, 0.3, 1 / 3, 2.5, 7.0, -3.25, 1e16, -1e16, 1e-300]


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    dtype: Any = None,
    max_n: int = 60,
    distinct: bool = False,
    nonnegative: bool = False,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(n, data, rows, cols) of an n-by-n matrix: duplicates, self-loops, empty rows,
    stored zeros; rows and columns sometimes drawn from a few values, so that rows
    run past 16 entries with repeated columns (scipy's std::sort then is unstable)."""
    n = draw(st.integers(0, max_n))
    if dtype is None:
        dtype = draw(st.sampled_from([np.int8, np.float64]))
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return 0, np.zeros(0, dtype=dtype), empty, empty
    few_rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
    few_cols = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6))
    row_s = st.sampled_from(few_rows) if draw(st.booleans()) else st.integers(0, n - 1)
    col_s = st.sampled_from(few_cols) if draw(st.booleans()) else st.integers(0, n - 1)
    pairs = draw(st.lists(st.tuples(row_s, col_s), max_size=4 * n + 40))
    if distinct:
        pairs = list(dict.fromkeys(pairs))
    if dtype == np.int8:
        value: st.SearchStrategy[Any] = st.integers(0 if nonnegative else -128, 127)
    else:
        value = st.sampled_from(FLOATS) | st.floats(-1e3, 1e3, allow_nan=False, width=64)
        if nonnegative:
            value = value.map(abs)
    values = draw(st.lists(value, min_size=len(pairs), max_size=len(pairs)))
    rows = np.array([p[0] for p in pairs], dtype=np.int64)
    cols = np.array([p[1] for p in pairs], dtype=np.int64)
    return n, np.array(values, dtype=dtype), rows, cols


def coo_pair(case: tuple[int, np.ndarray, np.ndarray, np.ndarray]) -> tuple[Any, lite.csr_matrix]:
    n, data, rows, cols = case
    return (
        sp.csr_matrix((data, (rows, cols)), shape=(n, n)),
        lite.csr_matrix((data, (rows, cols)), shape=(n, n)),
    )


def raw_pair(case: tuple[int, np.ndarray, np.ndarray, np.ndarray]) -> tuple[Any, lite.csr_matrix]:
    """Built from (data, indices, indptr): rows unsorted, duplicates kept."""
    n, data, rows, cols = case
    order = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    args = (data[order], cols[order], indptr)
    # scipy sums duplicates in place, in the arrays it was given: one copy each
    theirs = sp.csr_matrix(tuple(a.copy() for a in args), shape=(n, n))
    return theirs, lite.csr_matrix(args, shape=(n, n))


def same(mine: Any, theirs: Any) -> None:
    """The same matrix down to the storage: arrays, dtypes, shape."""
    assert isinstance(mine, lite.csr_matrix)
    assert mine.shape == theirs.shape
    assert mine.nnz == theirs.nnz
    assert mine.dtype == theirs.dtype
    for name in ("data", "indices", "indptr"):
        same_array(getattr(mine, name), getattr(theirs, name))


def same_array(mine: Any, theirs: Any) -> None:
    a, b = np.asarray(mine), np.asarray(theirs)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.tobytes() == b.tobytes(), (a, b)


def halts(m: Any) -> bool:
    """scipy 1.17's strong components never return on a float64 graph with a
    repeated entry in a row (see lite._strong): only ask it about the others."""
    return bool(m.dtype != np.float64 or m.has_canonical_format)


# --- construction and in-place methods ------------------------------------------------


@SETTINGS
@given(cases())
def test_from_coo(case: Any) -> None:
    s, m = coo_pair(case)
    same(m, s)
    assert m.has_sorted_indices and m.has_canonical_format
    assert s.has_canonical_format


@SETTINGS
@given(cases(), st.sampled_from([None, np.float64, np.int8]))
def test_dtype_keyword(case: Any, dtype: Any) -> None:
    n, data, rows, cols = case
    with np.errstate(invalid="ignore"):  # 1e16 as int8: numpy's cast, the same in both
        s = sp.csr_matrix((data, (rows, cols)), shape=(n, n), dtype=dtype)
        m = lite.csr_matrix((data, (rows, cols)), shape=(n, n), dtype=dtype)
    same(m, s)


@SETTINGS
@given(cases())
def test_from_compressed_then_sum_duplicates(case: Any) -> None:
    s, m = raw_pair(case)
    same(m, s)
    assert m.has_sorted_indices == s.has_sorted_indices
    assert m.has_canonical_format == s.has_canonical_format
    s.sum_duplicates()
    m.sum_duplicates()
    same(m, s)
    m.sum_duplicates()  # already canonical: nothing changes
    same(m, s)


@SETTINGS
@given(cases())
def test_eliminate_zeros(case: Any) -> None:
    for s, m in (coo_pair(case), raw_pair(case)):
        s.eliminate_zeros()
        m.eliminate_zeros()
        same(m, s)


def test_empty_with_dtype() -> None:
    for shape in ((0, 0), (1, 1), (3, 5)):
        for dtype in (None, np.int8, np.float64):
            same(lite.csr_matrix(shape, dtype=dtype), sp.csr_matrix(shape, dtype=dtype))


def test_from_another_matrix_shares_arrays_as_scipy_does() -> None:
    m = lite.csr_matrix((np.array([1.0, 2.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    view = lite.csr_matrix(m)
    assert view.data is m.data and view.indices is m.indices
    copied = lite.csr_matrix(m, copy=True)
    assert copied.data is not m.data
    same(copied, sp.csr_matrix((m.data, m.indices, m.indptr), shape=m.shape))
    s = sp.csr_matrix((m.data.copy(), m.indices.copy(), m.indptr.copy()), shape=(2, 2))
    assert np.shares_memory(sp.csr_matrix(s).data, s.data)  # scipy's way, which lite follows


def test_never_writes_into_the_arrays_it_was_given() -> None:
    data = np.array([3.0, 1.0, 2.0])
    indices = np.array([2, 0, 2], dtype=np.int32)
    indptr = np.array([0, 3, 3, 3], dtype=np.int32)
    m = lite.csr_matrix((data, indices, indptr), shape=(3, 3))
    m.sum_duplicates()
    assert data.tolist() == [3.0, 1.0, 2.0] and indices.tolist() == [2, 0, 2]
    assert m.indices.tolist() == [0, 2] and m.data.tolist() == [1.0, 5.0]


def test_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        lite.csr_matrix((np.ones(1), (np.array([3]), np.array([0]))), shape=(2, 2))
    with pytest.raises(ValueError):
        lite.csr_matrix((np.ones(1), (np.array([-1]), np.array([0]))), shape=(2, 2))
    with pytest.raises(ValueError):
        lite.csr_matrix((np.ones(2), np.array([0, 5]), np.array([0, 2])), shape=(1, 2))
    with pytest.raises(TypeError):
        lite.csr_matrix("not a matrix")
    m = lite.csr_matrix((2, 2))
    with pytest.raises(IndexError):
        m[np.array([True, False])]
    with pytest.raises(ValueError):
        _ = m + lite.csr_matrix((3, 3))


# --- conversions ------------------------------------------------------------------------


@SETTINGS
@given(cases())
def test_conversions(case: Any) -> None:
    for s, m in (coo_pair(case), raw_pair(case)):
        sc, mc = s.tocoo(), m.tocoo()
        for name in ("row", "col", "data"):
            same_array(getattr(mc, name), getattr(sc, name))
        assert mc.shape == sc.shape and mc.nnz == sc.nnz
        same(mc.tocsr(), sc.tocsr())
        ss, ms = s.tocsc(), m.tocsc()
        for name in ("data", "indices", "indptr"):
            same_array(getattr(ms, name), getattr(ss, name))
        same(m.T.tocsr(), s.T.tocsr())
        same(m.tocsc().tocsr(), s.tocsc().tocsr())
        same_array(m.toarray(), s.toarray())
        same_array(m.T.toarray(), s.T.toarray())
        same_array(m.diagonal(), s.diagonal())
        same(m.astype(np.float64), s.astype(np.float64))
        same(m.astype(m.dtype), s.astype(s.dtype))
        same(m.copy(), s.copy())
        same(m.tocsr(copy=True), s.tocsr(copy=True))
        assert m.tocsr() is m


def test_copies_are_independent() -> None:
    m = lite.csr_matrix((np.ones(2), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
    hops = m.copy()
    hops.data[:] = 7.0
    assert m.data.tolist() == [1.0, 1.0]
    chain = m.tocsr(copy=True)
    chain.data[0] = 0.0
    chain.eliminate_zeros()
    assert m.nnz == 2 and chain.nnz == 1


# --- indexing -----------------------------------------------------------------------------


@SETTINGS
@given(cases(), st.data())
def test_indexing(case: Any, data: st.DataObject) -> None:
    n = case[0]
    index = st.integers(0, max(n - 1, 0))
    rows = np.array(
        data.draw(st.lists(index, max_size=n + 3) if n else st.just([])), dtype=np.int64
    )
    members = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    members = members[: data.draw(st.integers(0, n))]
    repeated = np.array(
        data.draw(st.lists(index, max_size=8) if n else st.just([])), dtype=np.int64
    )
    for s, m in (coo_pair(case), raw_pair(case)):
        same(m[rows], s[rows])
        same(m[members], s[members])
        same(m[members][:, members], s[members][:, members])
        same(m[:, repeated], s[:, repeated])
        same(m[rows][:, repeated], s[rows][:, repeated])
        if n:
            node = data.draw(index)
            same(m[members, node], s[members, node])
            same_array(m[members, node].toarray().ravel(), s[members, node].toarray().ravel())
            same(m[rows, -1], s[rows, -1])
            same(m[-rows - 1], s[-rows - 1])


# --- arithmetic ---------------------------------------------------------------------------


@SETTINGS
@given(cases(), st.integers(1, 40), st.randoms(use_true_random=False))
def test_products(case: Any, k: int, rnd: Any) -> None:
    n = case[0]
    gen = np.random.default_rng(rnd.getrandbits(32))
    x = gen.normal(size=n) * gen.choice([1.0, 1e-8, 1e8], size=n)
    xs = gen.normal(size=(n, k))
    for s, m in (coo_pair(case), raw_pair(case)):
        same_array(m @ x, s @ x)
        same_array(m @ xs, s @ xs)
        same_array(m @ xs[:, :1], s @ xs[:, :1])
        same_array(m @ np.arange(n), s @ np.arange(n))


@SETTINGS
@given(cases(), cases())
def test_sums_and_differences(first_case: Any, second_case: Any) -> None:
    (n, d1, r1, c1), (_, d2, r2, c2) = first_case, second_case
    size = max(n, 1)  # the same shape: fold the second case into the first's size
    first = (size, d1, r1 % size, c1 % size)
    second = (size, d2, r2 % size, c2 % size)
    for (s1, m1), (s2, m2) in (
        (coo_pair(first), coo_pair(second)),  # canonical: scipy merges
        (raw_pair(first), coo_pair(second)),  # its general method
        (raw_pair(first), raw_pair(second)),
    ):
        same(m1 + m2, s1 + s2)
        same(m1 - m2, s1 - s2)
        same(m2 - m1, s2 - s1)


@SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_multiply_by_a_column(case: Any, rnd: Any) -> None:
    n = case[0]
    gen = np.random.default_rng(rnd.getrandbits(32))
    expand = gen.random(n) < 0.5
    scale = gen.normal(size=(n, 1))
    for s, m in (coo_pair(case), raw_pair(case)):
        same(m.multiply(expand[:, None]).tocsr(), s.multiply(expand[:, None]).tocsr())
        same(m.multiply(scale).tocsr(), s.multiply(scale).tocsr())
        full = gen.normal(size=(n, n))
        same(m.multiply(full).tocsr(), s.multiply(full).tocsr())


@SETTINGS
@given(cases())
def test_bmat_and_a_link(case: Any) -> None:
    """Flow.reachable and timing._reach: a virtual node linked to some starts."""
    n = case[0]
    for s, m in (coo_pair(case), raw_pair(case)):
        for dtype in (np.int8, np.float64):
            sb = sp.bmat([[s, None], [None, sp.csr_matrix((1, 1), dtype=dtype)]], format="csr")
            mb = lite.bmat([[m, None], [None, lite.csr_matrix((1, 1), dtype=dtype)]], format="csr")
            same(mb, sb)
            starts = np.arange(0, n, 3)
            link = (np.ones(len(starts), dtype=dtype), (np.full(len(starts), n), starts))
            sl_, ml = (
                sp.csr_matrix(link, shape=(n + 1, n + 1)),
                lite.csr_matrix(link, shape=(n + 1, n + 1)),
            )
            same(mb + ml, sb + sl_)
            big_s, big_m = sb + sl_, mb + ml
            same_array(
                lite.breadth_first_order(big_m, n, directed=True, return_predecessors=False),
                cg.breadth_first_order(big_s, n, directed=True, return_predecessors=False),
            )


@SETTINGS
@given(cases(dtype=np.float64), st.randoms(use_true_random=False))
def test_diags_and_the_loop_system(case: Any, rnd: Any) -> None:
    """graph._solve_component's system of a large loop, built in sparse form."""
    n = case[0]
    exits = np.random.default_rng(rnd.getrandbits(32)).random(n) * (np.arange(n) % 3 != 0)
    same(lite.diags(exits, format="csr"), sp.diags(exits, format="csr"))
    for s, m in (coo_pair(case), raw_pair(case)):
        same(lite.diags(m.diagonal(), format="csr"), sp.diags(s.diagonal(), format="csr"))
        s_off = s - sp.diags(s.diagonal(), format="csr")
        m_off = m - lite.diags(m.diagonal(), format="csr")
        same(m_off, s_off)
        s_off.eliminate_zeros()
        m_off.eliminate_zeros()
        same(m_off, s_off)
        s_a = (sp.diags(exits, format="csr") - s_off).tocsr()
        m_a = (lite.diags(exits, format="csr") - m_off).tocsr()
        same(m_a, s_a)
        same(m_a.T.tocsr(), s_a.T.tocsr())
        same_array(m_a.toarray(), s_a.toarray())


def test_diags_empty_and_integer() -> None:
    same(lite.diags(np.array([]), format="csr"), sp.diags(np.array([]), format="csr"))
    values = np.array([1.0, 0.0, -0.0, 2.0])
    same(lite.diags(values, format="csr"), sp.diags(values, format="csr"))


# --- csgraph --------------------------------------------------------------------------------


def graphs(case: Any) -> list[tuple[Any, lite.csr_matrix]]:
    """The forms a graph reaches csgraph in: canonical, rows unsorted, int8 with
    repeated entries (csgraph's conversion to float64 sums and sorts those)."""
    out = [coo_pair(case)]
    s, m = raw_pair(case)
    if halts(s):
        out.append((s, m))
    return out


@MANY
@given(cases())
def test_strong_components(case: Any) -> None:
    for s, m in graphs(case):
        count, labels = cg.connected_components(s, directed=True, connection="strong")
        mine_count, mine_labels = lite.connected_components(m, directed=True, connection="strong")
        assert mine_count == count and isinstance(mine_count, int)
        same_array(mine_labels, labels)


@MANY
@given(cases(distinct=True, dtype=np.float64))
def test_strong_components_unsorted_rows(case: Any) -> None:
    s, m = raw_pair(case)
    count, labels = cg.connected_components(s, directed=True, connection="strong")
    mine = lite.connected_components(m, directed=True, connection="strong")
    assert mine[0] == count
    same_array(mine[1], labels)


@SETTINGS
@given(cases())
def test_weak_components(case: Any) -> None:
    for s, m in graphs(case):
        for kwargs in ({"connection": "weak"}, {"directed": False, "connection": "strong"}, {}):
            count, labels = cg.connected_components(s, **kwargs)
            mine = lite.connected_components(m, **kwargs)
            assert mine[0] == count
            same_array(mine[1], labels)


def test_strong_components_of_a_repeated_entry_return() -> None:
    """Row [1, 0, 1]: scipy 1.17 loops forever on this float64 graph; lite answers
    as scipy does for the same graph without the repeat."""
    m = lite.csr_matrix((np.ones(3), np.array([1, 0, 1]), np.array([0, 3, 3])), shape=(2, 2))
    s = sp.csr_matrix((np.ones(2), np.array([0, 1]), np.array([0, 2, 2])), shape=(2, 2))
    mine = lite.connected_components(m, directed=True, connection="strong")
    theirs = cg.connected_components(s, directed=True, connection="strong")
    assert mine[0] == theirs[0]
    same_array(mine[1], theirs[1])


@MANY
@given(cases(), st.data())
def test_breadth_first_order(case: Any, data: st.DataObject) -> None:
    n = case[0]
    if n == 0:
        return
    start = data.draw(st.integers(0, n - 1))
    for s, m in graphs(case):
        for directed in (True, False):
            order, pred = cg.breadth_first_order(s, start, directed=directed)
            mine_order, mine_pred = lite.breadth_first_order(m, start, directed=directed)
            same_array(mine_order, order)
            same_array(mine_pred, pred)
            same_array(
                lite.breadth_first_order(m, start, directed, return_predecessors=False),
                cg.breadth_first_order(s, start, directed, return_predecessors=False),
            )


@SETTINGS
@given(cases(nonnegative=True), st.data())
def test_dijkstra(case: Any, data: st.DataObject) -> None:
    n = case[0]
    some = data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=5) if n else st.just([]))
    forms: list[dict[str, Any]] = [
        {"indices": some},
        {"indices": some, "min_only": True},
        {"indices": some, "unweighted": True},
        {"indices": some, "directed": False},
        {"indices": some, "min_only": True, "unweighted": True},
        {"indices": some, "limit": 2.0},
        {},
    ]
    if n:
        one = data.draw(st.integers(0, n - 1))
        forms += [{"indices": one}, {"indices": np.int64(one), "unweighted": True}]
    for s, m in graphs(case):
        if (s.data < 0).any():
            continue  # int8 weights that overflowed when duplicates were added
        for kwargs in forms:
            same_array(lite.dijkstra(m, **kwargs), cg.dijkstra(s, **kwargs))


def test_dijkstra_ties_and_rounding() -> None:
    """Equal distances reached by sums that round differently: the distance is the
    least d(u) + w in floating point whatever the heap's order of ties."""
    w = [0.1, 0.2, 0.3, 0.30000000000000004, 0.0, -0.0, 1e16, 1.0]
    gen = np.random.default_rng(7)
    for _ in range(400):
        n = int(gen.integers(2, 30))
        k = int(gen.integers(0, 4 * n))
        rows = gen.integers(0, n, k)
        cols = gen.integers(0, n, k)
        vals = gen.choice(w, k)
        s = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
        m = lite.csr_matrix((vals, (rows, cols)), shape=(n, n))
        same_array(lite.dijkstra(m, indices=0), cg.dijkstra(s, indices=0))
        same_array(
            lite.dijkstra(m, indices=[0, n - 1], min_only=True),
            cg.dijkstra(s, indices=[0, n - 1], min_only=True),
        )


def test_dijkstra_refuses_what_journeymap_never_asks() -> None:
    m = lite.csr_matrix((np.array([-1.0]), (np.array([0]), np.array([1]))), shape=(2, 2))
    with pytest.raises(ValueError, match="negative"):
        lite.dijkstra(m, indices=0)
    with pytest.raises(ValueError, match="out of range"):
        lite.dijkstra(lite.csr_matrix((2, 2)), indices=2)
    with pytest.raises(ValueError, match="out of range"):
        lite.breadth_first_order(lite.csr_matrix((2, 2)), 2)


# --- solve_triangular -----------------------------------------------------------------------


def gth_factors(off: np.ndarray, escape: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The triangular factors graph._gth solves with."""
    from journeymap.graph import _gth_factors

    return _gth_factors(off, escape)


#: Plain substitution against OpenBLAS: at most 9 ulp apart on loops of 80 nodes.
ULP = 64 * np.finfo(np.float64).eps


@SETTINGS
@given(st.integers(1, 60), st.randoms(use_true_random=False))
def test_solve_triangular(m: int, rnd: Any) -> None:
    gen = np.random.default_rng(rnd.getrandbits(32))
    off = gen.random((m, m)) * (gen.random((m, m)) < 0.3)
    np.fill_diagonal(off, 0.0)
    escape = gen.random(m) * (gen.random(m) < 0.5) * 10.0 ** gen.integers(-12, 0, m)
    escape[0] += 1e-3
    lower, upper = gth_factors(off, escape)
    for rhs in (gen.random(m), gen.random((m, 3)), np.eye(m), np.zeros((m, 0))):
        for a, kwargs in (
            (lower, {"lower": True}),
            (upper, {"unit_diagonal": True}),
            (upper, {"trans": "T", "unit_diagonal": True}),
            (lower, {"lower": True, "trans": "T"}),
            (lower, {"lower": True, "trans": 1}),
        ):
            theirs = sl.solve_triangular(a, rhs, check_finite=False, **kwargs)
            mine = lite.solve_triangular(a, rhs, check_finite=False, **kwargs)
            assert mine.shape == theirs.shape and mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine, theirs, rtol=ULP, atol=0)
            assert (mine >= 0).all()  # only additions of non-negative terms


def test_solve_triangular_overflows_where_scipy_does() -> None:
    """A loop left at 1e-300: visits overflow; _gth then falls back to the sparse
    reduction, so both must give a non-finite answer in the same cases."""
    gen = np.random.default_rng(5)
    for _ in range(100):
        m = int(gen.integers(2, 30))
        off = np.zeros((m, m))
        off[np.arange(m), (np.arange(m) + 1) % m] = 1.0
        off += gen.random((m, m)) * (gen.random((m, m)) < 0.2)
        np.fill_diagonal(off, 0.0)
        escape = np.zeros(m)
        escape[gen.integers(0, m)] = 10.0 ** -float(gen.integers(250, 320))
        lower, upper = gth_factors(off, escape)
        rhs = gen.random(m) * 1e10
        with np.errstate(all="ignore"):
            theirs = sl.solve_triangular(
                upper,
                sl.solve_triangular(lower, rhs, lower=True, check_finite=False),
                unit_diagonal=True,
                check_finite=False,
            )
            mine = lite.solve_triangular(
                upper, lite.solve_triangular(lower, rhs, lower=True), unit_diagonal=True
            )
        assert np.isfinite(mine).all() == np.isfinite(theirs).all()


def test_solve_triangular_leaves_b_alone() -> None:
    b = np.array([1.0, 2.0])
    a = np.array([[2.0, 0.0], [1.0, 4.0]])
    x = lite.solve_triangular(a, b, lower=True)
    assert b.tolist() == [1.0, 2.0]
    np.testing.assert_allclose(a @ x, b)
    with pytest.raises(ValueError):
        lite.solve_triangular(a, b, trans="X")


# --- the std::sort replica ------------------------------------------------------------------


def scipy_sorted(keys: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """What scipy's sort_indices makes of one row with these columns (data = position)."""
    data = np.arange(len(keys), dtype=np.float64)
    indptr = np.array([0, len(keys)])
    s = sp.csr_matrix((data, np.array(keys), indptr), shape=(1, max(keys) + 1))
    s.has_sorted_indices = False  # sort even an already-sorted row, as std::sort would
    s.sort_indices()
    return s.indices, s.data


@SETTINGS
@given(st.integers(1, 8).flatmap(lambda k: st.lists(st.integers(0, k), min_size=1, max_size=400)))
def test_std_sort_replica(keys: list[int]) -> None:
    indices, data = scipy_sorted(keys)
    perm = lite._std_sort(keys)
    assert [keys[i] for i in perm] == indices.tolist()
    assert perm == data.astype(int).tolist()


class _Adversary:
    """McIlroy's "killer adversary for quicksort": values decided while sorting so
    that every partition is as bad as it can be, which drives introsort to heapsort."""

    def __init__(self, n: int) -> None:
        self.gas = n
        self.val = [n] * n
        self.solid = 0
        self.candidate = 0

    def key(self, i: int) -> Any:
        adversary = self

        class Key:
            def __init__(self, i: int) -> None:
                self.i = i

            def __lt__(self, other: Any) -> bool:
                return adversary.compare(self.i, other.i) < 0

        return Key(i)

    def compare(self, x: int, y: int) -> int:
        val, gas = self.val, self.gas
        if val[x] == gas and val[y] == gas:
            frozen = x if x == self.candidate else y
            val[frozen] = self.solid
            self.solid += 1
        if val[x] == gas:
            self.candidate = x
        elif val[y] == gas:
            self.candidate = y
        return val[x] - val[y]


def test_std_sort_replica_down_to_heapsort(monkeypatch: pytest.MonkeyPatch) -> None:
    for n in (40, 200, 700):
        adversary = _Adversary(n)
        lite._std_sort([adversary.key(i) for i in range(n)])
        keys = adversary.val  # the killer input, with many equal keys (the gas)
        calls: list[int] = []
        heap_sort = lite._heap_sort

        def counted(*args: Any, calls: list[int] = calls, heap_sort: Any = heap_sort) -> None:
            calls.append(1)
            heap_sort(*args)

        monkeypatch.setattr(lite, "_heap_sort", counted)
        perm = lite._std_sort(keys)
        monkeypatch.undo()
        assert calls, "the adversary should drive introsort to its heapsort"
        indices, data = scipy_sorted(keys)
        assert perm == data.astype(int).tolist()
        assert [keys[i] for i in perm] == indices.tolist()
        # and through the matrix: the duplicates are added in scipy's order
        values = np.array([10.0 ** (i % 7 * 3) * (-1) ** i for i in range(n)])
        rows = np.zeros(n, dtype=np.int64)
        s = sp.csr_matrix((values.copy(), np.array(keys), np.array([0, n])), shape=(1, n + 1))
        m = lite.csr_matrix((values, np.array(keys), np.array([0, n])), shape=(1, n + 1))
        s.sum_duplicates()
        m.sum_duplicates()
        same(m, s)
        same(
            lite.csr_matrix((values, (rows, np.array(keys))), shape=(1, n + 1)),
            sp.csr_matrix((values, (rows, np.array(keys))), shape=(1, n + 1)),
        )


@SETTINGS
@given(st.integers(17, 120).flatmap(lambda n: st.lists(st.integers(0, 4), min_size=n, max_size=n)))
def test_long_rows_with_repeats_sum_in_scipys_order(cols: list[int]) -> None:
    """Values 1e16 apart: the sum of a repeated column shows the order it was added in."""
    n = len(cols)
    values = np.array([(1e16, 1.0, -1e16, 0.5, 3.0)[i % 5] for i in range(n)])
    rows = np.zeros(n, dtype=np.int64)
    shuffled = np.array(cols[::-1])
    same(
        lite.csr_matrix((values, (rows, shuffled)), shape=(2, 5)),
        sp.csr_matrix((values, (rows, shuffled)), shape=(2, 5)),
    )


# --- edge cases ---------------------------------------------------------------------------


def test_empty_graphs() -> None:
    s, m = sp.csr_matrix((0, 0)), lite.csr_matrix((0, 0))
    assert lite.connected_components(m, directed=True, connection="strong")[0] == 0
    same_array(lite.connected_components(m)[1], cg.connected_components(s)[1])
    same_array(lite.dijkstra(m, indices=[]), cg.dijkstra(s, indices=[]))
    same_array(
        lite.dijkstra(m, indices=[], min_only=True), cg.dijkstra(s, indices=[], min_only=True)
    )
    same_array(lite.dijkstra(m), cg.dijkstra(s))
    same(m.T.tocsr(), s.T.tocsr())
    same(m + m, s + s)
    same(m[np.zeros(0, dtype=np.int64)], s[np.zeros(0, dtype=np.int64)])
    same(
        lite.bmat([[m, None], [None, lite.csr_matrix((1, 1))]], format="csr"),
        sp.bmat([[s, None], [None, sp.csr_matrix((1, 1))]], format="csr"),
    )
    same(
        m.multiply(np.zeros((0, 1), dtype=bool)).tocsr(),
        s.multiply(np.zeros((0, 1), dtype=bool)).tocsr(),
    )
    same_array(m @ np.zeros(0), s @ np.zeros(0))
    same_array(m.toarray(), s.toarray())
    same_array(m.diagonal(), s.diagonal())
    assert lite.solve_triangular(np.zeros((0, 0)), np.zeros(0)).shape == (0,)


@pytest.mark.parametrize("loop", [False, True])
def test_a_single_node(loop: bool) -> None:
    k = int(loop)
    args = (np.ones(k), (np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)))
    s, m = sp.csr_matrix(args, shape=(1, 1)), lite.csr_matrix(args, shape=(1, 1))
    same(m, s)
    count, labels = lite.connected_components(m, connection="strong")
    assert (count, labels.tolist()) == (1, [0])
    same_array(labels, cg.connected_components(s, connection="strong")[1])
    order, pred = lite.breadth_first_order(m, 0)
    same_array(order, cg.breadth_first_order(s, 0)[0])
    same_array(pred, cg.breadth_first_order(s, 0)[1])
    same_array(lite.dijkstra(m, indices=0), cg.dijkstra(s, indices=0))
    same(m.multiply(np.array([[False]])).tocsr(), s.multiply(np.array([[False]])).tocsr())
    same(
        m.multiply(np.array([True])[:, None]).tocsr(), s.multiply(np.array([True])[:, None]).tocsr()
    )


def test_a_start_with_no_edges() -> None:
    args = (np.ones(2), (np.array([1, 2]), np.array([2, 1])))
    s, m = sp.csr_matrix(args, shape=(3, 3)), lite.csr_matrix(args, shape=(3, 3))
    order, pred = lite.breadth_first_order(m, 0)
    same_array(order, cg.breadth_first_order(s, 0)[0])
    same_array(pred, cg.breadth_first_order(s, 0)[1])
    assert order.tolist() == [0] and pred.tolist() == [-9999] * 3
    same_array(lite.dijkstra(m, indices=0), cg.dijkstra(s, indices=0))


# --- journeymap's own sequences ---------------------------------------------------------------


@SETTINGS
@given(cases(dtype=np.float64, nonnegative=True))
def test_solution_of_sequence(case: Any) -> None:
    """graph.Solution.of: components, the exits and escapes, the DAG of components."""
    s0, m0 = raw_pair(case)
    n = case[0]
    results = []
    for lib, matrix in ((sp, s0), (lite, m0)):
        components = cg if lib is sp else lite
        q = lib.csr_matrix(matrix)
        q.sum_duplicates()
        count, labels = components.connected_components(q, directed=True, connection="strong")
        coo = q.tocoo()
        exits = np.bincount(coo.row, weights=coo.data, minlength=n)
        cross = labels[coo.row] != labels[coo.col]
        dependent, dependency = labels[coo.row[cross]], labels[coo.col[cross]]
        dag = lib.csr_matrix(
            (np.ones(len(dependent), dtype=np.int8), (dependency, dependent)), shape=(count, count)
        )
        dag.sum_duplicates()
        pending = np.diff(dag.tocsc().indptr)
        results.append((q, labels, exits, dag, pending, q.T.tocsr(), q @ exits))
    (sq, sl_, se, sd, spn, st_, sx), (mq, ml, me, md, mpn, mt, mx) = results
    same(mq, sq)
    same_array(ml, sl_)
    same_array(me, se)
    same(md, sd)
    same_array(mpn, spn)
    same(mt, st_)
    same_array(mx, sx)


@SETTINGS
@given(cases(dtype=np.float64, nonnegative=True), st.randoms(use_true_random=False))
def test_paths_graph_sequence(case: Any, rnd: Any) -> None:
    """paths._graph and count_routes: clip, zero some rows, drop zeros, count routes."""
    n = case[0]
    expand = np.random.default_rng(rnd.getrandbits(32)).random(n) < 0.6
    s, m = coo_pair(case)
    sc, mc = s.tocsr(copy=True), m.tocsr(copy=True)
    for chain in (sc, mc):
        chain.data = np.clip(chain.data, 0.0, 1.0)
        chain.data[~expand[np.repeat(np.arange(n), np.diff(chain.indptr))]] = 0.0
        chain.eliminate_zeros()
    same(mc, sc)
    sr = s.multiply(expand[:, None]).tocsr()
    mr = m.multiply(expand[:, None]).tocsr()
    same(mr, sr)
    theirs = cg.connected_components(sr, directed=True, connection="strong")
    mine = lite.connected_components(mr, directed=True, connection="strong")
    same_array(mine[1], theirs[1])


# --- scipy stays out ----------------------------------------------------------------------------


def test_never_imports_scipy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from journeymap import lite

        rows, cols = np.array([0, 1, 2, 2, 0]), np.array([1, 2, 0, 0, 0])
        m = lite.csr_matrix((np.ones(5, dtype=np.int8), (rows, cols)), shape=(3, 3))
        f = lite.csr_matrix((np.ones(5), cols, np.array([0, 2, 3, 5])), shape=(3, 3))
        f.sum_duplicates()
        g = lite.csr_matrix(f, copy=True)
        g.eliminate_zeros()
        lite.csr_matrix((3, 3), dtype=np.int8)
        m.tocoo().tocsr(); m.tocsc(); m.T.tocsr(); m.toarray(); m.diagonal(); m.copy()
        m.astype(np.float64); m.tocsr(copy=True); m.has_sorted_indices; m.has_canonical_format
        m[np.array([2, 0])][:, np.array([0, 2])]; m[np.array([0, 1]), 2]; m[:, np.array([1])]
        f @ np.ones(3); f @ np.ones((3, 2)); f @ np.ones((3, 40))
        m + m; f - g; f.multiply(np.array([True, False, True])[:, None]).tocsr()
        lite.bmat([[m, None], [None, lite.csr_matrix((1, 1), dtype=np.int8)]], format="csr")
        lite.diags(np.ones(3), format="csr")
        lite.connected_components(m, directed=True, connection="strong")
        lite.connected_components(m, directed=True, connection="weak")
        lite.breadth_first_order(m, 0, directed=True, return_predecessors=True)
        lite.breadth_first_order(m, 0, directed=False, return_predecessors=False)
        lite.dijkstra(f, directed=True, indices=np.array([0, 1]), min_only=True)
        lite.dijkstra(f, directed=True, indices=0, unweighted=True)
        lite.dijkstra(f, directed=False, indices=[0])
        lite.solve_triangular(np.eye(3), np.ones(3), lower=True, check_finite=False)
        lite.solve_triangular(np.eye(3), np.ones((3, 2)), trans="T", unit_diagonal=True)
        lite._std_sort([3, 1, 2] * 10)
        loaded = sorted(k for k in sys.modules if k == "scipy" or k.startswith("scipy."))
        assert not loaded, loaded
        print("no scipy")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no scipy"
