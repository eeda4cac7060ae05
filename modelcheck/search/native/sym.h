/* Symmetry canonicalisation for the native core (sym.c): what
 * search/symmetry.py's Symmetry.canon does to a successor, from the tables
 * native/symtab.py flattens. */
#ifndef MODELCHECK_SYM_H
#define MODELCHECK_SYM_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef struct Sym Sym;

/* tab: symtab.py's table; off, cap: the machine's component -> offset in a
 * slot vector, and capacity of a nested one; w: the slot vector's width */
Sym *sym_new(const int32_t *tab, Py_ssize_t ntab, const int32_t *off, const int32_t *cap, int w);

/* The representative of t's permutation class in *out (t itself when the
 * copies are in order already) and the id of the actor renaming applied,
 * numbered in first-use order as Symmetry._perm_id does; -1: out of memory,
 * -2: a nested component beyond its slots */
int sym_canon(Sym *y, const int32_t *t, const int32_t **out);

/* sym_canon without numbering the renaming, for a thread of the parallel
 * search: 1 when t was renamed (the actor map in sym_map(y), A ints), 0
 * when not (*out = t); -1 out of memory, -2 as sym_canon */
int sym_canon_map(Sym *y, const int32_t *t, const int32_t **out);
const int *sym_map(const Sym *y);

/* the id of an actor map, numbered in first-use order as sym_canon numbers
 * them; -1 out of memory */
int sym_perm(Sym *y, const int32_t *amap);

/* A copy of y with its own scratch and the same tables, for another thread:
 * sym_canon_map only; freed by sym_free before y */
Sym *sym_clone(const Sym *y);

/* the renaming id of the next edge */
int sym_edge(Sym *y, int perm);

/* "perms" (actor maps, A ints each, by id) and "edge_perm" into res */
int sym_result(Sym *y, PyObject *res);

void sym_free(Sym *y);

#endif
