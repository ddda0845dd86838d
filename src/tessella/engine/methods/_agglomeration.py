"""Graph contraction kernels (numba): greedy additive edge contraction and small-region merging.

Both kernels contract edges of an undirected graph whose edges ("slots") carry a value and a
weight. Each node keeps a linked list of its incident slots and one open-addressing hash table
maps a node pair to the slot joining them, so contracting ``b`` into ``a`` walks only ``b``'s
list: an edge ``b-w`` is either redirected to ``a-w`` or, when ``a-w`` exists, added to it
(parallel edges are summed). The shorter list is always the one walked and spliced, so every
list entry moves O(log n) times. A heap with lazy deletion picks the next edge (or node); stale
entries are recognised by a changed value and skipped. numba's typed ``Dict`` per node did the
same job two to three times slower.
"""

from __future__ import annotations

import heapq

import numba
import numpy as np

__all__ = ["greedy_additive", "merge_small_nodes"]

_EMPTY = -1
_TOMBSTONE = -2
_FIBONACCI = np.uint64(11400714819323198485)  # 2**64 / golden ratio: multiplicative hashing


@numba.njit(cache=True, nogil=True, inline="always")
def _home(key, bits):
    return np.int64((np.uint64(key) * _FIBONACCI) >> np.uint64(64 - bits))


@numba.njit(cache=True, nogil=True)
def _lookup(table, bits, key):
    """Row of ``table`` (columns: key, slot) holding ``key``, or -1."""
    mask = table.shape[0] - 1
    i = _home(key, bits)
    while table[i, 0] != _EMPTY:
        if table[i, 0] == key:
            return i
        i = (i + 1) & mask
    return -1


@numba.njit(cache=True, nogil=True)
def _insert(table, bits, key, slot):
    """Store ``key`` (known to be absent); return 1 if it used a never-used row, else 0."""
    mask = table.shape[0] - 1
    i = _home(key, bits)
    while table[i, 0] >= 0:
        i = (i + 1) & mask
    fresh = 1 if table[i, 0] == _EMPTY else 0
    table[i, 0] = key
    table[i, 1] = slot
    return fresh


@numba.njit(cache=True, nogil=True)
def _rehash(table, bits):
    """Rebuild the table in place without tombstones; return the rows now in use."""
    live = table[table[:, 0] >= 0].copy()
    table[:, 0] = _EMPTY
    for k in range(live.shape[0]):
        _insert(table, bits, live[k, 0], live[k, 1])
    return live.shape[0]


@numba.njit(cache=True, nogil=True)
def _build(n_nodes, u, v):
    n_edges = u.size
    bits = 2
    while (1 << bits) < 2 * n_edges:  # load at most 1/2 at the start
        bits += 1
    table = np.full((1 << bits, 2), _EMPTY, np.int64)
    head = np.full(n_nodes, -1, np.int64)
    tail = np.full(n_nodes, -1, np.int64)
    length = np.zeros(n_nodes, np.int64)
    following = np.full(2 * n_edges, -1, np.int64)
    entry_slot = np.empty(2 * n_edges, np.int64)
    used = 0
    for s in range(n_edges):
        key = u[s] * n_nodes + v[s]
        if _lookup(table, bits, key) >= 0:
            raise ValueError("parallel edges are not allowed; sum their costs first")
        used += _insert(table, bits, key, s)
        for side in range(2):
            node = u[s] if side == 0 else v[s]
            e = 2 * s + side
            entry_slot[e] = s
            if head[node] < 0:
                head[node] = e
            else:
                following[tail[node]] = e
            tail[node] = e
            length[node] += 1
    return table, bits, used, head, tail, length, following, entry_slot


@numba.njit(cache=True, nogil=True)
def _contract(graph, value, weight, alive, end_u, end_v, parent, a, b, changed):
    """Merge nodes ``a`` and ``b`` (joined by an edge); return the survivor, the number of
    slots written to ``changed`` (edges whose values grew by summing a parallel edge) and the
    updated count of used hash cells."""
    table, bits, used, head, tail, length, following, entry_slot = graph
    n_nodes = head.size
    if length[a] < length[b]:
        a, b = b, a
    i = _lookup(table, bits, min(a, b) * n_nodes + max(a, b))
    alive[table[i, 1]] = False
    table[i, 0] = _TOMBSTONE
    n_changed = 0
    e = head[b]
    while e >= 0:
        s = entry_slot[e]
        if alive[s]:
            w = end_v[s] if end_u[s] == b else end_u[s]
            table[_lookup(table, bits, min(b, w) * n_nodes + max(b, w)), 0] = _TOMBSTONE
            j = _lookup(table, bits, min(a, w) * n_nodes + max(a, w))
            if j >= 0:
                t = table[j, 1]
                value[t] += value[s]
                weight[t] += weight[s]
                alive[s] = False
                changed[n_changed] = t
                n_changed += 1
            else:
                used += _insert(table, bits, min(a, w) * n_nodes + max(a, w), s)
                end_u[s] = a
                end_v[s] = w
        e = following[e]
    if head[b] >= 0:  # splice b's list onto a's; its dead entries are skipped when walked
        if head[a] < 0:
            head[a] = head[b]
        else:
            following[tail[a]] = head[b]
        tail[a] = tail[b]
        length[a] += length[b]
    head[b] = tail[b] = -1
    length[b] = 0
    parent[b] = a
    if 4 * used > 3 * table.shape[0]:  # tombstones make probes long: sweep them out
        used = _rehash(table, bits)
    return a, n_changed, used


@numba.njit(cache=True, nogil=True)
def _roots(parent):
    labels = np.empty(parent.size, np.int64)
    for i in range(parent.size):
        r = i
        while parent[r] != r:
            r = parent[r]
        j = i
        while parent[j] != r:  # path compression
            nxt = parent[j]
            parent[j] = r
            j = nxt
        labels[i] = r
    return labels


@numba.njit(cache=True, nogil=True)
def _gaec_kernel(n_nodes, u, v, costs):
    table, bits, used, head, tail, length, following, entry_slot = _build(n_nodes, u, v)
    value = costs.copy()
    weight = np.zeros(costs.size)
    alive = np.ones(costs.size, np.bool_)
    end_u = u.copy()
    end_v = v.copy()
    parent = np.arange(n_nodes)
    changed = np.empty(costs.size, np.int64)
    heap = [(-value[s], s) for s in range(costs.size) if value[s] > 0]
    heapq.heapify(heap)
    while len(heap) > 0:
        negative, s = heapq.heappop(heap)
        if not alive[s] or value[s] != -negative:
            continue  # contracted away, or its cost changed and a newer entry exists
        graph = (table, bits, used, head, tail, length, following, entry_slot)
        _, n_changed, used = _contract(
            graph, value, weight, alive, end_u, end_v, parent, end_u[s], end_v[s], changed
        )
        for k in range(n_changed):
            t = changed[k]
            if value[t] > 0:
                heapq.heappush(heap, (-value[t], t))
    return _roots(parent)


@numba.njit(cache=True, nogil=True)
def _merge_small_kernel(n_nodes, u, v, p_sum, contact, node_size, min_size):
    table, bits, used, head, tail, length, following, entry_slot = _build(n_nodes, u, v)
    value = p_sum.copy()
    weight = contact.copy()
    alive = np.ones(u.size, np.bool_)
    end_u = u.copy()
    end_v = v.copy()
    parent = np.arange(n_nodes)
    size = node_size.copy()
    changed = np.empty(u.size, np.int64)
    heap = [(size[i], i) for i in range(n_nodes) if size[i] < min_size]
    heapq.heapify(heap)
    while len(heap) > 0:
        popped, x = heapq.heappop(heap)
        if parent[x] != x or size[x] != popped:
            continue  # absorbed, or grown since this entry was pushed
        best = -1
        best_p = np.inf
        e = head[x]
        while e >= 0:
            s = entry_slot[e]
            if alive[s]:
                w = end_v[s] if end_u[s] == x else end_u[s]
                mean_p = value[s] / weight[s] if weight[s] > 0 else 1.0
                if mean_p < best_p or (mean_p == best_p and w < best):
                    best_p = mean_p
                    best = w
            e = following[e]
        if best < 0:
            continue  # isolated: nothing to merge into
        graph = (table, bits, used, head, tail, length, following, entry_slot)
        survivor, _, used = _contract(
            graph, value, weight, alive, end_u, end_v, parent, x, best, changed
        )
        size[survivor] = size[x] + size[best]
        if size[survivor] < min_size:
            heapq.heappush(heap, (size[survivor], survivor))
    return _roots(parent)


def _endpoints(n_nodes: int, edges) -> tuple[np.ndarray, np.ndarray]:
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    if edges.size and (edges.min() < 0 or edges.max() >= n_nodes):
        raise ValueError(f"edge endpoints must lie in [0, {n_nodes})")
    if np.any(edges[:, 0] == edges[:, 1]):
        raise ValueError("self-loops are not allowed")
    u, v = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    return np.ascontiguousarray(u), np.ascontiguousarray(v)


def greedy_additive(n_nodes: int, edges, costs) -> np.ndarray:
    """Greedy additive edge contraction (Keuper et al. 2015) of a weighted graph.

    Repeatedly contracts the edge of largest positive cost (positive = attractive), summing the
    costs of edges that become parallel, until no edge has a positive cost. Returns the root
    node of every node's cluster, ``(n_nodes,)`` int64.
    """
    u, v = _endpoints(n_nodes, edges)
    costs = np.ascontiguousarray(costs, np.float64)
    if costs.shape != u.shape:
        raise ValueError(f"{u.size} edges but {costs.size} costs")
    if not np.all(np.isfinite(costs)):
        raise ValueError("edge costs must be finite")
    return _gaec_kernel(int(n_nodes), u, v, costs)


def merge_small_nodes(n_nodes: int, edges, mean_p, contact, node_size, min_size: int) -> np.ndarray:
    """Merge every node smaller than ``min_size`` into the neighbour it shares the lowest mean
    boundary probability with, smallest node first, until none is left (isolated nodes stay).

    ``mean_p`` and ``contact`` are the edges' mean probability and contact size; merged edges
    get the contact-weighted mean. Returns the root node of every node's cluster.
    """
    u, v = _endpoints(n_nodes, edges)
    contact = np.ascontiguousarray(contact, np.float64)
    p_sum = np.asarray(mean_p, np.float64) * contact
    sizes = np.ascontiguousarray(node_size, np.int64)
    return _merge_small_kernel(int(n_nodes), u, v, p_sum, contact, sizes, int(min_size))
