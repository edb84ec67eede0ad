"""The compiled engine's data structures: the event queue (a binary heap ordered by time,
priority and insertion order, SimPy's order), the settles' heap of times, the vehicle queues
(heaps in the README's first-come-first-served order), the task stack, and a way to pass arrays
to compiled helpers without reference counting. Used by :mod:`.kernel`.

Each heap keeps its keys inline (a time and one packed integer) and moves a hole rather than
swapping, so ordering two entries reads two adjacent arrays and nothing else; tests/
test_engine_heaps.py checks every order against Python's sort."""

from __future__ import annotations

from typing import Any

from numba import njit
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["KEY_BITS", "KEY_MASK", "borrowed", "pop", "push", "q_pop", "q_push", "schedule"]


# An event's key in the queue: its priority above its insertion order (the event's id), so
# one integer comparison orders two events of the same time as SimPy does.
KEY_BITS = 40
KEY_MASK = (1 << KEY_BITS) - 1


@njit(cache=True)
def schedule(cnt: Any, ev_f: Any, ev_i: Any, h_t: Any, h_k: Any, now: float, delay: float,
             prio: int, kind: int, a: int, att: int, v: int, x: float, y: float) -> None:
    """SimPy's env.schedule(event, priority, delay): the event fires at now + delay.

    The queue holds each event's time and key inline (h_t, h_k), so ordering reads nothing
    else; what the event does is in ev_f / ev_i, at its id."""
    e = cnt[0]
    if e >= len(ev_i):
        raise RuntimeError("compiled engine: more events than planned for")
    cnt[0] += 1
    ev_f[e, 0] = x
    ev_f[e, 1] = y
    ev_i[e, 0] = kind
    ev_i[e, 1] = a
    ev_i[e, 2] = att
    ev_i[e, 3] = v
    t = now + delay
    key = (prio << KEY_BITS) | e
    k = cnt[1]
    cnt[1] += 1
    while k > 0:  # sift the hole up
        parent = (k - 1) >> 1
        pt, pk = h_t[parent], h_k[parent]
        if t < pt or (t == pt and key < pk):
            h_t[k] = pt
            h_k[k] = pk
            k = parent
        else:
            break
    h_t[k] = t
    h_k[k] = key


@njit(cache=True)
def pop(cnt: Any, h_t: Any, h_k: Any) -> tuple[float, int]:
    """The next event: its time and id."""
    top_t, top_e = h_t[0], h_k[0] & KEY_MASK
    cnt[1] -= 1
    size = cnt[1]
    t, key = h_t[size], h_k[size]
    k = 0
    while True:  # sift the hole down
        c = 2 * k + 1
        if c >= size:
            break
        ct, ck = h_t[c], h_k[c]
        if c + 1 < size:
            # The earlier child by selects, not a branch (which one it is cannot be predicted).
            dt, dk = h_t[c + 1], h_k[c + 1]
            right = (dt < ct) | ((dt == ct) & (dk < ck))
            c += right
            ct = dt if right else ct
            ck = dk if right else ck
        if ct < t or (ct == t and ck < key):
            h_t[k] = ct
            h_k[k] = ck
            k = c
        else:
            break
    h_t[k] = t
    h_k[k] = key
    return top_t, top_e


@njit(cache=True)
def q_push(q_t: Any, q_k: Any, qn: Any, v: int, at: float, key: int) -> None:
    """Queue a request for vehicle v in the README's order: (request time, tie key), the key
    being the requesting activity's rank by (planned, file order) above the request's id."""
    k = qn[v]
    if k >= q_t.shape[1]:
        raise RuntimeError("compiled engine: a vehicle queue longer than planned for")
    qn[v] += 1
    while k > 0:  # sift the hole up
        parent = (k - 1) >> 1
        pt, pk = q_t[v, parent], q_k[v, parent]
        if at < pt or (at == pt and key < pk):
            q_t[v, k] = pt
            q_k[v, k] = pk
            k = parent
        else:
            break
    q_t[v, k] = at
    q_k[v, k] = key


@njit(cache=True)
def q_pop(q_t: Any, q_k: Any, qn: Any, v: int) -> None:
    """Drop the head of vehicle v's queue."""
    qn[v] -= 1
    size = qn[v]
    t, key = q_t[v, size], q_k[v, size]
    k = 0
    while True:  # sift the hole down
        c = 2 * k + 1
        if c >= size:
            break
        ct, ck = q_t[v, c], q_k[v, c]
        if c + 1 < size:
            dt, dk = q_t[v, c + 1], q_k[v, c + 1]
            if dt < ct or (dt == ct and dk < ck):
                c += 1
                ct, ck = dt, dk
        if ct < t or (ct == t and ck < key):
            q_t[v, k] = ct
            q_k[v, k] = ck
            k = c
        else:
            break
    q_t[v, k] = t
    q_k[v, k] = key


@njit(cache=True)
def push(tk_f: Any, tk_i: Any, sp: int, kind: int, a: int, att: int, v: int, x: float,
         y: float) -> int:
    if sp >= len(tk_i):
        raise RuntimeError("compiled engine: more pending tasks than planned for")
    tk_i[sp, 0] = kind
    tk_i[sp, 1] = a
    tk_i[sp, 2] = att
    tk_i[sp, 3] = v
    tk_f[sp, 0] = x
    tk_f[sp, 1] = y
    return sp + 1


def _borrow(typingctx: Any, arrays: Any) -> Any:
    """The tuple of arrays with reference counting switched off (a null meminfo), so passing
    them to the helpers costs no atomic increments. Only used inside `run_trials`, while the
    caller holds the real arrays."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (value,) = args
        for k, ty in enumerate(signature.args[0]):
            array = context.make_array(ty)(context, builder, value=builder.extract_value(value, k))
            array.meminfo = cgutils.get_null_value(array.meminfo.type)  # type: ignore[no-untyped-call]
            array.parent = cgutils.get_null_value(array.parent.type)  # type: ignore[no-untyped-call]
            value = builder.insert_value(value, array._getvalue(), k)
        return value

    return arrays(arrays), codegen


borrowed: Any = intrinsic(_borrow)


@njit(cache=True)
def t_push(h: Any, cnt: Any, c: int, t: float) -> None:
    """Add time t to the min-heap of times h, whose size is cnt[c]."""
    k = cnt[c]
    if k >= len(h):
        raise RuntimeError("compiled engine: more settles than planned for")
    cnt[c] += 1
    while k > 0:
        parent = (k - 1) >> 1
        if t < h[parent]:
            h[k] = h[parent]
            k = parent
        else:
            break
    h[k] = t


@njit(cache=True)
def t_pop(h: Any, cnt: Any, c: int) -> float:
    """Take the earliest time from the min-heap of times h, whose size is cnt[c]."""
    top = h[0]
    cnt[c] -= 1
    size = cnt[c]
    t = h[size]
    k = 0
    while True:
        child = 2 * k + 1
        if child >= size:
            break
        ct = h[child]
        if child + 1 < size:
            dt = h[child + 1]
            right = dt < ct
            child += right
            ct = dt if right else ct
        if ct < t:
            h[k] = ct
            k = child
        else:
            break
    h[k] = t
    return float(top)
