"""Compact storage of explored states.

`System` speaks flat tuples (see semantics.py); stored, a tuple of ~40
Python ints costs ~400 bytes.  Here each state is packed with one
`struct` format into a short `bytes` record (one byte per fence, one or two
per pc...), the nested tuples (hook stacks, engine holders) interned as a
whole into one number each.  The same `bytes` object is the key of the
visited table and the entry of the id -> state list, so no state is stored
twice; `States[i]` unpacks on demand and gives the tuple back.

A layout whose values do not fit a fixed width (more than 62 actors, more
than 64 fences in one resv mask, huge var ranges) is stored as plain tuples.
"""
from __future__ import annotations

import struct
from array import array
from operator import itemgetter

from ..semantics import System


def _int_code(lo: int, hi: int) -> str:
    for code in "bBhHiIq":
        size = struct.calcsize(code)
        signed = code.islower()
        least, most = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed \
            else (0, (1 << (8 * size)) - 1)
        if least <= lo and hi <= most:
            return code
    raise OverflowError


def _getter(indices):
    """s -> tuple(s[i] for i in indices), at C speed."""
    if len(indices) == 1:
        i = indices[0]
        return lambda s: (s[i],)
    return itemgetter(*indices) if indices else (lambda s: ())


class Codec:
    """tuple state <-> packed record, for one `System`."""

    def __init__(self, sys: System):
        L, m = sys.L, sys.m
        self.A = L.A
        self.nested = tuple(range(L.STK, L.STK + L.A)) + tuple(range(L.EN, L.EN + len(m.engines))) \
            + tuple(range(L.WQ, L.WQ + len(m.workqueues))) \
            + (L.XL, L.WW) + tuple(range(L.HO, L.HO + L.A)) \
            + tuple(range(L.FB, L.FB + (L.A if m.uses_flush else 0)))
        # hook stacks, slot holders, queues, lock extras, ww ages, held orders, flush barriers
        self.interned: dict = {}        # tuple of the nested fields -> number
        self.objects: list = []         # number -> tuple of the nested fields
        self.last = (None, -1)          # the nested fields packed last, and their number
        try:
            pc = _int_code(0, len(sys.code))             # stored as pc + 1: DONE is 0
            lock = _int_code(-L.A, (1 << L.A) - 1)
            mask = _int_code(0, (1 << len(m.fences)) - 1)
            var = "".join(_int_code(v.lo, v.hi) for v in m.vars)
            self.packer = struct.Struct("<" + pc * L.A + lock * len(m.locks) + "B" * len(m.fences)
                                        + mask * len(m.resvs) + var + "B" + mask * L.US_N
                                        + _int_code(-1, L.A - 1) * len(L.irqs)       # irq_on
                                        + _int_code(0, (1 << len(m.locks)) - 1)      # irq_off
                                        * (L.A if L.irqs else 0) + "I")
        except OverflowError:
            self.packer = None
        # the record: pcs, the other flat fields, then the nested fields' one number
        rest = [i for i in range(L.A, L.size) if i not in set(self.nested)]
        self.flat = list(range(L.A)) + rest      # the state index of each record field but the last
        self.get_rest, self.get_nested = _getter(rest), _getter(self.nested)
        where = {i: n for n, i in enumerate(list(range(L.A)) + rest + [None] + list(self.nested))}
        self.reorder = _getter([where[i] for i in range(L.size)])

    def pack(self, s: tuple):
        if self.packer is None:
            return s
        nested = self.get_nested(s)
        if nested == self.last[0]:            # most steps leave stacks and slots alone
            n = self.last[1]
        else:
            n = self.interned.get(nested)
            if n is None:
                n = self.interned[nested] = len(self.objects)
                self.objects.append(nested)
            self.last = (nested, n)
        return self.packer.pack(*[pc + 1 for pc in s[:self.A]], *self.get_rest(s), n)

    def unpack(self, rec) -> tuple:
        if self.packer is None:
            return rec
        return self.unpacked(self.packer.unpack(rec))

    def unpacked(self, vals: tuple) -> tuple:
        """The state from a record's fields."""
        A = self.A
        return self.reorder(tuple([pc - 1 for pc in vals[:A]]) + vals[A:] + self.objects[vals[-1]])


class States:
    """The visited table and id -> state in one.  Packed records lie end to
    end in one bytearray (id i at i * width); an open-addressing table of ids,
    probed by each record's hash (kept, 4 bytes), finds a record's id.  About
    width + 12 bytes per state, no Python object per state.  Reads give tuples."""

    def __init__(self, codec: Codec):
        self.codec = codec
        self.packed = codec.packer is not None
        self.ids: dict = {}                   # unpacked layouts: state -> id
        self.tuples: list = []
        self.width = codec.packer.size if self.packed else 0
        self.data = bytearray()
        self.hashes = array("I")
        self.slots = array("i", [-1]) * 1024
        self.mask = 1023
        self.pending = (None, 0, 0)           # (record, hash, free slot) of the last miss

    def __len__(self) -> int:
        return len(self.hashes) if self.packed else len(self.tuples)

    def find(self, rec):
        """The id of a packed state, or None."""
        if not self.packed:
            return self.ids.get(rec)
        h = hash(rec) & 0xFFFFFFFF
        slots, hashes, data, w, mask = self.slots, self.hashes, self.data, self.width, self.mask
        k = h & mask
        while True:
            j = slots[k]
            if j < 0:
                self.pending = (rec, h, k)
                return None
            if hashes[j] == h and data[j * w:j * w + w] == rec:
                return j
            k = (k + 1) & mask

    def add(self, rec) -> int:
        """Store a packed state not stored yet; its id."""
        if not self.packed:
            j = self.ids[rec] = len(self.tuples)
            self.tuples.append(rec)
            return j
        if self.pending[0] is not rec:
            assert self.find(rec) is None
        _rec, h, k = self.pending
        self.pending = (None, 0, 0)
        j = len(self.hashes)
        self.data += rec
        self.hashes.append(h)
        self.slots[k] = j
        if 2 * (j + 1) > self.mask:
            self._rehash(2 * self.mask + 1)
        return j

    def _rehash(self, mask: int) -> None:
        slots = array("i", [-1]) * (mask + 1)
        for j, h in enumerate(self.hashes):
            k = h & mask
            while slots[k] >= 0:
                k = (k + 1) & mask
            slots[k] = j
        self.slots, self.mask = slots, mask

    def record(self, i: int):
        w = self.width
        return bytes(self.data[i * w:i * w + w]) if self.packed else self.tuples[i]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.codec.unpack(self.record(i))

    def __iter__(self):
        if not self.packed:
            return iter(self.tuples)
        return map(self.codec.unpacked, self.codec.packer.iter_unpack(self.data))

    def __delitem__(self, sl: slice) -> None:
        """Forget the states from sl.start on (a search cut short)."""
        n = sl.start
        if not self.packed:
            for s in self.tuples[n:]:
                del self.ids[s]
            del self.tuples[n:]
            return
        del self.data[n * self.width:]
        del self.hashes[n:]
        self._rehash(self.mask)
