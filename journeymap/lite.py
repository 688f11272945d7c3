"""A small pure-numpy stand-in for the part of scipy journeymap uses.

Why: importing scipy.sparse, scipy.sparse.csgraph and scipy.linalg takes about a
quarter of a second, more than all the work on a journey of a few dozen
touchpoints (``journeymap render`` spends 0.25 s of its 0.43 s importing them).
Small journeys use this module instead; large ones keep scipy, whose compiled
loops win once a graph has tens of thousands of nodes.

Same names, same signatures (for the arguments journeymap passes) and the same
results as scipy 1.17, down to the bits, so that switching between the two
never changes a number journeymap prints:

- the storage order of every matrix (the order of ``indices`` within a row after
  construction, ``sum_duplicates``, transposes, sums and slices), because the
  graph searches visit neighbours in that order;
- floating-point sums taken in scipy's order (duplicates added left to right,
  products accumulated row by row as its C loops do), including where scipy
  sorts a row with ``std::sort``, which is not stable: rows of more than 16
  entries with repeated columns are sorted by a replica of libstdc++'s
  introsort, so their duplicates are added in the same order;
- the component labels of :func:`connected_components` (Pearce's iterative
  algorithm, as scipy runs it), the order and predecessors of
  :func:`breadth_first_order`, the distances of :func:`dijkstra`.

Stored zeros are edges for the graph functions, as in scipy (only
:meth:`csr_matrix.eliminate_zeros` and :func:`diags` drop them).

:func:`solve_triangular` is plain substitution: it agrees with scipy's LAPACK
call to a few units in the last place, not bit for bit (OpenBLAS blocks and
vectorises its sums), and with the non-negative terms of
:func:`journeymap.graph._gth` it only ever adds numbers of one sign.

Where this module differs from scipy on purpose: it never writes into arrays it
was given (scipy's ``sum_duplicates`` sorts and sums a matrix built from a
caller's arrays in place, and ``csr_matrix(other)`` then changes ``other``
too); :func:`connected_components` returns on a float64 graph with a repeated
entry in a row, where scipy 1.17 never does (see :func:`_strong`); it refuses
what journeymap never does (negative Dijkstra weights, a start node out of
range, boolean masks as indices, block patterns other than the one :func:`bmat`
documents) rather than guess; index arrays are always int32 (scipy switches to
int64 past 2**31 entries).

Speed: on a graph of 2,000 nodes and 20,000 entries the matrix operations take
0.01 to 0.7 ms each (2 to 10 times scipy's), the searches in plain Python 0.4 to
3 ms (scipy's C: 0.01 to 0.2 ms); importing this module takes 2 ms, scipy's
parts 200 ms. Past a few thousand nodes, use scipy.

Never import scipy here: that would defeat the module (a test checks it).
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = [
    "bmat",
    "breadth_first_order",
    "connected_components",
    "coo_matrix",
    "csc_matrix",
    "csr_matrix",
    "diags",
    "dijkstra",
    "solve_triangular",
]

Array = NDArray[Any]
INDEX = np.int32
#: scipy's csgraph marks a node not reached (a predecessor) with this.
NULL_IDX = -9999
#: libstdc++'s std::sort leaves runs of at most this many to insertion sort.
_S_THRESHOLD = 16


# --- the sparse matrices ------------------------------------------------------------


class _Matrix:
    """What the three forms share: a shape, the stored values' dtype, a repr."""

    data: Array
    _shape: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def nnz(self) -> int:
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    def __repr__(self) -> str:
        return f"<lite {type(self).__name__} {self._shape} nnz={self.nnz} dtype={self.dtype}>"


class coo_matrix(_Matrix):
    """Entries as (row, col, data), in the order they were listed.

    Only what ``csr_matrix.tocoo()`` and ``csr_matrix.multiply()`` give back.
    """

    def __init__(
        self,
        data: Array,
        row: Array,
        col: Array,
        shape: tuple[int, int],
    ) -> None:
        self.data = data
        self.row = row
        self.col = col
        self._shape = shape

    @property
    def nnz(self) -> int:
        return len(self.data)

    def tocsr(self, copy: bool = False) -> csr_matrix:
        """Back to CSR, in the same order; duplicates summed (and rows sorted) unless
        the entries are canonical, as scipy does for a COO taken from a CSR (its
        flag says whether that CSR was canonical, and the entries are in its order)."""
        if self.nnz == 0:
            return csr_matrix(self._shape, dtype=self.dtype)
        indptr, indices, data = _coo_to_csr(self._shape[0], self.row, self.col, self.data)
        m = csr_matrix._from_arrays(data, indices, indptr, self._shape)
        m.sum_duplicates()
        return m


class csc_matrix(_Matrix):
    """Compressed columns: what ``csr_matrix.T`` and ``csr_matrix.tocsc()`` give back.

    Journeymap only converts it back with :meth:`tocsr` or reads its ``indptr``
    (the count of entries in each column).
    """

    def __init__(self, data: Array, indices: Array, indptr: Array, shape: tuple[int, int]) -> None:
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self._shape = shape

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def tocsr(self, copy: bool = False) -> csr_matrix:
        """Rows sorted by column, duplicates kept (scipy's ``csr_tocsc``)."""
        m, n = self._shape
        data, indices, indptr = _compress_transposed(n, m, self.indptr, self.indices, self.data)
        return csr_matrix._from_arrays(data, indices, indptr, self._shape)

    def toarray(self) -> Array:
        return self.tocsr().toarray()


class csr_matrix(_Matrix):
    """Compressed sparse rows, built and combined exactly as scipy.sparse.csr_matrix.

    Construction: ``csr_matrix((data, (row, col)), shape=)`` (duplicates summed,
    rows sorted), ``csr_matrix((data, indices, indptr), shape=)`` (taken as
    given), ``csr_matrix(other)`` (the same arrays, not a copy, as in scipy),
    ``csr_matrix((m, n), dtype=)`` (empty).
    """

    data: Array
    indices: Array
    indptr: Array

    def __init__(
        self,
        arg1: Any,
        shape: tuple[int, int] | None = None,
        dtype: DTypeLike | None = None,
        copy: bool = False,
    ) -> None:
        if isinstance(arg1, csr_matrix | csc_matrix | coo_matrix):
            other = arg1.tocsr(copy=copy) if isinstance(arg1, csr_matrix) else arg1.tocsr()
            self.data, self.indices, self.indptr = other.data, other.indices, other.indptr
            self._shape = other.shape
            if shape is not None and _shape_of(shape) != self._shape:
                raise ValueError(f"shape {shape} does not match the matrix's {self._shape}")
        elif isinstance(arg1, tuple) and _is_shape(arg1):
            self._shape = _shape_of(arg1)
            self.data = np.zeros(0, dtype=np.float64 if dtype is None else dtype)
            self.indices = np.zeros(0, dtype=INDEX)
            self.indptr = np.zeros(self._shape[0] + 1, dtype=INDEX)
        elif isinstance(arg1, tuple) and len(arg1) == 2:
            self._from_coo(arg1[0], arg1[1], shape, dtype)
        elif isinstance(arg1, tuple) and len(arg1) == 3:
            self._from_compressed(arg1[0], arg1[1], arg1[2], shape, dtype, copy)
        else:
            raise TypeError(f"lite.csr_matrix cannot be built from {type(arg1).__name__}")
        if dtype is not None:
            self.data = self.data.astype(dtype, copy=False)

    @classmethod
    def _from_arrays(
        cls, data: Array, indices: Array, indptr: Array, shape: tuple[int, int]
    ) -> csr_matrix:
        """A matrix around arrays already checked (no copy, no conversion)."""
        m = cls.__new__(cls)
        m.data, m.indices, m.indptr, m._shape = data, indices, indptr, shape
        return m

    def _from_coo(self, data: Any, ij: Any, shape: Any, dtype: DTypeLike | None) -> None:
        try:
            row_in, col_in = ij
        except (TypeError, ValueError) as exc:
            raise TypeError("expected (data, (row, col))") from exc
        row = np.asarray(row_in)
        col = np.asarray(col_in)
        values = np.array(data, dtype=dtype)
        if row.ndim != 1 or col.ndim != 1 or values.ndim != 1:
            raise ValueError("row, col and data must be 1-D")
        if not (len(row) == len(col) == len(values)):
            raise ValueError("row, col and data must have the same length")
        if shape is None:
            if len(row) == 0:
                raise ValueError("cannot infer dimensions from zero sized index arrays")
            shape = (int(row.max()) + 1, int(col.max()) + 1)
        self._shape = _shape_of(shape)
        m, n = self._shape
        for name, idx, bound in (("row", row, m), ("column", col, n)):
            if len(idx) and not np.issubdtype(idx.dtype, np.integer):
                raise TypeError(f"{name} indices must be integers")
            if len(idx) and int(idx.max()) >= bound:
                raise ValueError(f"{name} index exceeds matrix dimensions")
            if len(idx) and int(idx.min()) < 0:
                raise ValueError(f"negative {name} index found")
        self.indptr, self.indices, self.data = _coo_to_csr(
            m, row.astype(INDEX), col.astype(INDEX), values
        )
        self.sum_duplicates()

    def _from_compressed(
        self, data: Any, indices: Any, indptr: Any, shape: Any, dtype: DTypeLike | None, copy: bool
    ) -> None:
        ind = np.asarray(indices)
        ptr = np.asarray(indptr)
        if ind.ndim != 1 or ptr.ndim != 1 or len(ptr) == 0:
            raise ValueError("indices and indptr must be 1-D, indptr not empty")
        if shape is None:
            shape = (len(ptr) - 1, int(ind.max()) + 1 if len(ind) else 0)
        self._shape = _shape_of(shape)
        m, n = self._shape
        values = np.array(data, dtype=dtype, copy=None if not copy else True)
        if len(ptr) != m + 1:
            raise ValueError(f"index pointer size {len(ptr)} should be {m + 1}")
        if int(ptr[0]) != 0 or np.any(np.diff(ptr) < 0):
            raise ValueError("index pointer must start at 0 and never decrease")
        nnz = int(ptr[-1])
        if len(ind) < nnz or len(values) < nnz:
            raise ValueError("indices and data must hold at least indptr[-1] entries")
        ind = ind[:nnz]
        if nnz and (int(ind.min()) < 0 or int(ind.max()) >= n):
            raise ValueError("column index out of bounds")
        self.indices = ind.astype(INDEX, copy=copy)
        self.indptr = ptr.astype(INDEX, copy=copy)
        self.data = values[:nnz]

    # --- attributes ---------------------------------------------------------------

    @property
    def ndim(self) -> int:
        return 2

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    @property
    def has_sorted_indices(self) -> bool:
        """Columns never decrease within a row (duplicates allowed), read from the arrays."""
        return not bool((np.diff(_keys(self.indptr, self.indices, self._shape[1])) < 0).any())

    @property
    def has_canonical_format(self) -> bool:
        """Columns strictly increase within each row: sorted, no duplicates."""
        return not bool((np.diff(_keys(self.indptr, self.indices, self._shape[1])) <= 0).any())

    @property
    def T(self) -> csc_matrix:
        """The transpose, as scipy gives it: the same arrays read as columns."""
        return csc_matrix(self.data, self.indices, self.indptr, (self._shape[1], self._shape[0]))

    def transpose(self) -> csc_matrix:
        return self.T

    # --- in place -----------------------------------------------------------------

    def sum_duplicates(self) -> None:
        """Sort each row (as scipy's std::sort does) and add up repeated columns, in place.

        Nothing happens to a matrix already canonical; rows are sorted only when some
        row is out of order (then all are, as scipy does); repeated columns are added
        left to right, starting from the first (not from 0)."""
        keys = _keys(self.indptr, self.indices, self._shape[1])
        step = np.diff(keys)
        if not (step <= 0).any():
            return
        indices, data = self.indices, self.data
        if (step < 0).any():
            indices, data, keys = _sort_rows(self.indptr, indices, data, keys)
        n = len(keys)
        first = np.ones(n, dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        starts = np.flatnonzero(first)
        lengths = np.diff(np.append(starts, n))
        self.data = _run_sums(data, starts, lengths, from_zero=False)
        self.indices = indices[starts]
        self.indptr = _pointers(_expand(self.indptr)[starts], self._shape[0])

    def eliminate_zeros(self) -> None:
        """Drop the stored zeros, in place (NaN is no zero)."""
        keep = self.data != 0
        if keep.all():
            return
        rows = _expand(self.indptr)
        self.data = self.data[keep]
        self.indices = self.indices[keep]
        self.indptr = _pointers(rows[keep], self._shape[0])

    # --- conversions --------------------------------------------------------------

    def copy(self) -> csr_matrix:
        return csr_matrix._from_arrays(
            self.data.copy(), self.indices.copy(), self.indptr.copy(), self._shape
        )

    def tocsr(self, copy: bool = False) -> csr_matrix:
        return self.copy() if copy else self

    def tocsc(self) -> csc_matrix:
        """Columns sorted by row, duplicates kept (scipy's ``csr_tocsc``)."""
        m, n = self._shape
        data, indices, indptr = _compress_transposed(m, n, self.indptr, self.indices, self.data)
        return csc_matrix(data, indices, indptr, self._shape)

    def tocoo(self) -> coo_matrix:
        """Entries in storage order; ``col`` and ``data`` are this matrix's own arrays."""
        return coo_matrix(self.data, _expand(self.indptr), self.indices, self._shape)

    def toarray(self) -> Array:
        """Dense, duplicates added in storage order onto zeros (so -0.0 comes out 0.0)."""
        out = np.zeros(self._shape, dtype=self.dtype)
        rows = _expand(self.indptr)
        if self.has_canonical_format:
            out[rows, self.indices] = self.data + out.dtype.type(0)
        else:
            np.add.at(out, (rows, self.indices), self.data)
        return out

    def astype(self, dtype: DTypeLike) -> csr_matrix:
        """A copy with ``data`` converted; a conversion also sums duplicates, as scipy's does."""
        target = np.dtype(dtype)
        if target == self.dtype:
            return self.copy()
        m = csr_matrix._from_arrays(
            self.data.astype(target), self.indices.copy(), self.indptr.copy(), self._shape
        )
        m.sum_duplicates()
        return m

    def diagonal(self) -> Array:
        """The main diagonal, duplicates added in storage order onto zeros."""
        size = min(self._shape)
        out = np.zeros(size, dtype=self.dtype)
        rows = _expand(self.indptr)
        on = rows == self.indices
        np.add.at(out, rows[on], self.data[on])
        return out

    # --- indexing -----------------------------------------------------------------

    def __getitem__(self, key: Any) -> csr_matrix:
        """``m[rows]``, ``m[:, cols]`` and ``m[rows, col]`` with integer arrays, as scipy.

        Rows come in the order asked for; within a row, entries keep their storage
        order (a column asked for twice gives two entries, ordered as numpy's
        argsort of the columns asked for, which is what scipy uses)."""
        if not isinstance(key, tuple):
            return self._rows(_index_array(key, self._shape[0]))
        if len(key) != 2:
            raise IndexError("lite.csr_matrix takes one or two indices")
        row, col = key
        if isinstance(row, slice) and row == slice(None):
            if isinstance(col, slice) and col == slice(None):
                return self.copy()
            return self._columns(_index_array(col, self._shape[1]))
        rows = self._rows(_index_array(row, self._shape[0]))
        if isinstance(col, slice) and col == slice(None):
            return rows
        if _is_int(col):
            j = _wrap(int(col), self._shape[1])
            return rows._column_range(j)
        raise IndexError("lite.csr_matrix: unsupported index")

    def _rows(self, idx: Array) -> csr_matrix:
        """scipy's ``csr_row_index``: the rows ``idx``, in that order."""
        n = self._shape[1]
        if len(idx) == 0:
            return csr_matrix((0, n), dtype=self.dtype)
        begin = self.indptr[idx]
        lens = self.indptr[idx + 1] - begin
        take = _positions(begin, lens)
        indptr = np.zeros(len(idx) + 1, dtype=INDEX)
        np.cumsum(lens, out=indptr[1:])
        return csr_matrix._from_arrays(self.data[take], self.indices[take], indptr, (len(idx), n))

    def _columns(self, idx: Array) -> csr_matrix:
        """scipy's ``csr_column_index1/2``: each entry once per time its column is asked."""
        m, n = self._shape
        k = len(idx)
        if k == 0:
            return csr_matrix((m, 0), dtype=self.dtype)
        counts = np.bincount(idx, minlength=n)
        offsets = np.cumsum(counts)
        order = np.argsort(idx.astype(INDEX)).astype(INDEX)
        times = counts[self.indices]
        entry = np.repeat(np.arange(len(self.indices)), times)
        # each copy of an entry takes the next position of its column in ``order``
        first = (offsets - counts)[self.indices]
        rank = np.arange(len(entry)) - np.repeat(np.cumsum(times) - times, times)
        indices = order[np.repeat(first, times) + rank]
        indptr = _pointers(_expand(self.indptr)[entry], m)
        return csr_matrix._from_arrays(self.data[entry], indices.astype(INDEX), indptr, (m, k))

    def _column_range(self, j: int) -> csr_matrix:
        """scipy's ``get_csr_submatrix`` for one column: an (m, 1) matrix."""
        keep = self.indices == j
        rows = _expand(self.indptr)[keep]
        return csr_matrix._from_arrays(
            self.data[keep],
            np.zeros(int(keep.sum()), dtype=INDEX),
            _pointers(rows, self._shape[0]),
            (self._shape[0], 1),
        )

    # --- arithmetic ---------------------------------------------------------------

    def __matmul__(self, other: Any) -> Array:
        """Product with a dense vector or (n, k) array, summed row by row as scipy does."""
        x = np.asarray(other)
        m, n = self._shape
        if x.ndim not in (1, 2) or x.shape[0] != n:
            raise ValueError(f"dimension mismatch: {self._shape} @ {x.shape}")
        dtype = np.result_type(self.dtype, x.dtype)
        rows = _expand(self.indptr)
        data = self.data.astype(dtype, copy=False)
        if x.ndim == 1:
            terms = data * x[self.indices]
            if dtype == np.float64:
                # bincount adds each row's terms in order onto 0.0, as csr_matvec does
                # (and gives int64 when there is nothing to add: hence the astype)
                return np.bincount(rows, weights=terms, minlength=m).astype(dtype, copy=False)
            out = np.zeros(m, dtype=dtype)
            np.add.at(out, rows, terms)
            return out
        out = np.zeros((m, x.shape[1]), dtype=dtype)
        if dtype == np.float64 and x.shape[1] <= 32:
            # one column of terms at a time, each contiguous: x^T's columns times data
            for c, terms in enumerate(x.T[:, self.indices] * data):
                out[:, c] = np.bincount(rows, weights=terms, minlength=m)
        else:
            np.add.at(out, rows, data[:, None] * x[self.indices])
        return out

    def __add__(self, other: Any) -> csr_matrix:
        if not isinstance(other, csr_matrix):
            return NotImplemented
        return self._binop(other, operator.add)

    def __sub__(self, other: Any) -> csr_matrix:
        if not isinstance(other, csr_matrix):
            return NotImplemented
        return self._binop(other, operator.sub)

    def _binop(self, other: csr_matrix, op: Any) -> csr_matrix:
        """scipy's ``csr_binop_csr``: a merge of two canonical matrices, else its
        general method; results equal to 0 are dropped either way."""
        if self._shape != other._shape:
            raise ValueError(f"inconsistent shapes {self._shape} and {other._shape}")
        dtype = np.result_type(self.dtype, other.dtype)
        a_data = self.data.astype(dtype, copy=False)
        b_data = other.data.astype(dtype, copy=False)
        m = self._shape[0]
        a_rows, b_rows = _expand(self.indptr), _expand(other.indptr)
        n = max(self._shape[1], 1)
        a_keys = a_rows.astype(np.int64) * n + self.indices
        b_keys = b_rows.astype(np.int64) * n + other.indices
        if not (np.diff(a_keys) <= 0).any() and not (np.diff(b_keys) <= 0).any():
            # both canonical: scipy merges the rows, computing op(a, 0) or op(0, b)
            # where only one side has an entry. A stable sort of both sides' cells
            # puts A's entry first where both have one.
            order = np.argsort(np.concatenate([a_keys, b_keys]), kind="stable")
            keys = np.concatenate([a_keys, b_keys])[order]
            values = np.concatenate([a_data, b_data])[order]
            from_b = order >= len(a_keys)
            first = np.ones(len(keys), dtype=bool)
            first[1:] = keys[1:] != keys[:-1]
            starts = np.flatnonzero(first)
            pair = np.zeros(len(starts), dtype=bool)
            pair[:-1] = np.diff(starts) == 2
            if len(starts):
                pair[-1] = len(keys) - starts[-1] == 2
            zero = np.zeros(len(starts), dtype=dtype)
            lead = values[starts]
            a_full = np.where(from_b[starts], zero, lead)
            second = values[np.minimum(starts + 1, max(len(keys) - 1, 0))]
            b_full = np.where(pair, second, np.where(from_b[starts], lead, zero))
            result = np.asarray(op(a_full, b_full), dtype=dtype)
            out_rows, out_cols = keys[starts] // n, keys[starts] % n
        else:
            result, out_rows, out_cols = _binop_general(
                a_rows, self.indices, a_data, b_rows, other.indices, b_data, op, dtype
            )
        keep = result != 0
        return csr_matrix._from_arrays(
            result[keep],
            out_cols[keep].astype(INDEX),
            _pointers(out_rows[keep], m),
            self._shape,
        )

    def multiply(self, other: Any) -> coo_matrix | csr_matrix:
        """Entry by entry with a dense array: a column (m, 1) as journeymap uses, a
        same-shape array, or one value. Stored entries stay, even where now 0.
        Call ``.tocsr()`` on the result (scipy gives a COO matrix)."""
        x = np.asanyarray(other)
        m, n = self._shape
        if x.size == 1:
            return csr_matrix._from_arrays(
                self.data * x.flat[0], self.indices.copy(), self.indptr.copy(), self._shape
            )
        coo = self.tocoo()
        if x.shape == self._shape:
            data = np.multiply(coo.data, x[coo.row, coo.col])
        elif x.ndim == 2 and x.shape == (m, 1) and m != 1 and n != 1:
            data = np.multiply(coo.data, x[coo.row, 0])
        else:
            raise ValueError(f"lite.csr_matrix.multiply: unsupported shape {x.shape}")
        return coo_matrix(data, coo.row, coo.col, self._shape)


def bmat(blocks: Sequence[Sequence[csr_matrix | None]], format: str = "csr") -> csr_matrix:
    """Blocks side by side, as scipy builds them when some block is None (through COO).

    Only that pattern (``[[m, None], [None, csr_matrix((1, 1))]]`` in journeymap):
    scipy takes another road, which keeps duplicates and order, when every block
    is a CSR matrix, and that is refused here."""
    if format != "csr":
        raise ValueError("lite.bmat builds CSR matrices only")
    grid = [list(r) for r in blocks]
    if not grid or len({len(r) for r in grid}) != 1 or not grid[0]:
        raise ValueError("blocks must be a non-empty 2-D grid")
    if all(b is not None for r in grid for b in r):
        raise ValueError("lite.bmat needs at least one None block (see its docstring)")
    heights = [0] * len(grid)
    widths = [0] * len(grid[0])
    for i, r in enumerate(grid):
        for j, b in enumerate(r):
            if b is None:
                continue
            h, w = b.shape
            if heights[i] and heights[i] != h:
                raise ValueError(f"blocks[{i},:] has incompatible row dimensions")
            if widths[j] and widths[j] != w:
                raise ValueError(f"blocks[:,{j}] has incompatible column dimensions")
            heights[i], widths[j] = h, w
    row_at = np.concatenate([[0], np.cumsum(heights)])
    col_at = np.concatenate([[0], np.cumsum(widths)])
    present = [(i, j, b) for i, r in enumerate(grid) for j, b in enumerate(r) if b is not None]
    dtype = np.result_type(*[b.dtype for _, _, b in present])
    coos = [(i, j, b.tocoo()) for i, j, b in present]
    data = np.concatenate([c.data.astype(dtype) for _, _, c in coos])
    row = np.concatenate([c.row.astype(np.int64) + row_at[i] for i, _, c in coos])
    col = np.concatenate([c.col.astype(np.int64) + col_at[j] for _, j, c in coos])
    return csr_matrix((data, (row, col)), shape=(int(row_at[-1]), int(col_at[-1])))


def diags(diagonals: ArrayLike, format: str = "csr") -> csr_matrix:
    """The main diagonal only, as ``scipy.sparse.diags(values, format="csr")``:
    float64 (scipy's common type), stored zeros dropped."""
    if format != "csr":
        raise ValueError("lite.diags builds CSR matrices only")
    values = np.atleast_1d(np.asarray(diagonals))
    if values.ndim != 1:
        raise ValueError("lite.diags takes the main diagonal only")
    values = values.astype(np.common_type(values))
    m = len(values)
    keep = np.flatnonzero(values != 0).astype(INDEX)
    return csr_matrix._from_arrays(values[keep], keep, _pointers(keep, m), (m, m))


# --- csgraph --------------------------------------------------------------------------


def connected_components(
    csgraph: csr_matrix | csc_matrix, directed: bool = True, connection: str = "weak"
) -> tuple[int, Array]:
    """(count, labels) numbered exactly as scipy numbers them.

    Strong: Pearce's iterative algorithm, a line-for-line port of scipy's
    ``_connected_components_directed`` (the first component completed is 0, so
    labels depend on the order of each row's entries). Weak (or undirected):
    numbered by their smallest node, as scipy's are. Labels are int32."""
    if connection.lower() not in ("weak", "strong"):
        raise ValueError("connection must be 'weak' or 'strong'")
    g = _graph(csgraph)
    n = g.shape[0]
    pointers, targets = g.indptr.tolist(), g.indices.tolist()
    if directed and connection.lower() == "strong":
        count, labels = _strong(n, pointers, targets)
    else:
        t = g.T.tocsr()
        count, labels = _weak(n, pointers, targets, t.indptr.tolist(), t.indices.tolist())
    return count, np.asarray(labels, dtype=INDEX)


def _strong(n: int, indptr: list[int], indices: list[int]) -> tuple[int, list[int]]:
    """scipy's ``_connected_components_directed``, with its shared arrays shared here too.

    One change: a node already on top of the DFS stack is not pushed again. scipy
    pushes it, linking it to itself, and never returns (scipy 1.17, a float64 graph
    with a repeated entry in a row, e.g. row [1, 0, 1] of a 2-node graph); here the
    push is the no-op it means. Graphs without repeated entries (all journeymap
    passes) cannot tell the difference."""
    void, end = -1, -2
    lowlinks = labels = [void] * n
    ss = stack_f = [void] * n
    stack_b = [void] * n
    ss_head = end
    index = 0
    label = n - 1
    for start in range(n):
        if lowlinks[start] != void:
            continue
        stack_head = start
        stack_f[start] = end
        stack_b[start] = end
        while stack_head != end:
            v = stack_head
            if lowlinks[v] == void:
                lowlinks[v] = index
                index += 1
                for w in indices[indptr[v] : indptr[v + 1]]:
                    if lowlinks[w] == void and w != stack_head:
                        if stack_f[w] != void:  # already on the stack: excise it
                            f = stack_f[w]
                            b = stack_b[w]
                            if b != end:
                                stack_f[b] = f
                            if f != end:
                                stack_b[f] = b
                        stack_f[w] = stack_head
                        stack_b[w] = end
                        stack_b[stack_head] = w
                        stack_head = w
            else:
                stack_head = stack_f[v]
                if stack_head >= 0:
                    stack_b[stack_head] = end
                stack_f[v] = void
                stack_b[v] = void
                # the least lowlink among v's and its successors' (scipy: a loop of <)
                low_v = lowlinks[v]
                low = min(
                    map(lowlinks.__getitem__, indices[indptr[v] : indptr[v + 1]]), default=low_v
                )
                root = low >= low_v
                if not root:
                    low_v = low
                lowlinks[v] = low_v
                if root:
                    index -= 1
                    while ss_head != end and lowlinks[v] <= lowlinks[ss_head]:
                        w = ss_head
                        ss_head = ss[w]
                        ss[w] = void
                        labels[w] = label
                        index -= 1
                    labels[v] = label
                    label -= 1
                else:
                    ss[v] = ss_head
                    ss_head = v
    return (n - 1) - label, [(n - 1) - x for x in labels]


def _weak(
    n: int, p1: list[int], t1: list[int], p2: list[int], t2: list[int]
) -> tuple[int, list[int]]:
    """Components of the undirected graph, numbered by their smallest node."""
    labels = [-1] * n
    label = 0
    for start in range(n):
        if labels[start] != -1:
            continue
        labels[start] = label
        stack = [start]
        while stack:
            v = stack.pop()
            for pointers, targets in ((p1, t1), (p2, t2)):
                for j in range(pointers[v], pointers[v + 1]):
                    w = targets[j]
                    if labels[w] == -1:
                        labels[w] = label
                        stack.append(w)
        label += 1
    return label, labels


@overload
def breadth_first_order(
    csgraph: csr_matrix | csc_matrix,
    i_start: int,
    directed: bool = ...,
    return_predecessors: Literal[True] = ...,
) -> tuple[Array, Array]: ...
@overload
def breadth_first_order(
    csgraph: csr_matrix | csc_matrix,
    i_start: int,
    directed: bool = ...,
    *,
    return_predecessors: Literal[False],
) -> Array: ...
@overload
def breadth_first_order(
    csgraph: csr_matrix | csc_matrix,
    i_start: int,
    directed: bool,
    return_predecessors: Literal[False],
) -> Array: ...
def breadth_first_order(
    csgraph: csr_matrix | csc_matrix,
    i_start: int,
    directed: bool = True,
    return_predecessors: bool = True,
) -> tuple[Array, Array] | Array:
    """Nodes in scipy's breadth-first order from ``i_start`` (int32), and with
    ``return_predecessors`` each node's predecessor (-9999 for the start and the
    nodes not reached). Neighbours are taken in storage order (undirected: the
    row's entries, then the column's)."""
    g = _graph(csgraph)
    n = g.shape[0]
    start = int(i_start)
    if not 0 <= start < n:
        raise ValueError(f"i_start {start} out of range 0..{n - 1}")
    lists = [(g.indptr.tolist(), g.indices.tolist())]
    if not directed:
        t = g.T.tocsr()
        lists.append((t.indptr.tolist(), t.indices.tolist()))
    pred = [NULL_IDX] * n
    order = [start]
    at = 0
    pred[start] = start  # seen (scipy skips the start by name; reset below)
    while at < len(order):
        v = order[at]
        for pointers, targets in lists:
            for w in targets[pointers[v] : pointers[v + 1]]:
                if pred[w] == NULL_IDX:
                    order.append(w)
                    pred[w] = v
        at += 1
    pred[start] = NULL_IDX
    nodes = np.asarray(order, dtype=INDEX)
    if return_predecessors:
        return nodes, np.asarray(pred, dtype=INDEX)
    return nodes


def dijkstra(
    csgraph: csr_matrix | csc_matrix,
    directed: bool = True,
    indices: ArrayLike | None = None,
    return_predecessors: Literal[False] = False,
    unweighted: bool = False,
    limit: float = math.inf,
    min_only: bool = False,
) -> Array:
    """Shortest distances (float64, inf where not reached) from ``indices``.

    Shapes as scipy's: (n,) for one index or with ``min_only`` (the distance from
    the nearest of ``indices``), (k, n) for k indices, (n, n) for None. Stored
    zeros are edges of weight 0 and repeated entries each an edge. Each distance
    is the least d(u) + w(u, v) in floating point over v's predecessors, which is
    what any order of equal-distance pops gives, so ties cannot make it differ
    from scipy's Fibonacci heap. Negative weights are refused, and so are
    predecessors (journeymap never asks for them)."""
    if return_predecessors:
        raise NotImplementedError("lite.dijkstra gives distances only")
    g = _graph(csgraph)
    n = g.shape[0]
    if indices is None:
        starts = np.arange(n)
        shape: tuple[int, ...] = (n, n)
    else:
        raw = np.asarray(indices)
        starts = np.atleast_1d(raw).reshape(-1).astype(np.int64)
        shape = (*raw.shape, n)
        if len(starts) and (starts.min() < 0 or starts.max() >= n):
            raise ValueError("indices out of range 0...N")
    weights = np.ones(g.nnz) if unweighted else g.data
    if len(weights) and float(weights.min()) < 0:
        raise ValueError("lite.dijkstra: negative weights")
    lists = [(g.indptr.tolist(), g.indices.tolist(), weights.tolist())]
    if not directed:
        t = g.T.tocsr()
        tw = np.ones(t.nnz) if unweighted else t.data
        lists.append((t.indptr.tolist(), t.indices.tolist(), tw.tolist()))
    search = _hops if unweighted else _dijkstra
    if min_only:
        return np.asarray(search(n, starts.tolist(), lists, limit), dtype=np.float64)
    out = np.empty((len(starts), n))
    for k, s in enumerate(starts.tolist()):
        out[k] = search(n, [s], lists, limit)
    return out.reshape(shape)


def _hops(
    n: int,
    starts: list[int],
    lists: list[tuple[list[int], list[int], list[float]]],
    limit: float,
) -> list[float]:
    """Unweighted distances by breadth-first levels: the same numbers as Dijkstra
    with weights of 1 (sums of ones are exact), without a heap."""
    dist = [math.inf] * n
    frontier = list(dict.fromkeys(starts))
    for s in frontier:
        dist[s] = 0.0
    level = 0.0
    while frontier and level + 1.0 <= limit:
        level += 1.0
        reached = []
        for v in frontier:
            for pointers, targets, _ in lists:
                for w in targets[pointers[v] : pointers[v + 1]]:
                    if dist[w] == math.inf:
                        dist[w] = level
                        reached.append(w)
        frontier = reached
    return dist


def _dijkstra(
    n: int,
    starts: list[int],
    lists: list[tuple[list[int], list[int], list[float]]],
    limit: float,
) -> list[float]:
    """Distances from the nearest of ``starts``; beyond ``limit`` counts as not reached."""
    dist = [math.inf] * n
    done = [False] * n
    heap: list[tuple[float, int]] = []
    for s in starts:
        dist[s] = 0.0
        heap.append((0.0, s))
    heapq.heapify(heap)
    while heap:
        d, v = heapq.heappop(heap)
        if done[v]:
            continue
        done[v] = True
        for pointers, targets, weights in lists:
            for j in range(pointers[v], pointers[v + 1]):
                w = targets[j]
                if not done[w]:
                    nd = d + weights[j]
                    if nd < dist[w] and nd <= limit:
                        dist[w] = nd
                        heapq.heappush(heap, (nd, w))
    return dist


# --- linalg ---------------------------------------------------------------------------


def solve_triangular(
    a: ArrayLike,
    b: ArrayLike,
    trans: int | str = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> NDArray[np.float64]:
    """x with a x = b (``trans`` 0/"N") or a^T x = b (1/"T", or 2/"C" for real a),
    ``a`` triangular; ``b`` (m,) or (m, k).

    Substitution row by row, each x_i from one dot product with the x already
    known (a loop of m numpy calls: 0.5 ms for m = 400, where journeymap's GTH
    elimination before it takes tens of ms). With journeymap's GTH factors
    (positive pivots, off-diagonals <= 0, b >= 0) each x_i is b_i plus a sum of
    non-negative terms over the pivot: no cancellation. Agrees with scipy to a
    few units in the last place, not bit for bit (LAPACK through OpenBLAS sums in
    another order). ``check_finite`` and ``overwrite_b`` are accepted and
    ignored (b is never written)."""
    del overwrite_b, check_finite
    mat = np.asarray(a, dtype=np.float64)
    x = np.array(b, dtype=np.float64)  # a copy: solved in place
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise ValueError("expected a square matrix")
    if x.ndim not in (1, 2) or x.shape[0] != mat.shape[0]:
        raise ValueError(f"shapes of a {mat.shape} and b {x.shape} are incompatible")
    code = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1, "n": 0, "t": 1, "c": 1}.get(trans)
    if code is None:
        raise ValueError(f"trans must be 0, 1, 2, 'N', 'T' or 'C', not {trans!r}")
    if code == 1:  # the transpose's rows, contiguous for the dot products
        mat = np.ascontiguousarray(mat.T)
        lower = not lower
    m = mat.shape[0]
    # Silent, as LAPACK is: an overflow gives inf or NaN, which the caller checks
    # (graph._solve_component), never a RuntimeWarning printed to the user.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i in range(m) if lower else range(m - 1, -1, -1):
            known = slice(0, i) if lower else slice(i + 1, m)
            value = x[i] - mat[i, known] @ x[known]
            x[i] = value if unit_diagonal else value / mat[i, i]
    return x


# --- helpers --------------------------------------------------------------------------


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _is_shape(t: tuple[Any, ...]) -> bool:
    return len(t) == 2 and all(_is_int(x) for x in t)


def _shape_of(shape: Any) -> tuple[int, int]:
    m, n = (operator.index(x) for x in shape)
    if m < 0 or n < 0:
        raise ValueError("negative dimensions are not allowed")
    return (m, n)


def _wrap(i: int, size: int) -> int:
    j = i + size if i < 0 else i
    if not 0 <= j < size:
        raise IndexError(f"index ({i}) out of range")
    return j


def _index_array(key: Any, size: int) -> Array:
    """An integer index array, negative entries counted from the end, as numpy does."""
    idx = np.asarray(key)
    if idx.dtype == np.bool_ or not (idx.ndim == 1 and np.issubdtype(idx.dtype, np.integer)):
        if idx.ndim == 1 and idx.size == 0:
            return np.zeros(0, dtype=np.int64)
        raise IndexError("lite.csr_matrix takes 1-D integer arrays as indices")
    idx = idx.astype(np.int64)
    if len(idx) and (idx.min() < -size or idx.max() >= size):
        raise IndexError("index out of range")
    return np.where(idx < 0, idx + size, idx)


def _expand(indptr: Array) -> Array:
    """Each entry's row (scipy's ``expandptr``), int32."""
    m = len(indptr) - 1
    return np.repeat(np.arange(m, dtype=INDEX), np.diff(indptr))


def _pointers(rows: Array, m: int) -> Array:
    """indptr for entries whose rows are ``rows`` (already grouped by row)."""
    indptr = np.zeros(m + 1, dtype=INDEX)
    np.cumsum(np.bincount(rows, minlength=m), out=indptr[1:])
    return indptr


def _positions(begin: Array, lens: Array) -> Array:
    """The positions begin[i] .. begin[i] + lens[i] - 1 for every i, concatenated."""
    total = int(lens.sum())
    offsets = np.repeat(begin.astype(np.int64) - (np.cumsum(lens) - lens), lens)
    return offsets + np.arange(total)


def _keys(indptr: Array, indices: Array, n_cols: int) -> Array:
    """Each entry's row * n_cols + column (int64): strictly increasing exactly when
    the matrix is canonical, never decreasing when its rows are sorted."""
    return _expand(indptr).astype(np.int64) * max(n_cols, 1) + indices


def _coo_to_csr(m: int, row: Array, col: Array, data: Array) -> tuple[Array, Array, Array]:
    """scipy's ``coo_tocsr``: entries bucketed by row, in their order within each row."""
    order = np.argsort(row, kind="stable")
    return (
        _pointers(row[order], m),
        np.asarray(col[order], dtype=INDEX),
        data[order],
    )


def _compress_transposed(
    m: int, n: int, indptr: Array, indices: Array, data: Array
) -> tuple[Array, Array, Array]:
    """scipy's ``csr_tocsc`` on an m-by-n CSR: (data, indices, indptr) by column,
    each column's entries in row order (duplicates kept, in storage order)."""
    nnz = int(indptr[-1])
    cols = indices[:nnz]
    order = np.argsort(cols, kind="stable")
    rows = _expand(indptr)
    return data[order].copy(), rows[order].astype(INDEX), _pointers(cols[order], n)


def _run_sums(values: Array, starts: Array, lengths: Array, *, from_zero: bool) -> Array:
    """Each run values[s : s + l] added left to right, as a C loop does (never pairwise).

    ``from_zero``: start from 0 (so -0.0 becomes 0.0), else from the run's first."""
    if from_zero:
        out = np.zeros(len(starts), dtype=values.dtype)
        k = 0
    else:
        out = values[starts].copy()
        k = 1
    live = np.flatnonzero(lengths > k)
    while len(live):
        out[live] += values[starts[live] + k]
        k += 1
        live = live[lengths[live] > k]
    return out


def _sort_rows(
    indptr: Array, indices: Array, data: Array, keys: Array
) -> tuple[Array, Array, Array]:
    """scipy's ``csr_sort_indices``: every row through libstdc++'s std::sort.

    That sort is not stable, but on 16 entries or fewer it is an insertion sort
    (stable), and where a row's columns are all distinct any sort gives the same;
    only the longer rows with a repeated column go through the replica."""
    order = np.argsort(keys, kind="stable")
    new_indices, new_data, new_keys = indices[order], data[order], keys[order]
    lens = np.diff(indptr)
    if (lens > _S_THRESHOLD).any():
        repeat = new_keys[1:] == new_keys[:-1]
        if repeat.any():
            tangled = np.unique(_expand(indptr)[1:][repeat])
            for r in tangled[lens[tangled] > _S_THRESHOLD].tolist():
                lo, hi = int(indptr[r]), int(indptr[r + 1])
                perm = np.asarray(_std_sort(indices[lo:hi].tolist()), dtype=np.int64) + lo
                new_indices[lo:hi] = indices[perm]
                new_data[lo:hi] = data[perm]
    return new_indices, new_data, new_keys


def _std_sort(keys: Sequence[Any]) -> list[int]:
    """The permutation libstdc++'s ``std::sort`` makes of ``keys`` (compared with <).

    A replica of its introsort (median of three, unguarded partition, heapsort
    past 2 log2 n levels, then insertion sort), so equal keys end in its order."""
    a = list(range(len(keys)))
    n = len(a)
    if n > 1:
        _introsort_loop(a, keys, 0, n, 2 * (n.bit_length() - 1))
        _final_insertion_sort(a, keys, 0, n)
    return a


def _introsort_loop(a: list[int], k: Sequence[Any], first: int, last: int, depth: int) -> None:
    while last - first > _S_THRESHOLD:
        if depth == 0:
            _heap_sort(a, k, first, last)
            return
        depth -= 1
        mid = first + (last - first) // 2
        _move_median_to_first(a, k, first, first + 1, mid, last - 1)
        cut = _unguarded_partition(a, k, first + 1, last, first)
        _introsort_loop(a, k, cut, last, depth)
        last = cut


def _move_median_to_first(
    a: list[int], k: Sequence[Any], result: int, x: int, y: int, z: int
) -> None:
    if k[a[x]] < k[a[y]]:
        if k[a[y]] < k[a[z]]:
            m = y
        elif k[a[x]] < k[a[z]]:
            m = z
        else:
            m = x
    elif k[a[x]] < k[a[z]]:
        m = x
    elif k[a[y]] < k[a[z]]:
        m = z
    else:
        m = y
    a[result], a[m] = a[m], a[result]


def _unguarded_partition(a: list[int], k: Sequence[Any], first: int, last: int, pivot: int) -> int:
    p = k[a[pivot]]
    while True:
        while k[a[first]] < p:
            first += 1
        last -= 1
        while p < k[a[last]]:
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _final_insertion_sort(a: list[int], k: Sequence[Any], first: int, last: int) -> None:
    if last - first > _S_THRESHOLD:
        _insertion_sort(a, k, first, first + _S_THRESHOLD)
        for i in range(first + _S_THRESHOLD, last):
            _unguarded_linear_insert(a, k, i)
    else:
        _insertion_sort(a, k, first, last)


def _insertion_sort(a: list[int], k: Sequence[Any], first: int, last: int) -> None:
    for i in range(first + 1, last):
        v = a[i]
        if k[v] < k[a[first]]:
            a[first + 1 : i + 1] = a[first:i]
            a[first] = v
        else:
            _unguarded_linear_insert(a, k, i)


def _unguarded_linear_insert(a: list[int], k: Sequence[Any], last: int) -> None:
    v = a[last]
    key = k[v]
    before = last - 1
    while key < k[a[before]]:
        a[last] = a[before]
        last = before
        before -= 1
    a[last] = v


def _heap_sort(a: list[int], k: Sequence[Any], first: int, last: int) -> None:
    """std::__partial_sort(first, last, last): make_heap, then sort_heap."""
    n = last - first
    if n >= 2:
        parent = (n - 2) // 2
        while True:
            _adjust_heap(a, k, first, parent, n, a[first + parent])
            if parent == 0:
                break
            parent -= 1
    end = n
    while end > 1:
        end -= 1
        v = a[first + end]
        a[first + end] = a[first]
        _adjust_heap(a, k, first, 0, end, v)


def _adjust_heap(
    a: list[int], k: Sequence[Any], first: int, hole: int, length: int, v: int
) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if k[a[first + child]] < k[a[first + child - 1]]:
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    key = k[v]
    parent = (hole - 1) // 2
    while hole > top and k[a[first + parent]] < key:
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = v


def _binop_general(
    a_rows: Array,
    a_cols: Array,
    a_data: Array,
    b_rows: Array,
    b_cols: Array,
    b_data: Array,
    op: Any,
    dtype: np.dtype[Any],
) -> tuple[Array, Array, Array]:
    """scipy's ``csr_binop_csr_general``, for rows unsorted or with duplicates.

    Per row, each side's entries of a column are added onto 0 in storage order;
    the row's columns come out in the reverse order of their first appearance
    (A's entries first, then B's): scipy keeps them in a linked list, newest first."""
    rows = np.concatenate([a_rows, b_rows]).astype(np.int64)
    cols = np.concatenate([a_cols, b_cols]).astype(np.int64)
    side = np.repeat(np.array([0, 1], dtype=np.int64), [len(a_rows), len(b_rows)])
    values = np.concatenate([a_data, b_data])
    if len(rows) == 0:
        return np.zeros(0, dtype=dtype), rows, cols
    # A's entries of a row come before B's: order by (row, side, storage position)
    seq = np.lexsort((np.arange(len(rows)), side, rows))
    rows, cols, side, values = rows[seq], cols[seq], side[seq], values[seq]
    # the (row, column) cells, and each side's run of entries in each cell
    cell_order = np.lexsort((np.arange(len(rows)), side, cols, rows))
    r, c, s = rows[cell_order], cols[cell_order], side[cell_order]
    new_cell = np.ones(len(r), dtype=bool)
    new_cell[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    cell_start = np.flatnonzero(new_cell)
    cell_of = np.cumsum(new_cell) - 1
    new_run = new_cell.copy()
    new_run[1:] |= s[1:] != s[:-1]
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, len(r)))
    sums = _run_sums(values[cell_order], run_start, run_len, from_zero=True)
    cells = len(cell_start)
    a_sum = np.zeros(cells, dtype=dtype)
    b_sum = np.zeros(cells, dtype=dtype)
    run_cell, run_side = cell_of[run_start], s[run_start]
    a_sum[run_cell[run_side == 0]] = sums[run_side == 0]
    b_sum[run_cell[run_side == 1]] = sums[run_side == 1]
    result = np.asarray(op(a_sum, b_sum), dtype=dtype)
    # first appearance of each cell in the row's sequence (A's entries, then B's)
    first_seen = np.minimum.reduceat(cell_order, cell_start)
    out_rows, out_cols = r[cell_start], c[cell_start]
    out = np.lexsort((-first_seen, out_rows))
    return result[out], out_rows[out], out_cols[out]


def _graph(csgraph: csr_matrix | csc_matrix) -> csr_matrix:
    """What scipy's ``validate_graph`` makes of a sparse graph: CSR float64, where the
    conversion to float64 (not a float64 graph) sums duplicates and sorts its rows."""
    if not isinstance(csgraph, csr_matrix | csc_matrix):
        raise TypeError("lite's graph functions take a lite.csr_matrix")
    g = csgraph.tocsr()
    if g.shape[0] != g.shape[1]:
        raise ValueError("compressed-sparse graph must be shape (N, N)")
    return g if g.dtype == np.float64 else g.astype(np.float64)
