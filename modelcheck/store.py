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
from operator import itemgetter

from .semantics import System


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
    """tuple state <-> bytes record, for one `System`."""

    def __init__(self, sys: System):
        L, m = sys.L, sys.m
        self.nested = tuple(range(L.STK, L.STK + L.A)) + tuple(range(L.EN, L.EN + len(m.engines)))
        self.interned: dict = {}        # tuple of the nested fields -> number
        self.objects: list = []         # number -> tuple of the nested fields
        self.last = (None, -1)          # the nested fields packed last, and their number
        try:
            pc = _int_code(-1, len(sys.code))
            lock = _int_code(-L.A, (1 << L.A) - 1)
            mask = _int_code(0, (1 << len(m.fences)) - 1)
            var = "".join(_int_code(v.lo, v.hi) for v in m.vars)
            self.packer = struct.Struct("<" + pc * L.A + lock * len(m.locks) + "B" * len(m.fences)
                                        + mask * len(m.resvs) + var + "BI")
        except OverflowError:
            self.packer = None
        # the record drops the nested fields and puts their one number at the end
        flat = [i for i in range(L.size) if i not in set(self.nested)]
        self.get_flat, self.get_nested = _getter(flat), _getter(self.nested)
        # unpacking: (record fields without the number) + nested fields -> state order
        where = {i: n for n, i in enumerate(flat + [None] + list(self.nested))}
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
        return self.packer.pack(*self.get_flat(s), n)

    def unpack(self, rec) -> tuple:
        if self.packer is None:
            return rec
        flat = self.packer.unpack(rec)
        return self.reorder(flat + self.objects[flat[-1]])


class States:
    """id -> state, stored packed; reads give tuples."""

    def __init__(self, codec: Codec):
        self.codec = codec
        self.records: list = []

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> tuple:
        return self.codec.unpack(self.records[i])

    def __iter__(self):
        unpack = self.codec.unpack
        return (unpack(r) for r in self.records)

    def __delitem__(self, sl) -> None:
        del self.records[sl]

    def append(self, record) -> None:
        self.records.append(record)
