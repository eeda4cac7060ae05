/* The whole-graph analyses of modelcheck/verdicts/analysis.py, in C, on the
 * explorer's CSR arrays and packed state records, read in place through the
 * buffer protocol (nothing is copied): the module `modelcheck.search._graph`,
 * glued in modelcheck/verdicts/native.py.  `analysis.Analysis` stays the
 * reference; tests/test_graph_native.py holds the three versions equal.
 *
 * Actor sets are uint64 masks (at most 64 actors).  The graph: `offsets`
 * (int32, expanded + 1 entries: the states whose successors are known are a
 * prefix of the ids), `edges` (int32 targets), `edge_actor` (int8 or int16).
 * A state the search did not expand has no successors here and counts as
 * "any actor may still move" (its enabled mask is all actors).
 *
 * - never_moves: the actors enabled in no state reachable from each state,
 *   as ONE iterative Tarjan whose components come out sinks first, each
 *   component's reach mask the OR of its members' enabled masks and of the
 *   reach masks of the components its edges leave to (already final).  On
 *   a symmetry quotient (modelcheck/search/symmetry.py), each edge renames
 *   the actors of its target, so a mask is carried across it renamed, and
 *   within a component the masks are taken to their least fixpoint.
 * - unsignalled: the states that may show a fence published and never
 *   signalled: the final states where every actor finished, and the least
 *   state of every fair cycle among the live states, found by the refinement
 *   of `Analysis._fair_cycles` done in rounds: one restricted Tarjan per
 *   round over the states still in play, an edge counting only inside the
 *   component of the round before.  On a symmetry quotient, fairness is
 *   judged on the orbits of the actors under the renamings met around a
 *   cycle.
 * - finished / timed_waits / first_published: per-state facts read straight
 *   from the packed records, through field descriptors (byte offset, kind,
 *   bias) that the Python side builds from either store's layout.
 *
 * No global state.  The GIL is released around the long loops (the buffers
 * stay held, and nothing else runs Python on them meanwhile).  Running out
 * of memory raises MemoryError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t mask_t;

/* -- buffers */

/* A C-contiguous buffer whose items have one of the format codes in
 * `codes` (the size of each given in `sizes`); its item size in *size. */
static int get_buf(PyObject *o, Py_buffer *b, int writable, const char *codes, const char *what)
{
    int flags = PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(o, b, flags) < 0)
        return -1;
    const char *f = b->format ? b->format : "B";
    if (*f == '<' || *f == '@' || *f == '=')
        f++;
    if (f[0] == 0 || f[1] != 0 || !strchr(codes, f[0]) || b->ndim > 1) {
        PyErr_Format(PyExc_TypeError, "%s: an array of one of the item codes '%s', not '%s'",
                     what, codes, b->format ? b->format : "B");
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

typedef struct {
    Py_buffer off, edges, actor;
    int have_off, have_edges, have_actor;
    const int32_t *o, *e;
    const void *act;
    int actor_size;              /* 1 or 2 bytes */
    int64_t n, x, m;             /* states, expanded states, edges */
    uint8_t *skip;               /* bitset over edges, or NULL */
} Graph;

static void graph_release(Graph *g)
{
    if (g->have_off) PyBuffer_Release(&g->off);
    if (g->have_edges) PyBuffer_Release(&g->edges);
    if (g->have_actor) PyBuffer_Release(&g->actor);
    free(g->skip);
    g->skip = NULL;
}

/* The graph of n states from its three arrays (edge_actor may be None);
 * checked whole, so that the loops below never read out of bounds. */
static int graph_get(Graph *g, Py_ssize_t n, PyObject *off, PyObject *edges, PyObject *actor)
{
    memset(g, 0, sizeof *g);
    if (get_buf(off, &g->off, 0, "il", "offsets") < 0)
        return -1;
    g->have_off = 1;
    if (g->off.itemsize != 4) {
        PyErr_SetString(PyExc_TypeError, "offsets: 32-bit ints");
        return -1;
    }
    if (get_buf(edges, &g->edges, 0, "il", "edges") < 0)
        return -1;
    g->have_edges = 1;
    if (g->edges.itemsize != 4) {
        PyErr_SetString(PyExc_TypeError, "edges: 32-bit ints");
        return -1;
    }
    g->o = g->off.buf, g->e = g->edges.buf;
    g->n = n;
    g->x = g->off.len / 4 - 1;
    g->m = g->edges.len / 4;
    if (actor != Py_None) {
        if (get_buf(actor, &g->actor, 0, "bh", "edge_actor") < 0)
            return -1;
        g->have_actor = 1;
        g->act = g->actor.buf;
        g->actor_size = (int)g->actor.itemsize;
        if (g->actor.len / g->actor_size < g->m) {
            PyErr_SetString(PyExc_ValueError, "edge_actor: fewer entries than edges");
            return -1;
        }
    }
    if (n < 0 || g->x < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets: at least one entry");
        return -1;
    }
    if (g->x > n)                     /* states cut off after their expansion */
        g->x = n;
    if (g->o[0] != 0 || g->o[g->x] > g->m) {
        PyErr_SetString(PyExc_ValueError, "offsets do not fit the edges");
        return -1;
    }
    for (int64_t v = 0; v < g->x; v++)
        if (g->o[v + 1] < g->o[v]) {
            PyErr_SetString(PyExc_ValueError, "offsets decrease");
            return -1;
        }
    for (int64_t e = 0; e < g->o[g->x]; e++)
        if (g->e[e] < 0 || g->e[e] >= n) {
            PyErr_Format(PyExc_ValueError, "edge %lld leads to no state", (long long)e);
            return -1;
        }
    return 0;
}

static inline int actor_of(const Graph *g, int64_t e)
{
    return g->actor_size == 1 ? ((const int8_t *)g->act)[e] : ((const int16_t *)g->act)[e];
}

static inline mask_t bit_of(const Graph *g, int64_t e)
{
    int a = actor_of(g, e);
    return a >= 0 && a < 64 ? (mask_t)1 << a : 0;
}

static inline int skipped(const Graph *g, int64_t e)
{
    return g->skip && (g->skip[e >> 3] >> (e & 7) & 1);
}

/* The timeout edges (an int array of edge indices, possibly empty) as a
 * bitset over the edges; none when `timeouts` is None. */
static int graph_skip(Graph *g, PyObject *timeouts)
{
    if (timeouts == Py_None)
        return 0;
    Py_buffer b;
    if (get_buf(timeouts, &b, 0, "il", "timeouts") < 0)
        return -1;
    int rc = 0;
    if (b.itemsize != 4) {
        PyErr_SetString(PyExc_TypeError, "timeouts: 32-bit ints");
        rc = -1;
    } else if (!(g->skip = calloc((size_t)(g->m >> 3) + 1, 1))) {
        PyErr_NoMemory();
        rc = -1;
    } else {
        const int32_t *t = b.buf;
        for (Py_ssize_t k = 0; k < b.len / 4; k++)
            if (t[k] >= 0 && t[k] < g->m)
                g->skip[t[k] >> 3] |= (uint8_t)(1 << (t[k] & 7));
    }
    PyBuffer_Release(&b);
    return rc;
}

/* -- Tarjan, iterative, restricted
 *
 * Pearce's one-array variant ("A space-efficient algorithm for finding
 * strongly connected components", 2016): rindex[v] is 0 before v is
 * visited, then its visit number lowered to the least one it reaches on the
 * stack, then, once its component is complete, the component's number.
 * Component numbers count down from 2n + 1, above every visit number in
 * use, so a finished state never lowers another.  17 bytes a state, and one
 * array read at random per edge. */

typedef struct Tarjan Tarjan;
typedef void (*on_comp)(Tarjan *t, const int32_t *members, int64_t count, int32_t c);

struct Tarjan {
    const Graph *g;
    const uint8_t *active;       /* states taking part (NULL: all) */
    const int32_t *group;        /* an edge counts only within one group (NULL: all do) */
    int32_t *rindex;             /* see above: after a run, each active state's component */
    int32_t *stack, *cs_v, *cs_e;
    uint8_t *cs_root;
    mask_t *acc;                 /* if set: OR-ed into acc[v], acc[w] of each finished w that v
                                  * reaches by a counted edge outside its component */
    const int32_t *perm;         /* a symmetry quotient's renaming id per edge (NULL: none) */
    const int32_t *back;         /* per renaming id, A ints: w's actor b is v's actor back[b] */
    int A;
    mask_t amask;                /* the A actors' bits: no other is looked up in back or tau */
    on_comp emit;
    void *ctx;
};

static int tarjan_alloc(Tarjan *t, const Graph *g)
{
    size_t n = (size_t)g->n + 1;
    memset(t, 0, sizeof *t);
    t->g = g;
    if (g->n > INT32_MAX / 2 - 2)
        return -1;
    t->rindex = malloc(n * 4), t->stack = malloc(n * 4);
    t->cs_v = malloc(n * 4), t->cs_e = malloc(n * 4), t->cs_root = malloc(n);
    return t->rindex && t->stack && t->cs_v && t->cs_e && t->cs_root ? 0 : -1;
}

static void tarjan_free(Tarjan *t)
{
    free(t->rindex); free(t->stack); free(t->cs_v); free(t->cs_e); free(t->cs_root);
}

/* Actor mask m of an edge's target, in the names of its source: across a
 * quotient edge whose target was renamed (`symmetry.verdict`'s carry). */
static inline mask_t carry(const Tarjan *t, mask_t m, int64_t e)
{
    if (!t->perm || t->perm[e] == 0)
        return m;
    const int32_t *inv = t->back + (int64_t)t->perm[e] * t->A;
    mask_t out = 0;
    m &= t->amask;
    for (int b = 0; m; b++, m >>= 1)
        if (m & 1)
            out |= (mask_t)1 << inv[b];
    return out;
}

static inline int counts(const Tarjan *t, int32_t v, int64_t e, int32_t w)
{
    if (skipped(t->g, e))
        return 0;
    if (t->active && !t->active[w])
        return 0;
    return !t->group || t->group[w] == t->group[v];
}

/* Components of the active states, sinks first (reverse topological order);
 * `emit` gets each one's members with their rindex already set to the
 * component's number. */
static void tarjan_run(Tarjan *t)
{
    const Graph *g = t->g;
    int64_t n = g->n, x = g->x;
    int32_t *ri = t->rindex;
    memset(ri, 0, (size_t)n * 4);
    int32_t index = 1, c = (int32_t)(2 * n + 1), sp = 0, csp = 0;
    for (int32_t root = 0; root < n; root++) {
        if (ri[root] || (t->active && !t->active[root]))
            continue;
        ri[root] = index++;
        t->cs_v[csp] = root, t->cs_e[csp] = root < x ? g->o[root] : 0, t->cs_root[csp] = 1, csp++;
        while (csp) {
            int32_t v = t->cs_v[csp - 1], e = t->cs_e[csp - 1];
            int32_t end = v < x ? g->o[v + 1] : 0;
            int advanced = 0;
            for (; e < end; e++) {
                int32_t w = g->e[e];
                if (!counts(t, v, e, w))
                    continue;
                if (!ri[w]) {
                    t->cs_e[csp - 1] = e + 1;
                    ri[w] = index++;
                    t->cs_v[csp] = w, t->cs_e[csp] = w < x ? g->o[w] : 0, t->cs_root[csp] = 1;
                    csp++;
                    advanced = 1;
                    break;
                }
                if (ri[w] < ri[v])            /* on the stack, visited before v */
                    ri[v] = ri[w], t->cs_root[csp - 1] = 0;
                else if (t->acc && ri[w] > n)   /* in a finished component */
                    t->acc[v] |= carry(t, t->acc[w], e);
            }
            if (advanced)
                continue;
            int root_v = t->cs_root[--csp];
            if (root_v) {                     /* v and what lies above it on the stack */
                int32_t at = sp, rv = ri[v];
                t->stack[sp++] = v;
                while (at > 0 && ri[t->stack[at - 1]] >= rv)
                    at--;
                for (int32_t k = at; k < sp; k++)
                    ri[t->stack[k]] = c;
                index -= sp - at;
                t->emit(t, t->stack + at, sp - at, c);
                c--;
                sp = at;
            } else
                t->stack[sp++] = v;
            if (csp) {                        /* back in the parent: what v reached */
                int32_t u = t->cs_v[csp - 1];
                if (ri[v] < ri[u])
                    ri[u] = ri[v], t->cs_root[csp - 1] = 0;
                else if (t->acc && ri[v] > n)
                    t->acc[u] |= carry(t, t->acc[v], t->cs_e[csp - 1] - 1);
            }
        }
    }
}

/* -- never_moves */

typedef struct {
    const mask_t *enabled;
    mask_t *reach;
} Reach;

/* A component's reach: its members' enabled masks, and what the Tarjan
 * walk OR-ed into their acc from the components their edges leave to. */
static void reach_comp(Tarjan *t, const int32_t *members, int64_t count, int32_t c)
{
    Reach *r = t->ctx;
    mask_t m = 0;
    (void)c;
    for (int64_t k = 0; k < count; k++)
        m |= r->enabled[members[k]] | r->reach[members[k]];
    for (int64_t k = 0; k < count; k++)
        r->reach[members[k]] = m;
}

/* The same on a symmetry quotient: a member's reach is its enabled mask,
 * what its edges leaving the component carry, and what its edges inside it
 * carry from the other members, renamed edge by edge; the least fixpoint,
 * around the component's cycles of renamings.  Passes over the component
 * until nothing changes, as the Python reading does: each trip of a bit
 * around a cycle of renamings may cost one (a worklist would bound that
 * by the bits that change, if huge cyclic components ever need it). */
static void reach_comp_renamed(Tarjan *t, const int32_t *members, int64_t count, int32_t c)
{
    Reach *r = t->ctx;
    const Graph *g = t->g;
    for (int64_t k = 0; k < count; k++)
        r->reach[members[k]] |= r->enabled[members[k]];
    for (int changed = 1; changed;) {
        changed = 0;
        for (int64_t k = 0; k < count; k++) {
            int32_t v = members[k];
            if (v >= g->x)
                continue;
            mask_t m = r->reach[v];
            for (int32_t e = g->o[v]; e < g->o[v + 1]; e++)
                if (t->rindex[g->e[e]] == c && counts(t, v, e, g->e[e]))
                    m |= carry(t, r->reach[g->e[e]], e);
            if (m != r->reach[v])
                r->reach[v] = m, changed = 1;
        }
    }
}

/* A quotient's renamings: `perm` (an int32 id per edge) and `back` (A int32
 * actors per id, each below A <= 64), checked whole; none when perm is None. */
static int renamings_get(Tarjan *t, const Graph *g, PyObject *perm_o, PyObject *back_o,
                         int A, Py_buffer *perm, Py_buffer *back)
{
    if (perm_o == Py_None)
        return 0;
    if (A < 1 || A > 64) {
        PyErr_SetString(PyExc_ValueError, "renamings: 1 to 64 actors");
        return -1;
    }
    if (get_buf(perm_o, perm, 0, "il", "edge_perm") < 0)
        return -1;
    if (get_buf(back_o, back, 0, "il", "back") < 0) {
        PyBuffer_Release(perm);
        return -1;
    }
    const int32_t *p = perm->buf, *b = back->buf;
    int64_t ids = back->len / 4 / A;
    const char *bad = perm->itemsize != 4 || back->itemsize != 4 ? "32-bit ints"
        : perm->len / 4 < g->o[g->x] ? "fewer renaming ids than edges"
        : back->len / 4 != ids * A || ids < 1 ? "back: A actors per renaming" : NULL;
    for (int64_t k = 0; !bad && k < ids * A; k++)
        if (b[k] < 0 || b[k] >= A)
            bad = "back: an actor out of range";
    for (int64_t e = 0; !bad && e < g->o[g->x]; e++)
        if (p[e] < 0 || p[e] >= ids)
            bad = "edge_perm: a renaming id out of range";
    if (bad) {
        PyErr_SetString(PyExc_ValueError, bad);
        PyBuffer_Release(perm);
        PyBuffer_Release(back);
        return -1;
    }
    t->perm = p, t->back = b, t->A = A;
    t->amask = A == 64 ? ~(mask_t)0 : ((mask_t)1 << A) - 1;
    return 1;
}

/* A Tarjan walk over g, with a quotient's renamings when perm_o is not
 * None: -1 (an exception set), else whether it has them. */
static int tarjan_renamed(Tarjan *t, const Graph *g, PyObject *perm_o, PyObject *back_o, int A,
                          Py_buffer *perm, Py_buffer *back)
{
    if (tarjan_alloc(t, g) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return renamings_get(t, g, perm_o, back_o, A, perm, back);
}

/* One 64-bit mask per state: `out` (writable) or an input. */
static int get_masks(PyObject *o, Py_buffer *b, int writable, int64_t n, const char *what)
{
    if (get_buf(o, b, writable, "QKL", what) < 0)
        return -1;
    if (b->itemsize != 8 || (n >= 0 && b->len / 8 != n)) {
        PyErr_Format(PyExc_ValueError, "%s: one 64-bit mask per state", what);
        PyBuffer_Release(b);
        return -1;
    }
    return 0;
}

/* enabled(out, offsets, edges, edge_actor, all, timeouts): per state, the
 * actors with an edge out of it, the timeout edges left out unless timeouts
 * is None; all actors for a state not expanded. */
static PyObject *py_enabled(PyObject *self, PyObject *args)
{
    PyObject *out_o, *off_o, *edges_o, *act_o, *to_o;
    unsigned long long all;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOKO", &out_o, &off_o, &edges_o, &act_o, &all, &to_o))
        return NULL;
    Py_buffer out;
    if (get_masks(out_o, &out, 1, -1, "out") < 0)
        return NULL;
    Graph g;
    PyObject *res = NULL;
    if (graph_get(&g, out.len / 8, off_o, edges_o, act_o) < 0 || graph_skip(&g, to_o) < 0)
        goto done;
    mask_t *m = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t v = 0; v < g.n; v++) {
        mask_t x = 0;
        if (v < g.x) {
            for (int32_t e = g.o[v]; e < g.o[v + 1]; e++)
                if (!skipped(&g, e))
                    x |= bit_of(&g, e);
        } else
            x = all;
        m[v] = x;
    }
    Py_END_ALLOW_THREADS
    res = Py_NewRef(Py_None);
done:
    graph_release(&g);
    PyBuffer_Release(&out);
    return res;
}

/* never_moves(out, offsets, edges, enabled, all, timeouts[, edge_perm, back,
 * A]): per state, the actors enabled in no state reachable from it (by the
 * edges that are not timeouts, unless timeouts is None); on a symmetry
 * quotient, with each edge's renaming (see renamings_get). */
static PyObject *py_never_moves(PyObject *self, PyObject *args)
{
    PyObject *out_o, *off_o, *edges_o, *en_o, *to_o, *perm_o = Py_None, *back_o = Py_None;
    unsigned long long all;
    int A = 0, renamed = 0;
    Py_buffer perm, back;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOKO|OOi", &out_o, &off_o, &edges_o, &en_o, &all, &to_o,
                          &perm_o, &back_o, &A))
        return NULL;
    Py_buffer out, en;
    if (get_masks(out_o, &out, 1, -1, "out") < 0)
        return NULL;
    if (get_masks(en_o, &en, 0, out.len / 8, "enabled") < 0) {
        PyBuffer_Release(&out);
        return NULL;
    }
    Graph g;
    Tarjan t;
    memset(&t, 0, sizeof t);
    PyObject *res = NULL;
    if (graph_get(&g, out.len / 8, off_o, edges_o, Py_None) < 0 || graph_skip(&g, to_o) < 0)
        goto done;
    if ((renamed = tarjan_renamed(&t, &g, perm_o, back_o, A, &perm, &back)) < 0)
        goto done;
    Reach r = {en.buf, out.buf};
    memset(r.reach, 0, (size_t)g.n * 8);
    t.emit = renamed ? reach_comp_renamed : reach_comp, t.ctx = &r, t.acc = r.reach;
    Py_BEGIN_ALLOW_THREADS
    tarjan_run(&t);
    for (int64_t v = 0; v < g.n; v++)
        r.reach[v] = all & ~r.reach[v];
    Py_END_ALLOW_THREADS
    res = Py_NewRef(Py_None);
done:
    if (renamed > 0) {
        PyBuffer_Release(&perm);
        PyBuffer_Release(&back);
    }
    tarjan_free(&t);
    graph_release(&g);
    PyBuffer_Release(&en);
    PyBuffer_Release(&out);
    return res;
}

/* -- fair cycles */

typedef struct {
    int32_t *a;
    size_t n, cap;
    int oom;
} Vec;

static void vec_push(Vec *v, int32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1024;
        int32_t *a = realloc(v->a, cap * 4);
        if (!a) {
            v->oom = 1;
            return;
        }
        v->a = a, v->cap = cap;
    }
    v->a[v->n++] = x;
}

/* The ints pushed, as bytes for Python; MemoryError if a push failed. */
static PyObject *vec_bytes(const Vec *v)
{
    return v->oom ? PyErr_NoMemory()
        : PyBytes_FromStringAndSize((const char *)v->a, (Py_ssize_t)v->n * 4);
}

/* What a round of a refinement leaves for the next: the first member of
 * each refinement's context. */
typedef struct {
    uint8_t *next;               /* in play in the next round */
    int more;                    /* some state is in play in the next round */
} Round;

/* The rounds of a refinement: one restricted Tarjan per round over the
 * states still in play (*active), an edge counting only inside the
 * component of the round before (*group); the emit marks the states of the
 * next round in r->next.  The arrays are swapped round by round: the caller
 * frees what the pointers hold at the end. */
static void refine(Tarjan *t, Round *r, uint8_t **active, uint8_t **next, int32_t **group,
                   int64_t n, const Vec *out)
{
    memset(*group, 0, (size_t)(n + 1) * 4);
    t->active = *active, t->group = *group, r->next = *next;
    while (r->more && !out->oom) {
        r->more = 0;
        memset(*next, 0, (size_t)n + 1);
        tarjan_run(t);
        int32_t *labels = t->rindex;             /* this round's components group the next */
        t->rindex = *group, *group = labels, t->group = labels;
        uint8_t *swap = *active;
        *active = *next, *next = swap;
        t->active = *active, r->next = *next;
    }
}

typedef struct {
    Round r;
    const mask_t *enabled;
    Vec *out;
    /* on a symmetry quotient (t->perm set), for quotient_fair_comp: */
    uint8_t *tau;                /* A per state: a member's actors in its root's names */
    int64_t *seen, stamp;        /* seen[v] == stamp: tau[v] set for this component */
    int32_t *queue;
} Fair;

/* As `Analysis._fair_cycles` judges one component: a fair cycle gives its
 * least state; an unfair one keeps, for the next round, its states where no
 * actor that never moves inside it is enabled. */
static void fair_comp(Tarjan *t, const int32_t *members, int64_t count, int32_t c)
{
    Fair *f = t->ctx;
    const Graph *g = t->g;
    mask_t moved = 0, enabled_any = 0;
    int cyclic = count > 1;
    int32_t least = members[0];
    for (int64_t k = 0; k < count; k++) {
        int32_t v = members[k];
        enabled_any |= f->enabled[v];
        if (v < least)
            least = v;
        for (int32_t e = g->o[v]; e < g->o[v + 1]; e++) {       /* live states are expanded */
            int32_t w = g->e[e];
            if (t->rindex[w] == c) {
                moved |= bit_of(g, e);
                cyclic |= w == v;
            }
        }
    }
    if (!cyclic)
        return;
    mask_t unfair = enabled_any & ~moved;
    if (!unfair) {
        vec_push(f->out, least);
        return;
    }
    for (int64_t k = 0; k < count; k++)
        if (!(f->enabled[members[k]] & unfair)) {
            f->r.next[members[k]] = 1;
            f->r.more = 1;
        }
}

static int orbit_find(int8_t *orbit, int x)
{
    while (orbit[x] != x)
        x = orbit[x] = orbit[orbit[x]];
    return x;
}

/* As `Symmetry._fair_cycles` judges one component: a quotient cycle stands
 * for full cycles through the renamings met around it, so fairness is
 * judged on the orbits of the root's actors under them (the holonomy of
 * each edge, in the root's names through a spanning tree); a fair
 * component gives its least state, an unfair one keeps, for the next
 * round, its states where no unfair orbit is enabled. */
static void quotient_fair_comp(Tarjan *t, const int32_t *members, int64_t count, int32_t c)
{
    Fair *f = t->ctx;
    const Graph *g = t->g;
    const int A = t->A;
    int cyclic = count > 1;
    int32_t least = members[0];
    for (int64_t k = 0; k < count; k++) {
        int32_t v = members[k];
        least = v < least ? v : least;
        for (int32_t e = g->o[v]; !cyclic && e < g->o[v + 1]; e++)      /* live states are expanded */
            cyclic = g->e[e] == v;
    }
    if (!cyclic)
        return;
    int64_t stamp = ++f->stamp, head = 0, tail = 0;
    int32_t root = members[0];
    for (int x = 0; x < A; x++)
        f->tau[(int64_t)root * A + x] = (uint8_t)x;
    f->seen[root] = stamp;
    f->queue[tail++] = root;
    while (head < tail) {                     /* a spanning tree of the component */
        int32_t v = f->queue[head++];
        for (int32_t e = g->o[v]; e < g->o[v + 1]; e++) {
            int32_t w = g->e[e];
            if (t->rindex[w] != c || f->seen[w] == stamp)
                continue;
            f->seen[w] = stamp;
            const int32_t *inv = t->back + (int64_t)t->perm[e] * A;
            for (int x = 0; x < A; x++)
                f->tau[(int64_t)w * A + x] = f->tau[(int64_t)v * A + inv[x]];
            f->queue[tail++] = w;
        }
    }
    int8_t orbit[64];
    for (int x = 0; x < A; x++)
        orbit[x] = (int8_t)x;
    for (int64_t k = 0; k < count; k++) {     /* each inner edge's holonomy joins orbits */
        int32_t v = members[k];
        for (int32_t e = g->o[v]; e < g->o[v + 1]; e++) {
            int32_t w = g->e[e];
            if (t->rindex[w] != c)
                continue;
            const int32_t *inv = t->back + (int64_t)t->perm[e] * A;
            for (int x = 0; x < A; x++)
                orbit[orbit_find(orbit, f->tau[(int64_t)w * A + x])] =
                    (int8_t)orbit_find(orbit, f->tau[(int64_t)v * A + inv[x]]);
        }
    }
    mask_t closure[64] = {0}, of[64];
    for (int x = 0; x < A; x++)
        closure[orbit_find(orbit, x)] |= (mask_t)1 << x;
    for (int x = 0; x < A; x++)
        of[x] = closure[orbit_find(orbit, x)];
#define CLOSE(v, mask, out) do { mask_t m_ = (mask) & t->amask; (out) = 0; \
        for (int x = 0; m_; x++, m_ >>= 1) if (m_ & 1) (out) |= of[f->tau[(int64_t)(v) * A + x]]; } while (0)
    mask_t enabled_any = 0, moved = 0, m;
    for (int64_t k = 0; k < count; k++) {
        int32_t v = members[k];
        CLOSE(v, f->enabled[v], m);
        enabled_any |= m;
        for (int32_t e = g->o[v]; e < g->o[v + 1]; e++)
            if (t->rindex[g->e[e]] == c) {
                CLOSE(v, bit_of(g, e), m);
                moved |= m;
            }
    }
    mask_t unfair = enabled_any & ~moved;
    if (!unfair) {
        vec_push(f->out, least);
        return;
    }
    for (int64_t k = 0; k < count; k++) {
        CLOSE(members[k], f->enabled[members[k]], m);
        if (!(m & unfair))
            f->r.next[members[k]] = 1, f->r.more = 1;
    }
#undef CLOSE
}

/* unsignalled(offsets, edges, edge_actor, enabled, dead, finished, all[,
 * edge_perm, back, A]) -> bytes of int32 states: the live final states where
 * every actor finished, then the least state of every fair cycle among the
 * live states (live: expanded, no actor dead); on a symmetry quotient, with
 * each edge's renaming (see renamings_get), fairness judged on orbits. */
static PyObject *py_unsignalled(PyObject *self, PyObject *args)
{
    PyObject *off_o, *edges_o, *act_o, *en_o, *dead_o, *fin_o, *perm_o = Py_None, *back_o = Py_None;
    unsigned long long all;
    int A = 0, renamed = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOK|OOi", &off_o, &edges_o, &act_o, &en_o, &dead_o, &fin_o,
                          &all, &perm_o, &back_o, &A))
        return NULL;
    Py_buffer en, dead, fin, perm, back;
    int have = 0;
    Graph g;
    Tarjan t;
    memset(&g, 0, sizeof g);
    memset(&t, 0, sizeof t);
    Vec out = {0};
    Fair f = {{NULL, 0}, NULL, &out, NULL, NULL, 0, NULL};
    uint8_t *active = NULL, *next = NULL;
    int32_t *group = NULL;
    PyObject *res = NULL;
    if (get_masks(en_o, &en, 0, -1, "enabled") < 0)
        goto done;
    have = 1;
    int64_t n = en.len / 8;
    if (get_masks(dead_o, &dead, 0, n, "dead") < 0)
        goto done;
    have = 2;
    if (get_masks(fin_o, &fin, 0, n, "finished") < 0)
        goto done;
    have = 3;
    if (graph_get(&g, n, off_o, edges_o, act_o) < 0)
        goto done;
    if (!g.have_actor) {
        PyErr_SetString(PyExc_ValueError, "unsignalled: edge_actor is needed");
        goto done;
    }
    if ((renamed = tarjan_renamed(&t, &g, perm_o, back_o, A, &perm, &back)) < 0)
        goto done;
    if (!(active = calloc(n + 1, 1)) || !(next = calloc(n + 1, 1)) || !(group = malloc((n + 1) * 4))
        || (renamed && (!(f.tau = malloc((size_t)(n + 1) * A)) || !(f.seen = calloc(n + 1, 8))
                        || !(f.queue = malloc((n + 1) * 4))))) {
        PyErr_NoMemory();
        goto done;
    }
    const mask_t *dm = dead.buf, *fm = fin.buf;
    f.r.next = next, f.enabled = en.buf;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t v = 0; v < g.x; v++) {
        active[v] = dm[v] == 0;
        if (active[v] && g.o[v] == g.o[v + 1] && fm[v] == all)
            vec_push(&out, (int32_t)v);
        f.r.more |= active[v];
    }
    t.emit = renamed ? quotient_fair_comp : fair_comp, t.ctx = &f;
    refine(&t, &f.r, &active, &next, &group, n, &out);
    Py_END_ALLOW_THREADS
    res = vec_bytes(&out);
done:
    free(out.a);
    free(active); free(next); free(group); free(f.tau); free(f.seen); free(f.queue);
    if (renamed > 0) {
        PyBuffer_Release(&perm);
        PyBuffer_Release(&back);
    }
    tarjan_free(&t);
    graph_release(&g);
    if (have > 2) PyBuffer_Release(&fin);
    if (have > 1) PyBuffer_Release(&dead);
    if (have > 0) PyBuffer_Release(&en);
    return res;
}

/* without(masks, minus) -> bytes of int32: masks &= ~minus, in place, per
 * state; then the states whose mask is not empty, in order. */
static PyObject *py_without(PyObject *self, PyObject *args)
{
    PyObject *m_o, *minus_o;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO", &m_o, &minus_o))
        return NULL;
    Py_buffer m, minus;
    if (get_masks(m_o, &m, 1, -1, "masks") < 0)
        return NULL;
    if (get_masks(minus_o, &minus, 0, m.len / 8, "minus") < 0) {
        PyBuffer_Release(&m);
        return NULL;
    }
    Vec out = {0};
    mask_t *a = m.buf;
    const mask_t *b = minus.buf;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t v = 0; v < m.len / 8; v++)
        if ((a[v] &= ~b[v]))
            vec_push(&out, (int32_t)v);
    Py_END_ALLOW_THREADS
    PyObject *res = vec_bytes(&out);
    free(out.a);
    PyBuffer_Release(&minus);
    PyBuffer_Release(&m);
    return res;
}

/* -- facts read from the packed records */

/* A field descriptor: three int32s, the field's byte offset in a record,
 * its kind and a bias added to the value read.  Kind K_BITS + b (b = 1..57)
 * is the native core's bit-packed slot: b bits from bit offset f[0],
 * unsigned, little-endian. */
enum { K_ZERO, K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, NKINDS };
static const int kind_size[NKINDS] = {0, 1, 2, 4, 8, 1, 2, 4};
#define K_BITS 64
#define BITS_MAX 57

static inline int field_bytes(const int32_t *f)     /* bytes from f's first byte */
{
    return f[1] > K_BITS ? ((f[0] & 7) + f[1] - K_BITS + 7) >> 3 : kind_size[f[1]];
}

static inline int field_start(const int32_t *f)     /* f's first byte */
{
    return f[1] > K_BITS ? f[0] >> 3 : f[0];
}

static inline int64_t field(const uint8_t *rec, const int32_t *f)
{
    if (f[1] > K_BITS) {
        uint64_t x = 0;
        int b = f[1] - K_BITS;
        memcpy(&x, rec + (f[0] >> 3), field_bytes(f));
        return (int64_t)((x >> (f[0] & 7)) & (~(uint64_t)0 >> (64 - b))) + f[2];
    }
    const uint8_t *p = rec + f[0];
    int64_t v = 0;
    switch (f[1]) {
    case K_I8: v = *(const int8_t *)p; break;
    case K_I16: { int16_t x; memcpy(&x, p, 2); v = x; break; }
    case K_I32: { int32_t x; memcpy(&x, p, 4); v = x; break; }
    case K_I64: { int64_t x; memcpy(&x, p, 8); v = x; break; }
    case K_U8: v = *p; break;
    case K_U16: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
    case K_U32: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
    default: break;
    }
    return v + f[2];
}

typedef struct {
    Py_buffer data, fields;
    int have_data, have_fields;
    const uint8_t *d;
    const int32_t *f;
    Py_ssize_t rec, nf;
} Records;

static void records_release(Records *r)
{
    if (r->have_data) PyBuffer_Release(&r->data);
    if (r->have_fields) PyBuffer_Release(&r->fields);
}

/* n records of `rec` bytes in `data`, and field descriptors that lie in one. */
static int records_get(Records *r, PyObject *data, Py_ssize_t rec, int64_t n, PyObject *fields)
{
    memset(r, 0, sizeof *r);
    if (get_buf(data, &r->data, 0, "Bbc", "data") < 0)
        return -1;
    r->have_data = 1;
    if (get_buf(fields, &r->fields, 0, "il", "fields") < 0)
        return -1;
    r->have_fields = 1;
    r->d = r->data.buf, r->f = r->fields.buf, r->rec = rec;
    r->nf = r->fields.len / 12;
    if (r->fields.itemsize != 4 || r->fields.len % 12) {
        PyErr_SetString(PyExc_ValueError, "fields: triples of 32-bit ints");
        return -1;
    }
    if (rec < 0 || n < 0 || r->data.len / (rec ? rec : 1) < n) {
        PyErr_SetString(PyExc_ValueError, "data: fewer records than states");
        return -1;
    }
    for (Py_ssize_t k = 0; k < r->nf; k++) {
        const int32_t *f = r->f + 3 * k;
        int ok = (f[1] >= 0 && f[1] < NKINDS) || (f[1] > K_BITS && f[1] <= K_BITS + BITS_MAX);
        if (!ok || f[0] < 0 || field_start(f) + field_bytes(f) > rec) {
            PyErr_Format(PyExc_ValueError, "field %zd does not lie in a record", k);
            return -1;
        }
    }
    return 0;
}

/* finished(out, data, rec, pcs, done, starts, deps_at, deps): per state, the
 * actors at rest (`System.at_rest`): at pc `done`, or held back at their
 * first pc `starts[a]` until the fences deps[deps_at[a]:deps_at[a+1]] (field
 * descriptors) have all signalled or errored (value & 3). */
static PyObject *py_finished(PyObject *self, PyObject *args)
{
    PyObject *out_o, *data_o, *pcs_o, *deps_o;
    Py_buffer out, starts, at;
    Py_ssize_t rec;
    int done_pc;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOnOiy*y*O", &out_o, &data_o, &rec, &pcs_o, &done_pc, &starts,
                          &at, &deps_o))
        return NULL;
    Records r, dr;
    memset(&r, 0, sizeof r);
    memset(&dr, 0, sizeof dr);
    PyObject *res = NULL;
    int have_out = 0;
    if (get_masks(out_o, &out, 1, -1, "out") < 0)
        goto done;
    have_out = 1;
    int64_t n = out.len / 8;
    if (records_get(&r, data_o, rec, n, pcs_o) < 0 || records_get(&dr, data_o, rec, n, deps_o) < 0)
        goto done;
    int A = (int)r.nf;
    const int32_t *st = starts.buf, *da = at.buf;
    if (A > 64 || starts.len < 4 * A || at.len < 4 * (A + 1)) {
        PyErr_SetString(PyExc_ValueError, "at most 64 actors, each with a start and deps");
        goto done;
    }
    for (int a = 0; a < A; a++)
        if (da[a] < 0 || da[a] > da[a + 1] || da[a + 1] > dr.nf) {
            PyErr_SetString(PyExc_ValueError, "deps_at: not ranges of the deps");
            goto done;
        }
    mask_t *m = out.buf;
    /* the usual layout, read at C speed: every pc of one kind and bias */
    int kind = A ? r.f[1] : K_ZERO, same = 1, deps = 0, bits = 1;
    uint64_t fm[64];
    for (int a = 0; a < A; a++) {
        int b = r.f[3 * a + 1] - K_BITS;
        bits &= b > 0;
        fm[a] = b > 0 ? ~(uint64_t)0 >> (64 - b) : 0;
    }
    int64_t raw = done_pc - (A ? r.f[2] : 0);
    for (int a = 0; a < A; a++) {
        same &= r.f[3 * a + 1] == kind && r.f[3 * a + 2] == r.f[2];
        deps |= da[a] < da[a + 1];
    }
    Py_BEGIN_ALLOW_THREADS
#define DONE_MASKS(T)                                               \
    for (int64_t i = 0; i < n; i++) {                               \
        const uint8_t *s = r.d + i * rec;                           \
        mask_t x = 0;                                               \
        for (int a = 0; a < A; a++) {                               \
            T v;                                                    \
            memcpy(&v, s + r.f[3 * a], sizeof v);                   \
            x |= (mask_t)(v == (T)raw) << a;                        \
        }                                                           \
        m[i] = x;                                                   \
    }
    if (same && kind == K_I8) DONE_MASKS(int8_t)
    else if (same && kind == K_U8) DONE_MASKS(uint8_t)
    else if (same && kind == K_I16) DONE_MASKS(int16_t)
    else if (same && kind == K_U16) DONE_MASKS(uint16_t)
    else if (bits && A) {
        /* the native core's bit-packed pcs: one 8-byte load per window of
         * bits that holds whole pcs (a few per state), then a mask and a
         * compare per actor */
        int32_t wstart[64];
        uint8_t win[64];
        uint64_t mk[64], want[64];
        int nw = 0, last = 0;
        for (int a = 0; a < A; a++) {
            const int32_t *f = r.f + 3 * a;
            int32_t b = f[1] - K_BITS, bit = f[0];
            if (!nw || bit < wstart[nw - 1] * 8 || bit + b > wstart[nw - 1] * 8 + 64)
                wstart[nw++] = bit >> 3;
            win[a] = (uint8_t)(nw - 1);
            if (wstart[nw - 1] > last)
                last = wstart[nw - 1];
            int sh = bit - wstart[nw - 1] * 8;
            int64_t v = (int64_t)done_pc - f[2];
            mk[a] = fm[a] << sh;
            want[a] = v >= 0 && (uint64_t)v <= fm[a] ? (uint64_t)v << sh : ~(uint64_t)0;
        }
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *s = r.d + i * rec;
            mask_t x = 0;
            if (i * rec + last + 8 <= r.data.len) {
                uint64_t w[64];
                for (int k = 0; k < nw; k++)
                    memcpy(&w[k], s + wstart[k], 8);
                for (int a = 0; a < A; a++)
                    x |= (mask_t)((w[win[a]] & mk[a]) == want[a]) << a;
            } else
                for (int a = 0; a < A; a++)
                    x |= (mask_t)(field(s, r.f + 3 * a) == done_pc) << a;
            m[i] = x;
        }
    } else
        for (int64_t i = 0; i < n; i++) {
            mask_t x = 0;
            for (int a = 0; a < A; a++)
                x |= (mask_t)(field(r.d + i * rec, r.f + 3 * a) == done_pc) << a;
            m[i] = x;
        }
#undef DONE_MASKS
    for (int64_t i = 0; i < n && deps; i++) {           /* jobs held back at their start */
        const uint8_t *s = r.d + i * rec;
        for (int a = 0; a < A; a++) {
            if (da[a] == da[a + 1] || m[i] >> a & 1 || field(s, r.f + 3 * a) != st[a])
                continue;
            int signalled = 1;
            for (int32_t k = da[a]; k < da[a + 1] && signalled; k++)
                signalled = (field(s, dr.f + 3 * k) & 3) != 0;
            if (!signalled)
                m[i] |= (mask_t)1 << a;
        }
    }
    Py_END_ALLOW_THREADS
    res = Py_NewRef(Py_None);
done:
    records_release(&r);
    records_release(&dr);
    if (have_out)
        PyBuffer_Release(&out);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&at);
    return res;
}

/* timed_waits(stuck, expanded, data, rec, pcs, timed) -> bytes of int32
 * (state, actor) pairs, in state order then actor order: the actor never
 * moves again from the expanded state and stands at a pc p with timed[p]. */
static PyObject *py_timed_waits(PyObject *self, PyObject *args)
{
    PyObject *stuck_o, *data_o, *pcs_o;
    Py_buffer stuck, timed;
    Py_ssize_t x, rec;
    (void)self;
    if (!PyArg_ParseTuple(args, "OnOnOy*", &stuck_o, &x, &data_o, &rec, &pcs_o, &timed))
        return NULL;
    Records r;
    memset(&r, 0, sizeof r);
    Vec out = {0};
    PyObject *res = NULL;
    int have = 0;
    if (get_masks(stuck_o, &stuck, 0, -1, "stuck") < 0)
        goto done;
    have = 1;
    int64_t n = stuck.len / 8;
    if (x > n)
        x = n;
    if (records_get(&r, data_o, rec, n, pcs_o) < 0)
        goto done;
    if (r.nf > 64) {
        PyErr_SetString(PyExc_ValueError, "at most 64 actors");
        goto done;
    }
    const mask_t *sm = stuck.buf;
    const uint8_t *tm = timed.buf;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t i = 0; i < x; i++) {
        if (!sm[i])
            continue;
        for (int a = 0; a < r.nf; a++) {
            if (!(sm[i] >> a & 1))
                continue;
            int64_t pc = field(r.d + i * rec, r.f + 3 * a);
            if (pc >= 0 && pc < timed.len && tm[pc]) {
                vec_push(&out, (int32_t)i);
                vec_push(&out, a);
            }
        }
    }
    Py_END_ALLOW_THREADS
    res = vec_bytes(&out);
done:
    free(out.a);
    records_release(&r);
    if (have)
        PyBuffer_Release(&stuck);
    PyBuffer_Release(&timed);
    return res;
}

/* places(where, dead, data, rec, pcs, keep, seen) -> bytes of int32: of the
 * states `where` (in order), the first of each place: the same dead actors
 * (mask `dead`) at the same pcs as an earlier one stand where it stands (a
 * deadlock's key), so only the first is kept; a state where a dead actor
 * stands at a pc p with keep[p] (its place depends on more than the pc) is
 * always kept.  The states `seen` (kept from earlier parts of a longer
 * `where`) count as earlier ones. */
static PyObject *py_places(PyObject *self, PyObject *args)
{
    PyObject *where_o, *dead_o, *data_o, *pcs_o;
    Py_buffer wb, db, keep, sb;
    Py_ssize_t rec;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOnOy*y*", &where_o, &dead_o, &data_o, &rec, &pcs_o, &keep, &sb))
        return NULL;
    Records r;
    memset(&r, 0, sizeof r);
    Vec out = {0};
    int32_t *table = NULL;
    PyObject *res = NULL;
    int have = 0;
    if (get_buf(where_o, &wb, 0, "il", "where") < 0)
        goto done;
    have = 1;
    if (get_masks(dead_o, &db, 0, -1, "dead") < 0)
        goto done;
    have = 2;
    int64_t n = db.len / 8;
    const int32_t *where = wb.buf;
    Py_ssize_t count = wb.len / 4;
    if (wb.itemsize != 4) {
        PyErr_SetString(PyExc_TypeError, "where: 32-bit ints");
        goto done;
    }
    const int32_t *seen_at = sb.buf;
    Py_ssize_t nseen = sb.len / 4;
    for (Py_ssize_t k = 0; k < count + nseen; k++) {
        int32_t i = k < count ? where[k] : seen_at[k - count];
        if (i < 0 || i >= n) {
            PyErr_SetString(PyExc_ValueError, "where, seen: a state that is not there");
            goto done;
        }
    }
    if (records_get(&r, data_o, rec, n, pcs_o) < 0)
        goto done;
    if (r.nf > 64) {
        PyErr_SetString(PyExc_ValueError, "at most 64 actors");
        goto done;
    }
    size_t mask = 1023;
    while (mask < (size_t)(count + nseen) * 2)
        mask = mask * 2 + 1;
    if (!(table = malloc((mask + 1) * sizeof *table))) {
        PyErr_NoMemory();
        goto done;
    }
    memset(table, 0xff, (mask + 1) * sizeof *table);
    const mask_t *dead = db.buf;
    const uint8_t *kp = keep.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = -nseen; k < count; k++) {
        int32_t i = k < 0 ? seen_at[nseen + k] : where[k];
        const uint8_t *s = r.d + (int64_t)i * rec;
        mask_t m = dead[i];
        uint64_t h = m * 0x9E3779B97F4A7C15ull;
        int always = 0;
        for (int a = 0; a < r.nf; a++) {
            if (!(m >> a & 1))
                continue;
            int64_t pc = field(s, r.f + 3 * a);
            always |= pc >= 0 && pc < keep.len && kp[pc];
            h = (h ^ (uint64_t)pc) * 0x100000001B3ull;
        }
        if (always) {
            if (k >= 0)
                vec_push(&out, i);
            continue;
        }
        size_t slot = (size_t)(h ^ h >> 29) & mask;
        int seen = 0;
        for (; table[slot] >= 0; slot = (slot + 1) & mask) {
            int32_t j = table[slot];
            const uint8_t *t = r.d + (int64_t)j * rec;
            if (dead[j] != m)
                continue;
            int same = 1;
            for (int a = 0; a < r.nf && same; a++)
                if (m >> a & 1)
                    same = field(s, r.f + 3 * a) == field(t, r.f + 3 * a);
            if (same) {
                seen = 1;
                break;
            }
        }
        if (!seen) {
            table[slot] = i;
            if (k >= 0)
                vec_push(&out, i);
        }
    }
    Py_END_ALLOW_THREADS
    res = vec_bytes(&out);
done:
    free(table);
    free(out.a);
    records_release(&r);
    if (have > 1) PyBuffer_Release(&db);
    if (have > 0) PyBuffer_Release(&wb);
    PyBuffer_Release(&keep);
    PyBuffer_Release(&sb);
    return res;
}

/* first_published(states, data, rec, fences, published) -> list: per fence
 * (field descriptors), the least of `states` (int32) where its value & 7 is
 * `published`; -1 where there is none. */
static PyObject *py_first_published(PyObject *self, PyObject *args)
{
    PyObject *states_o, *data_o, *fences_o;
    Py_ssize_t rec;
    int published;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOnOi", &states_o, &data_o, &rec, &fences_o, &published))
        return NULL;
    Py_buffer sb;
    if (get_buf(states_o, &sb, 0, "il", "states") < 0)
        return NULL;
    Records r;
    memset(&r, 0, sizeof r);
    int32_t *best = NULL;
    PyObject *res = NULL;
    if (sb.itemsize != 4) {
        PyErr_SetString(PyExc_TypeError, "states: 32-bit ints");
        goto done;
    }
    const int32_t *states = sb.buf;
    Py_ssize_t count = sb.len / 4;
    int64_t n = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        if (states[k] < 0) {
            PyErr_SetString(PyExc_ValueError, "states: a negative id");
            goto done;
        }
        if (states[k] + 1 > n)
            n = states[k] + 1;
    }
    if (records_get(&r, data_o, rec, n, fences_o) < 0)
        goto done;
    if (!(best = malloc((r.nf + 1) * sizeof *best))) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t f = 0; f < r.nf; f++)
        best[f] = -1;
    for (Py_ssize_t k = 0; k < count; k++) {
        int32_t i = states[k];
        for (Py_ssize_t f = 0; f < r.nf; f++)
            if ((field(r.d + (int64_t)i * rec, r.f + 3 * f) & 7) == published
                && (best[f] < 0 || i < best[f]))
                best[f] = i;
    }
    if (!(res = PyList_New(r.nf)))
        goto done;
    for (Py_ssize_t f = 0; f < r.nf; f++) {
        PyObject *v = PyLong_FromLong(best[f]);
        if (!v) {
            Py_CLEAR(res);
            goto done;
        }
        PyList_SET_ITEM(res, f, v);
    }
done:
    free(best);
    records_release(&r);
    PyBuffer_Release(&sb);
    return res;
}

static PyMethodDef methods[] = {
    {"enabled", py_enabled, METH_VARARGS, "Per state, the actors with an edge out of it."},
    {"never_moves", py_never_moves, METH_VARARGS,
     "Per state, the actors enabled in no state reachable from it."},
    {"without", py_without, METH_VARARGS, "masks &= ~minus; the states with a mask left."},
    {"unsignalled", py_unsignalled, METH_VARARGS,
     "Live final states and the least state of every fair cycle."},
    {"finished", py_finished, METH_VARARGS, "Per state, the actors at rest."},
    {"timed_waits", py_timed_waits, METH_VARARGS,
     "(state, actor) where a stuck actor stands at a timed wait."},
    {"places", py_places, METH_VARARGS, "Of some states, the first of each deadlock place."},
    {"first_published", py_first_published, METH_VARARGS,
     "Per fence, the least of some states where it is published."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_graph", "The whole-graph analyses of modelcheck, in C.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__graph(void)
{
    return PyModule_Create(&module);
}
