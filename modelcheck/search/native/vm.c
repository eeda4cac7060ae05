/* The native search core: a generic virtual machine over the instruction
 * tables that `System` compiles (flattened into int arrays by
 * modelcheck/search/native/__init__.py), running the breadth-first search
 * of modelcheck/search/explorer.py: successor generation, the visited store
 * (bit-packed records in one open-addressing table) and the graph arrays.
 *
 * Every instruction here mirrors one class of modelcheck/semantics/; the
 * Python classes stay the reference (tests/test_native.py holds both equal).
 * No global state: everything lives in one `VM` per call.
 *
 * A state is a vector of W int32 slots: one per flat component of the
 * Python tuple, and for each nested one (hook stacks, slot holders, queues,
 * lock extras, ww ages) a length followed by `cap` elements, zero-padded, so
 * that equal tuples give equal vectors.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sym.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* The visited table is probed at random all over: on transparent huge
 * pages a probe costs its cache miss without a page walk beside it.  The
 * table is written whole as soon as it is made, so this costs no memory. */
static uint64_t *table_alloc(size_t n)
{
    void *p = NULL;
    size_t bytes = n * sizeof(uint64_t), huge = (size_t)1 << 21;
    if (bytes >= huge) {
        if (posix_memalign(&p, huge, bytes))
            return NULL;
#if defined(MADV_HUGEPAGE)
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    } else
        p = malloc(bytes);
    return p;
}

/* scalars, in the order native/__init__.py's SCALARS lists them */
enum { W, A, NCODE, NLOCKS, NFENCES, NENGINES, NWQ, NIRQS, NRESVS,
       C_PC, C_STK, C_LK, C_FN, C_RV, C_EN, C_VR, C_IRQ, C_WQ, C_US, C_US_N, C_XL, C_WW, C_HO,
       C_IRQ_ON, C_IRQ_OFF, MMAP, SLEEPCHK, MAXOUT, NINV, NREACH, MAXF, MAXSTATES, NSIZE,
       REC, RED, TRIAL, SAMPLE, C_FB, FLUSH, EARLY, SYM, NSCALARS };

/* the arrays, in the order of ARRAYS there */
enum { AR_OFF, AR_CAP, AR_CODE, AR_POOL, AR_ACTORS, AR_LOCKS, AR_FENCES, AR_ENGINES, AR_WQS,
       AR_EVS, AR_RESVS, AR_SPINS, AR_ACQ, AR_INVS, AR_REACH, AR_INIT, AR_BITS, AR_CONF, AR_CPOOL, AR_LO,
       AR_SYM, NARRAYS };

/* instruction record */
enum { I_OP, I_NXT, I_SITE, I_SLEEP, I_SCOPE, I_CALLS, I_FS, I_FSF, I_SIG, I_X };
#define NF 20
enum { OP_LOCK = 1, OP_TRYLOCK, OP_WWBEGIN, OP_WWEND, OP_UNLOCK, OP_SIGNAL, OP_WAIT, OP_WOKEN,
       OP_WAITANY, OP_PUBLISH, OP_INTERRUPT, OP_ALLOC, OP_MMAPW, OP_FAULT, OP_HOOKRET,
       OP_FENCESITE, OP_START, OP_ACQUIRE, OP_RELEASE, OP_ASSIGN, OP_AWAIT, OP_ASSERT,
       OP_BRANCH, OP_CHOOSE, OP_JUMP, OP_IRQFIRE, OP_QUEUEWORK, OP_WORKSTART, OP_FLUSHWORK,
       OP_CANCELWORK, OP_CANCELWAIT, OP_FLUSHWQ, OP_FLUSHWAIT };
/* actor record */
enum { AC_KIND, AC_ENGINE, AC_WQ, AC_PREEMPT, AC_START, AC_DEPS, AC_NDEPS, AC_IRQ, AC_CW,
       AC_NCW };
#define NAR 10
enum { K_THREAD, K_JOB, K_WORK, K_IRQ };
/* fence record */
enum { FE_KIND, FE_PARTS, FE_NPARTS, FE_AFTER, FE_NAFTER, FE_CONT, FE_NCONT, FE_SIGSITE,
       FE_SIGENTRY, FE_ENENTRY, FE_TPARTS, FE_NTPARTS };
#define NFR 12
/* hook events */
enum { EV_RECLAIM, EV_FORK, EV_MUNMAP, EV_FAULT };
/* expression bytecode */
enum { E_END, E_INT, E_COMP, E_SIG, E_ERR, E_PUB, E_HELD, E_DONE, E_PENDING, E_RUNNING,
       E_NOT, E_NEG, E_AND, E_OR, E_ADD, E_SUB, E_MUL, E_DIV, E_MOD, E_EQ, E_NE, E_LT, E_LE,
       E_GT, E_GE };
/* finding kinds (keys at least as fine as the Python ones) */
enum { F_RANGE = 1, F_ASSERT, F_UNLOCK, F_RELEASE, F_HELD_LOCK, F_HELD_SLOT, F_SLEEP,
       F_DEPS, F_PUBLISH };
/* events logged in search order, replayed by Python */
enum { EVT_STEP = 1, EVT_INV, EVT_REACH };
/* why a search stopped */
enum { STOP_NONE, STOP_FULL, STOP_TIME, STOP_MEMORY, STOP_INTERRUPT, STOP_OOM, STOP_CAPACITY,
       STOP_ERROR, STOP_EARLY };

#define DONE (-1)
#define NORECLAIM 1
#define MAX_READ_DEPTH 4
#define SIGNALLED 1
#define ERRORED 2
#define PUBLISHED 4
#define ENABLED 8

/* ------------------------------------------------------------ growable arrays */

typedef struct { int32_t *a; size_t n, cap; } Vec;

static int vec_grow(Vec *v)
{
    size_t cap = v->cap ? 2 * v->cap : 1024;
    int32_t *a = realloc(v->a, cap * sizeof *a);
    if (!a)
        return -1;
    v->a = a, v->cap = cap;
    return 0;
}

static inline int vec_push(Vec *v, int32_t x)
{
    if (v->n == v->cap && vec_grow(v) < 0)
        return -1;
    v->a[v->n++] = x;
    return 0;
}

/* ------------------------------------------------------------ the hash set of int vectors */

static uint64_t hash_ints(const int32_t *x, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)x[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return h;
}

/* Keys of any length: (length, ints...) end to end in `data`. */
typedef struct { Vec data; int64_t *slots; size_t mask, used; } KeySet;

static int keyset_init(KeySet *k)
{
    memset(k, 0, sizeof *k);
    k->mask = 255;
    k->slots = malloc((k->mask + 1) * sizeof *k->slots);
    if (!k->slots)
        return -1;
    for (size_t i = 0; i <= k->mask; i++)
        k->slots[i] = -1;
    return 0;
}

/* 1 if there (read only: several threads may ask at once) */
static int keyset_has(const KeySet *k, const int32_t *x, int n)
{
    size_t i = hash_ints(x, n) & k->mask;
    while (k->slots[i] >= 0) {
        const int32_t *y = k->data.a + k->slots[i];
        if (y[0] == n && !memcmp(y + 1, x, n * sizeof *x))
            return 1;
        i = (i + 1) & k->mask;
    }
    return 0;
}

/* 1 if added, 0 if there already, -1 out of memory */
static int keyset_add(KeySet *k, const int32_t *x, int n)
{
    uint64_t h = hash_ints(x, n);
    size_t i = h & k->mask;
    while (k->slots[i] >= 0) {
        const int32_t *y = k->data.a + k->slots[i];
        if (y[0] == n && !memcmp(y + 1, x, n * sizeof *x))
            return 0;
        i = (i + 1) & k->mask;
    }
    int64_t at = k->data.n;
    if (vec_push(&k->data, n) < 0)
        return -1;
    for (int j = 0; j < n; j++)
        if (vec_push(&k->data, x[j]) < 0)
            return -1;
    k->slots[i] = at;
    if (2 * ++k->used > k->mask) {
        size_t mask = 2 * k->mask + 1;
        int64_t *slots = malloc((mask + 1) * sizeof *slots);
        if (!slots)
            return -1;
        for (size_t j = 0; j <= mask; j++)
            slots[j] = -1;
        for (size_t j = 0; j <= k->mask; j++) {
            if (k->slots[j] < 0)
                continue;
            const int32_t *y = k->data.a + k->slots[j];
            size_t p = hash_ints(y + 1, y[0]) & mask;
            while (slots[p] >= 0)
                p = (p + 1) & mask;
            slots[p] = k->slots[j];
        }
        free(k->slots);
        k->slots = slots, k->mask = mask;
    }
    return 1;
}

static void keyset_free(KeySet *k)
{
    free(k->data.a);
    free(k->slots);
}

/* keyset_add, or with defer set, the same answer with k left as it is for
 * its readers: a new key goes in later; -1 out of memory */
static int keyset_add_or_defer(KeySet *k, KeySet *later, int defer, const int32_t *x, int n)
{
    if (!defer)
        return keyset_add(k, x, n);
    return keyset_has(k, x, n) ? 0 : keyset_add(later, x, n);
}

/* later's keys into k, later emptied; -1 out of memory */
static int keyset_fold(KeySet *k, KeySet *later)
{
    for (size_t at = 0; at < later->data.n; at += 1 + (size_t)later->data.a[at])
        if (keyset_add(k, later->data.a + at + 1, later->data.a[at]) < 0)
            return -1;
    later->data.n = 0, later->used = 0;
    for (size_t i = 0; i <= later->mask; i++)
        later->slots[i] = -1;
    return 0;
}

/* ------------------------------------------------------------ the machine */

typedef struct {      /* a stored slot of a record */
    uint64_t mask;
    int32_t k, byte, shift, lo;
} Slot;

typedef struct {
    int32_t *t;           /* the next state */
    int timeout, nf;
    int32_t *fk;          /* nf finding keys of 3 ints */
} Out;

typedef struct {
    int32_t sc[NSCALARS];
    const int32_t *ar[NARRAYS];
    Py_ssize_t arn[NARRAYS];
    const int32_t *off, *cap, *code, *pool, *actors, *locks, *fences, *engines, *wqs, *evs;
    const int32_t *resvs, *spins, *acq;
    int nspins;
    PyObject *tick;                 /* tick(states, depth) -> stop code, every 1024 states */
    /* the store: state j packed at states + j * REC (see put_slot) */
    const int32_t *bits, *lo;           /* per slot: bits in a record (0: always lo), least value */
    uint8_t *states, *packed, *curp;   /* records; the next one; the current one */
    int32_t *boff, *scratch, *cur;      /* bit offset of each slot in a record; scratch; current */
    uint64_t *fmask;                    /* per slot: (1 << bits) - 1 */
    Slot *slots;                        /* the slots of more than 0 bits */
    int nstored;
    uint32_t hcur;
    int changed;                        /* pack_successor: some stored slot differs */
    size_t next_start;                  /* the first state of the level being built */
    size_t nstates, states_cap;
    uint32_t *hashes;
    uint64_t *table;
    size_t mask;                        /* slots - 1 */
    int sbits, segbits;                 /* 1 << sbits stripes of 1 << segbits slots */
    size_t segmask, segused[64];        /* a stripe's slots - 1; states in each */
    /* graph */
    Vec parent, via, depth, switches, offsets, edges, edge_actor, timeouts, events, locksteps;
    uint8_t *ran, *entered;         /* by pc + 1 */
    KeySet memo, findings, invs;
    /* while threads read memo and findings (search_parallel's expand runs
     * beside the merge), the keys the merge adds wait here */
    KeySet memo_later, findings_later;
    int defer;
    int *targets;                   /* reachables not yet seen: 1 */
    /* scratch */
    Out *outs, *base;               /* outcomes: MAXOUT + 1 per actor; base: the actor's */
    /* partial-order reduction (reduction.py's persistent sets, tables precomputed) */
    int red;
    size_t pruned, skipped, trial_at, saved, trial_states;
    uint8_t *sample;
    size_t nsample, sample_cap;
    int32_t *outbuf, *fkbuf, *key;
    int64_t *stack;
    int overflow;
    int load8;                          /* store_add: the table's most load, in eighths (0: 6) */
    Sym *sym;                       /* symmetry canonicalisation (sym.c), or NULL */
    int symstop;
    uint32_t symh;
    /* early-bug mode: a finding was logged (2 in EARLY: one holds at the
     * initial state); the state where no one can move, or -1 */
    int hit;
    int64_t stuck;
} VM;

#define S(s, c) ((s)[vm->off[c]])                       /* a flat component */
#define NLEN(s, c) ((s)[vm->off[c]])                    /* a nested one: its length */
#define NEL(s, c) ((s) + vm->off[c] + 1)                /* ... and its elements */
#define INS(pc) (vm->code + (size_t)(pc) * NF)
#define ACT(a) (vm->actors + (size_t)(a) * NAR)
#define FEN(f) (vm->fences + (size_t)(f) * NFR)
#define SC(x) (vm->sc[x])

/* -- nested components */
static int n_contains(VM *vm, const int32_t *s, int c, int32_t x)
{
    const int32_t *e = NEL(s, c);
    for (int i = 0; i < NLEN(s, c); i++)
        if (e[i] == x)
            return 1;
    return 0;
}

static int n_count(VM *vm, const int32_t *s, int c, int32_t x)
{
    const int32_t *e = NEL(s, c);
    int k = 0;
    for (int i = 0; i < NLEN(s, c); i++)
        k += e[i] == x;
    return k;
}

static int n_index(VM *vm, const int32_t *s, int c, int32_t x)
{
    const int32_t *e = NEL(s, c);
    for (int i = 0; i < NLEN(s, c); i++)
        if (e[i] == x)
            return i;
    return -1;
}

static void n_append(VM *vm, int32_t *t, int c, int32_t x)
{
    int n = NLEN(t, c);
    if (n >= vm->cap[c]) {
        vm->overflow = 1;
        return;
    }
    NEL(t, c)[n] = x;
    NLEN(t, c) = n + 1;
}

static void n_insert_sorted(VM *vm, int32_t *t, int c, int32_t x)
{
    int n = NLEN(t, c);
    if (n >= vm->cap[c]) {
        vm->overflow = 1;
        return;
    }
    int32_t *e = NEL(t, c);
    int i = n;
    while (i > 0 && e[i - 1] > x) {
        e[i] = e[i - 1];
        i--;
    }
    e[i] = x;
    NLEN(t, c) = n + 1;
}

static void n_remove_at(VM *vm, int32_t *t, int c, int i)
{
    int32_t *e = NEL(t, c);
    int n = NLEN(t, c);
    memmove(e + i, e + i + 1, (n - i - 1) * sizeof *e);
    e[n - 1] = 0;
    NLEN(t, c) = n - 1;
}

static void n_remove_first(VM *vm, int32_t *t, int c, int32_t x)
{
    int i = n_index(vm, t, c, x);
    if (i >= 0)
        n_remove_at(vm, t, c, i);
}

static void n_remove_all(VM *vm, int32_t *t, int c, int32_t x)
{
    int i;
    while ((i = n_index(vm, t, c, x)) >= 0)
        n_remove_at(vm, t, c, i);
}

/* lock extras: ("n", l) and ("r", l, a), encoded so that int order is tuple order */
#define XN(l) (l)
#define XR(l, a) ((1 << 24) | ((l) << 8) | (a))

/* -- the helpers System shares */
static int holds_lock(VM *vm, const int32_t *s, int l, int a)
{
    int32_t v = S(s, SC(C_LK) + l);
    return v == -(a + 1) || (v > 0 && (v >> a & 1));
}

/* HO[a], lockdep's held_locks[]: System.push_held / pop_held */
static void push_held(VM *vm, int32_t *t, int a, int l, int trylock)
{
    int depth = NLEN(t, SC(C_STK) + a), pc = S(t, SC(C_PC) + a);
    n_append(vm, t, SC(C_HO) + a,
             ((l + 1) << 8) | (depth << 2) | ((INS(pc)[I_SIG] > 0) << 1) | trylock);
}

static void pop_held(VM *vm, int32_t *t, int a, int l)
{
    int c = SC(C_HO) + a;
    for (int k = NLEN(t, c) - 1; k >= 0; k--)
        if ((NEL(t, c)[k] >> 8) - 1 == l) {
            n_remove_at(vm, t, c, k);
            return;
        }
}

static int waiting_writer(VM *vm, const int32_t *s, int l, int a)
{
    const int32_t *L = vm->locks + 3 * l, *w = vm->pool + L[1];
    for (int b = 0; b < SC(A); b++) {
        if (b == a)
            continue;
        int32_t pc = S(s, SC(C_PC) + b);
        for (int k = 0; k < L[2]; k++)
            if (w[k] == pc)
                return b;
    }
    return -1;
}

static int can_take(VM *vm, const int32_t *s, int a, int l, int shared)
{
    int32_t v = S(s, SC(C_LK) + l);
    if (!shared || v <= 0)
        return v == 0;
    if ((v >> a & 1) && n_count(vm, s, SC(C_XL), XR(l, a)) >= MAX_READ_DEPTH - 1)
        return 0;
    return waiting_writer(vm, s, l, a) < 0;
}

static void take(VM *vm, int32_t *t, int a, int l, int shared, int nested, int trylock)
{
    int32_t *v = &S(t, SC(C_LK) + l);
    if (shared && *v > 0 && (*v >> a & 1))
        n_insert_sorted(vm, t, SC(C_XL), XR(l, a));
    else if (nested)
        n_insert_sorted(vm, t, SC(C_XL), XN(l));
    *v = shared ? (*v | (1 << a)) : -(a + 1);
    push_held(vm, t, a, l, trylock);
}

static int untake(VM *vm, int32_t *t, int a, int l, int shared)
{
    int32_t *v = &S(t, SC(C_LK) + l);
    if (shared && *v > 0 && (*v >> a & 1)) {
        if (n_contains(vm, t, SC(C_XL), XR(l, a)))
            n_remove_first(vm, t, SC(C_XL), XR(l, a));
        else
            *v &= ~(1 << a);
        pop_held(vm, t, a, l);
        return 1;
    }
    if (!shared && *v == -(a + 1)) {
        *v = 0;
        pop_held(vm, t, a, l);
        n_remove_all(vm, t, SC(C_XL), XN(l));
        if (SC(NIRQS) && (S(t, SC(C_IRQ_OFF) + a) >> l & 1))
            S(t, SC(C_IRQ_OFF) + a) &= ~(1 << l);
        return 1;
    }
    return 0;
}

static int slot_free(VM *vm, const int32_t *s, int e)
{
    return NLEN(s, SC(C_EN) + e) < vm->engines[e];
}

static int holds_slot(VM *vm, const int32_t *s, int a, int e)
{
    return e >= 0 && n_contains(vm, s, SC(C_EN) + e, a);
}

static int inside(VM *vm, const int32_t *s, int a, int ev)
{
    int c = SC(C_STK) + a;
    for (int i = 0; i < NLEN(s, c); i++)
        if (INS(NEL(s, c)[i])[I_CALLS] == ev)
            return 1;
    return 0;
}

static int scope_of(VM *vm, const int32_t *s, int a, int pc)
{
    int flags = INS(pc)[I_SCOPE], c = SC(C_STK) + a;
    for (int i = 0; i < NLEN(s, c); i++)
        flags |= INS(NEL(s, c)[i])[I_SCOPE];
    return flags;
}

/* the innermost FenceSite frame of actor a, or -1 */
static int atomic_hook(VM *vm, const int32_t *s, int a)
{
    int c = SC(C_STK) + a;
    for (int i = NLEN(s, c) - 1; i >= 0; i--)
        if (INS(NEL(s, c)[i])[I_FS])
            return NEL(s, c)[i];
    return -1;
}

static int running(VM *vm, const int32_t *s, int w)
{
    int32_t pc = S(s, SC(C_PC) + w);
    return pc != DONE && pc != ACT(w)[AC_START];
}

static int pending_work(VM *vm, const int32_t *s, int w)
{
    return n_contains(vm, s, SC(C_WQ) + ACT(w)[AC_WQ], w);
}

/* System.barriers: every flush behind w's instance in state `old` (0 pending,
   1 running) goes to state `nw`, or is through with it (nw < 0) */
static void barriers(VM *vm, int32_t *t, int w, int old, int nw)
{
    if (!SC(FLUSH))
        return;
    for (int b = 0; b < SC(A); b++) {
        int c = SC(C_FB) + b;
        if (n_contains(vm, t, c, 2 * w + old)) {
            n_remove_all(vm, t, c, 2 * w + old);
            if (nw >= 0)
                n_insert_sorted(vm, t, c, 2 * w + nw);
        }
    }
}

static int irqs_off(VM *vm, const int32_t *s, int a)
{
    if (ACT(a)[AC_KIND] == K_IRQ)
        return 1;
    return S(s, SC(C_IRQ_OFF) + a) != 0 || atomic_hook(vm, s, a) >= 0;
}

static int interrupted(VM *vm, const int32_t *s, int b)
{
    for (int h = 0; h < SC(NIRQS); h++)
        if (S(s, SC(C_IRQ_ON) + h) == b)
            return 1;
    return 0;
}

static int can_host(VM *vm, const int32_t *s, int b)
{
    const int32_t *ac = ACT(b);
    int32_t pc = S(s, SC(C_PC) + b);
    if (ac[AC_KIND] == K_IRQ || pc == DONE || interrupted(vm, s, b))
        return 0;
    if ((ac[AC_KIND] == K_WORK || ac[AC_KIND] == K_JOB) && pc == ac[AC_START])
        return 0;
    return !irqs_off(vm, s, b);
}

/* -- expressions */
static int64_t eval(VM *vm, const int32_t *s, int at)
{
    const int32_t *p = vm->pool + at;
    int64_t *st = vm->stack;
    int sp = 0;
    for (;;) {
        int32_t op = *p++;
        int64_t x, y;
        switch (op) {
        case E_END:
            return st[sp - 1];
        case E_INT: st[sp++] = *p++; break;
        case E_COMP: st[sp++] = S(s, *p); p++; break;
        case E_SIG: st[sp++] = (S(s, *p) & 3) != 0; p++; break;
        case E_ERR: st[sp++] = (S(s, *p) & 3) == ERRORED; p++; break;
        case E_PUB: st[sp++] = (S(s, *p) & PUBLISHED) != 0; p++; break;
        case E_HELD: st[sp++] = S(s, *p) != 0; p++; break;
        case E_DONE: {
            int n = *p++, all = 1;
            for (int i = 0; i < n; i++)
                all &= S(s, SC(C_PC) + p[i]) == DONE;
            p += n;
            st[sp++] = all;
            break;
        }
        case E_PENDING: st[sp++] = pending_work(vm, s, *p); p++; break;
        case E_RUNNING: st[sp++] = running(vm, s, *p); p++; break;
        case E_NOT: st[sp - 1] = !st[sp - 1]; break;
        case E_NEG: st[sp - 1] = -st[sp - 1]; break;
        case E_AND: case E_OR: {
            int n = *p++, all = 1, any = 0;
            for (int i = 0; i < n; i++) {
                all &= st[sp - n + i] != 0;
                any |= st[sp - n + i] != 0;
            }
            sp -= n;
            st[sp++] = op == E_AND ? all : any;
            break;
        }
        default:
            y = st[--sp];
            x = st[sp - 1];
            switch (op) {
            case E_ADD: x = x + y; break;
            case E_SUB: x = x - y; break;
            case E_MUL: x = x * y; break;
            case E_DIV: x = y ? x / y : 0; break;
            case E_MOD: x = y ? x % y : 0; break;
            case E_EQ: x = x == y; break;
            case E_NE: x = x != y; break;
            case E_LT: x = x < y; break;
            case E_LE: x = x <= y; break;
            case E_GT: x = x > y; break;
            case E_GE: x = x >= y; break;
            }
            st[sp - 1] = x;
        }
    }
}

/* -- outcomes */
static Out *new_out(VM *vm, int *n, const int32_t *s)
{
    Out *o = &vm->base[*n];
    if (*n >= SC(MAXOUT)) {          /* never: MAXOUT bounds every instruction */
        vm->overflow = 1;
        return &vm->base[SC(MAXOUT)];
    }
    (*n)++;
    memcpy(o->t, s, SC(W) * sizeof *s);
    o->timeout = o->nf = 0;
    return o;
}

static void found(VM *vm, Out *o, int kind, int x, int y)
{
    if (o->nf >= SC(MAXF)) {
        vm->overflow = 1;
        return;
    }
    int32_t *k = o->fk + 3 * o->nf++;
    k[0] = kind, k[1] = x, k[2] = y;
}

/* System.move: actor a goes to pc; finishing or sleeping in atomic context */
static void move(VM *vm, Out *o, int a, int pc)
{
    int32_t *t = o->t;
    const int32_t *ac = ACT(a);
    S(t, SC(C_PC) + a) = pc;
    if (pc == DONE) {
        if (ac[AC_KIND] == K_JOB && holds_slot(vm, t, a, ac[AC_ENGINE]))
            n_remove_first(vm, t, SC(C_EN) + ac[AC_ENGINE], a);
        for (int l = 0; l < SC(NLOCKS); l++)
            if (holds_lock(vm, t, l, a))
                found(vm, o, F_HELD_LOCK, a, l);
        for (int e = 0; e < SC(NENGINES); e++)
            if (n_contains(vm, t, SC(C_EN) + e, a))
                found(vm, o, F_HELD_SLOT, a, e);
        if (ac[AC_KIND] == K_IRQ)
            S(t, SC(C_IRQ_ON) + ac[AC_IRQ]) = -1;
        if (ac[AC_KIND] == K_WORK)           /* its run is over: barriers behind it */
            barriers(vm, t, a, 1, -1);
        if (ac[AC_KIND] == K_WORK && n_contains(vm, t, SC(C_WQ) + ac[AC_WQ], a))
            S(t, SC(C_PC) + a) = ac[AC_START];
    } else if (SC(SLEEPCHK) && INS(pc)[I_SLEEP]) {
        int spins = 0;
        for (int k = 0; k < vm->nspins; k++)
            spins |= S(t, SC(C_LK) + vm->spins[k]) == -(a + 1);
        if (spins || atomic_hook(vm, t, a) >= 0 || ac[AC_KIND] == K_IRQ)
            found(vm, o, F_SLEEP, INS(pc)[I_SITE], 0);
    }
}

/* System.call: enter an event's hooks */
static void call(VM *vm, Out *o, int a, int site, int ev)
{
    n_append(vm, o->t, SC(C_STK) + a, site);
    move(vm, o, a, vm->evs[ev]);
}

static int fence_entry(VM *vm, int ev)
{
    return vm->evs[ev];
}

/* callbacks.enable_first: the first pending fence (or a part) whose
 * enable_signaling has not run runs it; 1 if so */
static int enable_first(VM *vm, const int32_t *s, int a, const int32_t *sites, int nsites,
                        int f, Out *outs, int *n)
{
    const int32_t *fe = FEN(f);
    for (int k = -1; k < fe[FE_NTPARTS]; k++) {
        int g = k < 0 ? f : vm->pool[fe[FE_TPARTS] + k];
        int site = -1;
        for (int j = 0; j < nsites; j++)
            if (sites[2 * j] == g)
                site = sites[2 * j + 1];
        if (site >= 0 && !(S(s, SC(C_FN) + g) & (3 | ENABLED))) {
            Out *o = new_out(vm, n, s);
            S(o->t, SC(C_FN) + g) |= ENABLED;
            n_append(vm, o->t, SC(C_STK) + a, site);
            move(vm, o, a, fence_entry(vm, INS(site)[I_CALLS]));
            return 1;
        }
    }
    return 0;
}

/* the first fence a Wait record waits for that is unsignalled, -1 if none */
static int wait_pending(VM *vm, const int32_t *s, const int32_t *x)
{
    if (x[0] >= 0)
        return S(s, SC(C_FN) + x[0]) & 3 ? -1 : x[0];
    int32_t mask = S(s, x[1]);
    for (int f = 0; mask; f++, mask >>= 1)
        if ((mask & 1) && !(S(s, SC(C_FN) + f) & 3))
            return f;
    return -1;
}

static int backoff(VM *vm, const int32_t *s, int a, int pc, const int32_t *x, Out *outs, int *n)
{
    int restart = x[5];
    if (restart < 0)
        return 0;
    int c = SC(C_WW), me = n_index(vm, s, c, a), mine = 0;
    for (int r = 0; r < SC(NRESVS); r++)
        mine |= S(s, SC(C_LK) + vm->resvs[r]) == -(a + 1);
    if (me < 0 || !mine)
        return 0;
    const int32_t *ids = vm->pool + x[0];
    for (int k = 0; k < x[1]; k++) {
        int32_t v = S(s, SC(C_LK) + ids[k]);
        if (v < 0 && -v - 1 != a) {
            int older = n_index(vm, s, c, -v - 1);
            if (older >= 0 && older < me) {
                Out *o = new_out(vm, n, s);
                for (int r = 0; r < SC(NRESVS); r++)
                    if (S(s, SC(C_LK) + vm->resvs[r]) == -(a + 1)) {
                        S(o->t, SC(C_LK) + vm->resvs[r]) = 0;
                        pop_held(vm, o->t, a, vm->resvs[r]);
                    }
                move(vm, o, a, restart);
                return 1;
            }
        }
    }
    (void)pc;
    return 0;
}

/* One actor's step from s: its outcomes in outs, their number returned. */
static int step(VM *vm, const int32_t *s, int a, int pc)
{
    const int32_t *I = INS(pc), *x = I + I_X;
    Out *outs = vm->base, *o;
    int n = 0, nxt = I[I_NXT];
    const int32_t *ac = ACT(a);
    switch (I[I_OP]) {
    case OP_LOCK: {                  /* x: ids, nids, shared, nested, irqsave, ww_restart, one */
        const int32_t *ids = vm->pool + x[0];
        if (x[6] >= 0) {
            if (S(s, x[6]))
                return backoff(vm, s, a, pc, x, outs, &n), n;
            o = new_out(vm, &n, s);
            S(o->t, x[6]) = -(a + 1);
            push_held(vm, o->t, a, ids[0], 0);
            move(vm, o, a, nxt);
            return n;
        }
        for (int k = 0; k < x[1]; k++)
            if (!can_take(vm, s, a, ids[k], x[2]))
                return backoff(vm, s, a, pc, x, outs, &n), n;
        o = new_out(vm, &n, s);
        for (int k = 0; k < x[1]; k++) {
            take(vm, o->t, a, ids[k], x[2], x[3], 0);
            if (x[4] && SC(NIRQS))
                S(o->t, SC(C_IRQ_OFF) + a) |= 1 << ids[k];
        }
        move(vm, o, a, nxt);
        return n;
    }
    case OP_TRYLOCK:                 /* x: l, shared, else */
        o = new_out(vm, &n, s);
        if (can_take(vm, s, a, x[0], x[1])) {
            take(vm, o->t, a, x[0], x[1], 0, 1);
            move(vm, o, a, nxt);
        } else
            move(vm, o, a, x[2]);
        return n;
    case OP_WWBEGIN:
        o = new_out(vm, &n, s);
        n_remove_all(vm, o->t, SC(C_WW), a);
        n_append(vm, o->t, SC(C_WW), a);
        push_held(vm, o->t, a, -1, 0);
        move(vm, o, a, nxt);
        return n;
    case OP_WWEND:
        o = new_out(vm, &n, s);
        n_remove_all(vm, o->t, SC(C_WW), a);
        pop_held(vm, o->t, a, -1);
        move(vm, o, a, nxt);
        return n;
    case OP_UNLOCK: {                /* x: objs, nobjs, shared */
        o = new_out(vm, &n, s);
        for (int k = 0; k < x[1]; k++) {
            int l = vm->pool[x[0] + k];
            if (!untake(vm, o->t, a, l, x[2]))
                found(vm, o, F_UNLOCK, pc, l);
        }
        move(vm, o, a, nxt);
        return n;
    }
    case OP_SIGNAL: {                /* x: f, error, quick */
        int f = x[0], at = SC(C_FN) + f;
        o = new_out(vm, &n, s);
        if (S(s, at) & 3) {
            move(vm, o, a, nxt);
            return n;
        }
        int32_t *t = o->t;
        S(t, at) |= x[1] ? ERRORED : SIGNALLED;
        int fired[64], nfired = 0;
        fired[nfired++] = f;
        if (!x[2]) {                 /* fire_containers */
            const int32_t *fe = FEN(f);
            for (int k = 0; k < fe[FE_NCONT]; k++) {
                int c = vm->pool[fe[FE_CONT] + k];
                if (S(t, SC(C_FN) + c) & 3)
                    continue;
                const int32_t *fc = FEN(c);
                int any = 0, all = 1, err = 0;
                for (int j = 0; j < fc[FE_NPARTS]; j++) {
                    int st = S(t, SC(C_FN) + vm->pool[fc[FE_PARTS] + j]) & 3;
                    any |= st != 0, all &= st != 0, err |= st == ERRORED;
                }
                if (fc[FE_KIND] == 2 ? any : all) {
                    S(t, SC(C_FN) + c) |= err ? ERRORED : SIGNALLED;
                    if (nfired < 64)
                        fired[nfired++] = c;
                    else
                        vm->overflow = 1;
                }
            }
        }
        const int32_t *fe = FEN(f);
        for (int k = 0; k < fe[FE_NAFTER]; k++)
            if (!(S(s, SC(C_FN) + vm->pool[fe[FE_AFTER] + k]) & 3)) {
                found(vm, o, F_DEPS, pc, f);
                break;
            }
        int cbs[64], ncbs = 0;
        for (int k = 0; k < nfired; k++)
            if (FEN(fired[k])[FE_SIGSITE] >= 0)
                cbs[ncbs++] = fired[k];
        if (ncbs) {                  /* run_callbacks */
            n_append(vm, t, SC(C_STK) + a, pc);
            for (int k = ncbs - 1; k >= 0; k--)
                n_append(vm, t, SC(C_STK) + a, FEN(cbs[k])[FE_SIGSITE]);
            move(vm, o, a, FEN(cbs[0])[FE_SIGENTRY]);
        } else
            move(vm, o, a, nxt);
        return n;
    }
    case OP_WAIT: {                  /* x: fence, mask comp, mode, else, plain, sites, nsites, woken */
        if (x[4] && !x[6]) {
            if (S(s, SC(C_FN) + x[0]) & 3)
                move(vm, new_out(vm, &n, s), a, nxt);
            return n;
        }
        int f = wait_pending(vm, s, x);
        if (f < 0) {
            move(vm, new_out(vm, &n, s), a, nxt);
            return n;
        }
        if (x[6] && enable_first(vm, s, a, vm->pool + x[5], x[6], f, outs, &n))
            return n;
        if (x[4])
            return n;
        if (x[2] == 2) {
            o = new_out(vm, &n, s);
            move(vm, o, a, nxt);
            o->timeout = 1;
        } else if (x[2] == 1 && S(s, SC(C_IRQ)))
            move(vm, new_out(vm, &n, s), a, x[3]);
        return n;
    }
    case OP_WOKEN:
    case OP_JUMP:
        move(vm, new_out(vm, &n, s), a, nxt);
        return n;
    case OP_WAITANY:                 /* x: pairs (fence, pc), npairs */
        move(vm, new_out(vm, &n, s), a, nxt);
        for (int k = 0; k < x[1]; k++) {
            const int32_t *pr = vm->pool + x[0] + 2 * k;
            if ((S(s, SC(C_FN) + pr[0]) & 7) == PUBLISHED)
                move(vm, new_out(vm, &n, s), a, pr[1]);
        }
        return n;
    case OP_PUBLISH: {               /* x: f, r (lock or -1), resv, usage index */
        int f = x[0];
        o = new_out(vm, &n, s);
        S(o->t, SC(C_FN) + f) |= PUBLISHED;
        if (x[1] >= 0) {
            S(o->t, SC(C_RV) + x[2]) |= 1 << f;
            if (SC(C_US_N))
                for (int j = x[3]; j < 3; j++)
                    S(o->t, SC(C_US) + 3 * x[2] + j) |= 1 << f;
            if (S(s, SC(C_LK) + x[1]) != -(a + 1))
                found(vm, o, F_PUBLISH, pc, 0);
        }
        move(vm, o, a, nxt);
        return n;
    }
    case OP_INTERRUPT:               /* x: on */
        o = new_out(vm, &n, s);
        S(o->t, SC(C_IRQ)) = x[0];
        if (x[0])
            for (int b = 0; b < SC(A); b++) {
                int32_t pb = S(s, SC(C_PC) + b);
                if (b == a || pb == DONE)
                    continue;
                const int32_t *J = INS(pb);
                if (J[I_OP] == OP_WAIT && J[I_X + 2] == 1 && wait_pending(vm, s, J + I_X) >= 0)
                    S(o->t, SC(C_PC) + b) = J[I_X + 7];
            }
        move(vm, o, a, nxt);
        return n;
    case OP_ALLOC:                   /* x: calls */
        move(vm, new_out(vm, &n, s), a, nxt);
        if (x[0] && !inside(vm, s, a, EV_RECLAIM) && !(scope_of(vm, s, a, pc) & NORECLAIM))
            call(vm, new_out(vm, &n, s), a, pc, EV_RECLAIM);
        return n;
    case OP_MMAPW:                   /* x: calls, event */
        if (!can_take(vm, s, a, SC(MMAP), 0))
            return 0;
        o = new_out(vm, &n, s);
        if (!x[0]) {
            move(vm, o, a, nxt);
            return n;
        }
        take(vm, o->t, a, SC(MMAP), 0, 0, 0);
        call(vm, o, a, pc, x[1]);
        return n;
    case OP_FAULT:                   /* x: calls */
        o = new_out(vm, &n, s);
        if (!x[0] || inside(vm, s, a, EV_FAULT)) {
            move(vm, o, a, nxt);
            return n;
        }
        if (ac[AC_PREEMPT] && holds_slot(vm, s, a, ac[AC_ENGINE]))
            n_remove_first(vm, o->t, SC(C_EN) + ac[AC_ENGINE], a);
        call(vm, o, a, pc, EV_FAULT);
        return n;
    case OP_HOOKRET: {               /* x: event, chained */
        int c = SC(C_STK) + a, depth = NLEN(s, c);
        const int32_t *stk = NEL(s, c);
        if (x[1]) {                  /* callbacks_return */
            int top = stk[depth - 2];
            o = new_out(vm, &n, s);
            if (INS(top)[I_FS]) {
                n_remove_at(vm, o->t, c, depth - 1);
                move(vm, o, a, fence_entry(vm, INS(top)[I_CALLS]));
            } else {
                n_remove_at(vm, o->t, c, depth - 1);
                n_remove_at(vm, o->t, c, depth - 2);
                move(vm, o, a, INS(top)[I_NXT]);
            }
            return n;
        }
        int site = stk[depth - 1];
        if (x[0] == EV_FAULT) {
            int e = ac[AC_ENGINE];
            if (ac[AC_PREEMPT] && e >= 0 && !holds_slot(vm, s, a, e) && !slot_free(vm, s, e))
                return 0;
        }
        o = new_out(vm, &n, s);
        n_remove_at(vm, o->t, c, depth - 1);
        if (x[0] == EV_FORK || x[0] == EV_MUNMAP) {
            S(o->t, SC(C_LK) + SC(MMAP)) = 0;
            pop_held(vm, o->t, a, SC(MMAP));
        }
        else if (x[0] == EV_FAULT) {
            int e = ac[AC_ENGINE];
            if (ac[AC_PREEMPT] && e >= 0 && !holds_slot(vm, s, a, e))
                n_insert_sorted(vm, o->t, SC(C_EN) + e, a);
        }
        move(vm, o, a, INS(site)[I_NXT]);
        return n;
    }
    case OP_START: {                 /* x: engine, sites, nsites */
        int e = x[0];
        const int32_t *deps = vm->pool + ac[AC_DEPS];
        int first = -1;
        for (int k = 0; k < ac[AC_NDEPS] && first < 0; k++)
            if (!(S(s, SC(C_FN) + deps[k]) & 3))
                first = deps[k];
        if (first >= 0) {
            if (x[2])
                enable_first(vm, s, a, vm->pool + x[1], x[2], first, outs, &n);
            return n;
        }
        if (!slot_free(vm, s, e))
            return 0;
        o = new_out(vm, &n, s);
        n_insert_sorted(vm, o->t, SC(C_EN) + e, a);
        move(vm, o, a, nxt);
        return n;
    }
    case OP_ACQUIRE:                 /* x: engine */
        if (!slot_free(vm, s, x[0]))
            return 0;
        o = new_out(vm, &n, s);
        n_insert_sorted(vm, o->t, SC(C_EN) + x[0], a);
        move(vm, o, a, nxt);
        return n;
    case OP_RELEASE:
        o = new_out(vm, &n, s);
        if (!holds_slot(vm, s, a, x[0]))
            found(vm, o, F_RELEASE, pc, x[0]);
        else
            n_remove_first(vm, o->t, SC(C_EN) + x[0], a);
        move(vm, o, a, nxt);
        return n;
    case OP_ASSIGN: {                /* x: var, lo, hi, expr */
        int64_t v = eval(vm, s, x[3]);
        o = new_out(vm, &n, s);
        if (v < x[1] || v > x[2]) {
            found(vm, o, F_RANGE, pc, 0);
            v = v < x[1] ? x[1] : x[2];
        }
        S(o->t, SC(C_VR) + x[0]) = (int32_t)v;
        move(vm, o, a, nxt);
        return n;
    }
    case OP_AWAIT:
        if (eval(vm, s, x[0]))
            move(vm, new_out(vm, &n, s), a, nxt);
        return n;
    case OP_ASSERT:
        o = new_out(vm, &n, s);
        if (!eval(vm, s, x[0]))
            found(vm, o, F_ASSERT, pc, 0);
        move(vm, o, a, nxt);
        return n;
    case OP_BRANCH:                  /* x: expr, then */
        move(vm, new_out(vm, &n, s), a, eval(vm, s, x[0]) ? x[1] : nxt);
        return n;
    case OP_CHOOSE:                  /* x: targets, ntargets */
        for (int k = 0; k < x[1]; k++)
            move(vm, new_out(vm, &n, s), a, vm->pool[x[0] + k]);
        return n;
    case OP_IRQFIRE: {               /* x: handler index */
        int any = 0;
        for (int b = 0; b < SC(A); b++)
            if (can_host(vm, s, b)) {
                o = new_out(vm, &n, s);
                S(o->t, SC(C_IRQ_ON) + x[0]) = b;
                move(vm, o, a, nxt);
                any = 1;
            }
        if (!any)
            move(vm, new_out(vm, &n, s), a, nxt);
        return n;
    }
    case OP_QUEUEWORK: {             /* x: w, q, ordered */
        int w = x[0], q = SC(C_WQ) + x[1];
        o = new_out(vm, &n, s);
        if (n_contains(vm, s, q, w)) {
            move(vm, o, a, nxt);
            return n;
        }
        const int32_t *aw = ACT(w), *cw = vm->pool + aw[AC_CW];
        for (int b = 0; b < SC(A); b++)
            for (int k = 0; k < aw[AC_NCW]; k++)
                if (S(s, SC(C_PC) + b) == cw[k]) {
                    move(vm, o, a, nxt);
                    return n;
                }
        if (x[2])
            n_append(vm, o->t, q, w);
        else
            n_insert_sorted(vm, o->t, q, w);
        if (S(s, SC(C_PC) + w) == DONE)
            S(o->t, SC(C_PC) + w) = aw[AC_START];
        move(vm, o, a, nxt);
        return n;
    }
    case OP_WORKSTART: {             /* x: q, ordered, items, nitems */
        int q = SC(C_WQ) + x[0];
        if (x[1]) {
            for (int k = 0; k < x[3]; k++) {
                int b = vm->pool[x[2] + k];
                if (b != a && running(vm, s, b))
                    return 0;
            }
            if (NLEN(s, q) && NEL(s, q)[0] != a)
                return 0;
        }
        o = new_out(vm, &n, s);
        n_remove_all(vm, o->t, q, a);
        barriers(vm, o->t, a, 0, 1);
        move(vm, o, a, nxt);
        return n;
    }
    case OP_FLUSHWORK: {             /* x: w, wait pc */
        int w = x[0];
        if (S(s, SC(C_PC) + w) == DONE) {
            move(vm, new_out(vm, &n, s), a, nxt);
            return n;
        }
        o = new_out(vm, &n, s);
        n_insert_sorted(vm, o->t, SC(C_FB) + a, 2 * w + !pending_work(vm, s, w));
        move(vm, o, a, x[1]);
        return n;
    }
    case OP_FLUSHWAIT:
        if (NLEN(s, SC(C_FB) + a) == 0)
            move(vm, new_out(vm, &n, s), a, nxt);
        return n;
    case OP_CANCELWORK: {            /* x: w, q, wait pc */
        int w = x[0], q = SC(C_WQ) + x[1];
        o = new_out(vm, &n, s);
        if (n_contains(vm, s, q, w)) {
            n_remove_all(vm, o->t, q, w);
            barriers(vm, o->t, w, 0, -1);     /* a barrier behind the pending w runs */
        }
        if (S(s, SC(C_PC) + w) == ACT(w)[AC_START])
            S(o->t, SC(C_PC) + w) = DONE;
        move(vm, o, a, running(vm, s, w) ? x[2] : nxt);
        return n;
    }
    case OP_CANCELWAIT:
        if (!running(vm, s, x[0]))
            move(vm, new_out(vm, &n, s), a, nxt);
        return n;
    case OP_FLUSHWQ: {               /* x: items, nitems, wait pc */
        int busy = 0;
        for (int k = 0; k < x[1]; k++)
            busy |= S(s, SC(C_PC) + vm->pool[x[0] + k]) != DONE;
        o = new_out(vm, &n, s);
        if (busy) {
            for (int k = 0; k < x[1]; k++) {
                int w = vm->pool[x[0] + k];
                if (S(s, SC(C_PC) + w) != DONE)
                    n_insert_sorted(vm, o->t, SC(C_FB) + a, 2 * w + !pending_work(vm, s, w));
            }
        }
        move(vm, o, a, busy ? x[2] : nxt);
        return n;
    }
    }
    vm->overflow = 1;                /* a FenceSite or an unknown op: never a step */
    return 0;
}

/* ------------------------------------------------------------ the store */

/* A record holds slot k as t[k] - lo[k] in bits[k] bits at bit boff[k],
 * little-endian; each slot lies in the 8 bytes from its first byte, and
 * record buffers have 8 bytes of slack after them. */
static inline void put_slot(VM *vm, uint8_t *rec, int k, int32_t x)
{
    uint8_t *at = rec + (vm->boff[k] >> 3);
    int sh = vm->boff[k] & 7;
    uint64_t v, m = vm->fmask[k] << sh;
    memcpy(&v, at, 8);
    v = (v & ~m) | (((uint64_t)((int64_t)x - vm->lo[k]) << sh) & m);
    memcpy(at, &v, 8);
}

static void pack(VM *vm, const int32_t *t, uint8_t *out)
{
    memset(out, 0, SC(REC) + 8);
    for (int k = 0; k < SC(W); k++)
        if (vm->bits[k])
            put_slot(vm, out, k, t[k]);
}

/* Branch-free: an 8-byte load, a shift and a mask per stored slot; the
 * slots of 0 bits (always lo) are set once, in the buffers that unpack
 * writes into, and never touched here. */
static void unpack(VM *vm, const uint8_t *in, int32_t *t)
{
    const Slot *sl = vm->slots;
    for (int n = vm->nstored; n > 0; n--, sl++) {
        uint64_t v;
        memcpy(&v, in + sl->byte, 8);
        t[sl->k] = (int32_t)((int64_t)((v >> sl->shift) & sl->mask) + sl->lo);
    }
}

/* A state's hash is the sum of one mixed word per stored slot (Zobrist
 * style), so a successor's hash follows from its parent's and the few slots
 * the step changed. */
static inline uint32_t mix(int k, int32_t v)
{
    uint64_t x = ((uint64_t)(uint32_t)k << 32) ^ (uint32_t)v;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 29;
    return (uint32_t)x;
}

static uint32_t hash_state(VM *vm, const int32_t *t)
{
    uint32_t h = 0;
    for (int k = 0; k < SC(W); k++)
        if (vm->bits[k])
            h += mix(k, t[k]);
    return h;
}

/* The successor t of the current state (unpacked in vm->cur, packed in
 * vm->curp, hash vm->hcur): packed into vm->packed by patching the parent's
 * record where the two differ, compared 8 bytes at a time; its hash. */
static inline uint32_t patch(VM *vm, uint8_t *out, const int32_t *t, const int32_t *cur, int j)
{
    if (!vm->bits[j] || t[j] == cur[j])
        return 0;
    vm->changed = 1;
    put_slot(vm, out, j, t[j]);
    return mix(j, t[j]) - mix(j, cur[j]);
}

static uint32_t pack_successor(VM *vm, const int32_t *t, uint8_t *out)
{
    const int32_t *cur = vm->cur;
    uint32_t h = vm->hcur;
    int nw = SC(W), k = 0;
    memcpy(out, vm->curp, SC(REC));
    vm->changed = 0;
    for (; k + 8 <= nw; k += 8) {       /* 8 slots at a time: one test when all are equal */
        uint64_t d[4];
        for (int q = 0; q < 4; q++) {
            uint64_t x, y;
            memcpy(&x, t + k + 2 * q, 8);
            memcpy(&y, cur + k + 2 * q, 8);
            d[q] = x ^ y;
        }
        if (!(d[0] | d[1] | d[2] | d[3]))
            continue;
        for (int q = 0; q < 4; q++) {
            if ((uint32_t)d[q])
                h += patch(vm, out, t, cur, k + 2 * q);
            if (d[q] >> 32)
                h += patch(vm, out, t, cur, k + 2 * q + 1);
        }
    }
    for (; k < nw; k++)
        h += patch(vm, out, t, cur, k);
    return h;
}

/* The visited table: open addressing, one 64-bit slot per entry holding
 * the state's hash above its number, so a probe reads the record only when
 * the hashes agree; all ones is empty.  It is cut in 1 << sbits stripes by
 * the hash's top bits, each probed within itself and at most 3/4 full, so
 * that threads can fill stripes apart (search_parallel); with one stripe,
 * as for one thread, it is a plain table. */
#define EMPTY (~(uint64_t)0)

static inline int stripe_of(const VM *vm, uint32_t h)
{
    return (int)((uint64_t)h >> (32 - vm->sbits));
}

static inline size_t slot_of(const VM *vm, uint32_t h)
{
    return (size_t)stripe_of(vm, h) << vm->segbits | (h & vm->segmask);
}

static inline size_t next_slot(const VM *vm, size_t k)
{
    return (k & ~vm->segmask) | ((k + 1) & vm->segmask);
}

/* A table of 1 << (sbits + segbits) slots, empty; -1 out of memory */
static int table_new(VM *vm, int segbits)
{
    size_t n = (size_t)1 << (vm->sbits + segbits);
    uint64_t *table = table_alloc(n);
    if (!table)
        return -1;
    memset(table, 0xff, n * sizeof *table);
    vm->table = table, vm->mask = n - 1;
    vm->segbits = segbits, vm->segmask = ((size_t)1 << segbits) - 1;
    return 0;
}

/* Twice the slots, the entries moved over */
static int table_grow(VM *vm)
{
    uint64_t *old = vm->table;
    size_t n = vm->mask + 1;
    if (table_new(vm, vm->segbits + 1) < 0) {
        vm->table = old;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t e = old[i];
        if (e == EMPTY)
            continue;
        size_t k = slot_of(vm, (uint32_t)(e >> 32));
        while (vm->table[k] != EMPTY)
            k = next_slot(vm, k);
        vm->table[k] = e;
    }
    free(old);
    return 0;
}

static int64_t store_find(VM *vm, const uint8_t *st, uint32_t h, size_t *slot)
{
    size_t w = SC(REC), k = slot_of(vm, h);
    for (;;) {
        uint64_t e = vm->table[k];
        if (e == EMPTY) {
            *slot = k;
            return -1;
        }
        if ((uint32_t)(e >> 32) == h) {
            size_t j = (uint32_t)e;
            if (!memcmp(vm->states + j * w, st, w))
                return (int64_t)j;
        }
        k = next_slot(vm, k);
    }
}

/* A new state's record and hash at the end of the store (not in the
 * table); its number, -1 out of memory */
/* Room in the store for n states in all; -1 out of memory.  (Huge pages
 * for it, as for the table, cost more in faults than they save.) */
static int store_reserve(VM *vm, size_t n)
{
    size_t cap = vm->states_cap, w = SC(REC);
    if (n <= cap)
        return 0;
    while (cap < n)
        cap = cap ? cap + cap / 2 : 4096;
    uint8_t *a = realloc(vm->states, cap * w + 8);
    uint32_t *hs = realloc(vm->hashes, cap * sizeof *hs);
    if (a)
        vm->states = a;
    if (hs)
        vm->hashes = hs;
    if (!a || !hs)
        return -1;
    vm->states_cap = cap;
    return 0;
}

static int64_t store_append(VM *vm, const uint8_t *st, uint32_t h)
{
    size_t w = SC(REC), j = vm->nstates;
    if (j == vm->states_cap && store_reserve(vm, j + 1) < 0)
        return -1;
    memcpy(vm->states + j * w, st, w);
    vm->hashes[j] = h;
    vm->nstates++;
    return (int64_t)j;
}

/* A new state, in the table at slot (store_find's) */
static int64_t store_add(VM *vm, const uint8_t *st, uint32_t h, size_t slot)
{
    int64_t j = store_append(vm, st, h);
    if (j < 0)
        return -1;
    vm->table[slot] = (uint64_t)h << 32 | (uint64_t)j;
    size_t load8 = vm->load8 ? (size_t)vm->load8 : 6;      /* eighths */
    if (8 * ++vm->segused[stripe_of(vm, h)] > load8 * (vm->segmask + 1) && table_grow(vm) < 0)
        return -1;
    return j;
}

/* ------------------------------------------------------------ the search */

/* explorer._record_lock_step's memo key: (a, stack, held, locks, extras,
 * in ww, pc, irq_off), in vm->key; its length */
static int lock_key(VM *vm, const int32_t *s, int a, int pc)
{
    int32_t *k = vm->key;
    int n = 0, c = SC(C_STK) + a;
    k[n++] = a;
    k[n++] = pc;
    k[n++] = n_contains(vm, s, SC(C_WW), a);
    k[n++] = SC(NIRQS) ? S(s, SC(C_IRQ_OFF) + a) : 0;
    k[n++] = NLEN(s, c);
    for (int j = 0; j < NLEN(s, c); j++)
        k[n++] = NEL(s, c)[j];
    c = SC(C_HO) + a;
    k[n++] = NLEN(s, c);
    for (int j = 0; j < NLEN(s, c); j++)
        k[n++] = NEL(s, c)[j];
    for (int l = 0; l < SC(NLOCKS); l++)
        k[n++] = S(s, SC(C_LK) + l);
    c = SC(C_XL);
    k[n++] = NLEN(s, c);
    for (int j = 0; j < NLEN(s, c); j++)
        k[n++] = NEL(s, c)[j];
    return n;
}

static int record_lock_step(VM *vm, const int32_t *s, int i, int a, int pc)
{
    int r = keyset_add(&vm->memo, vm->key, lock_key(vm, s, a, pc));
    if (r > 0 && (vec_push(&vm->locksteps, i) < 0 || vec_push(&vm->locksteps, a) < 0))
        return -1;
    return r < 0 ? -1 : 0;
}

static int log_event(VM *vm, int kind, int x, int src, int a, int dst)
{
    vm->hit |= kind != EVT_REACH;
    return vec_push(&vm->events, kind) | vec_push(&vm->events, x) | vec_push(&vm->events, src)
        | vec_push(&vm->events, a) | vec_push(&vm->events, dst);
}

/* One outcome k of actor a from state i (depth d - 1, switches sw at the
 * successor): its record rec with hash h, its number *jp when known (-1:
 * look it up; -2: a new state whose table entry is made elsewhere), set
 * here; its unpacked state t (NULL: unpacked here when needed). */
static inline __attribute__((always_inline)) int add_one(VM *vm, int i, int a, int k, int d, int sw, const uint8_t *rec,
                          uint32_t h, int64_t *jp, const int32_t *t, int timeout, int nf,
                          const int32_t *fk)
{
    size_t slot;
    int64_t j = *jp;
    if (j == -1)
        j = store_find(vm, rec, h, &slot);
    if (j < 0) {
        if (SC(MAXSTATES) >= 0 && (int64_t)vm->nstates >= SC(MAXSTATES))
            return STOP_FULL;
        j = *jp = j == -2 ? store_append(vm, rec, h) : store_add(vm, rec, h, slot);
        if (j < 0 || vec_push(&vm->parent, i) || vec_push(&vm->via, a)
            || vec_push(&vm->depth, d) || vec_push(&vm->switches, sw))
            return STOP_OOM;
        if ((SC(NINV) || SC(NREACH)) && !t) {
            unpack(vm, rec, vm->scratch);
            t = vm->scratch;
        }
        const int32_t *st = t;
        for (int v = 0; v < SC(NINV); v++) {
            if (!eval(vm, st, vm->ar[AR_INVS][v])) {
                int32_t key = v;
                int r = keyset_add(&vm->invs, &key, 1);
                if (r < 0 || (r > 0 && log_event(vm, EVT_INV, v, i, a, (int)j)))
                    return STOP_OOM;
            }
        }
        for (int r = 0; r < SC(NREACH); r++)
            if (vm->targets[r] && eval(vm, st, vm->ar[AR_REACH][r])) {
                vm->targets[r] = 0;
                if (log_event(vm, EVT_REACH, r, i, a, (int)j))
                    return STOP_OOM;
            }
    } else if ((size_t)j >= vm->next_start && sw < vm->switches.a[j]) {
        /* j is on the level being built (depth d): the states from
         * next_start on are, so depth[j] is not read for older ones */
        vm->parent.a[j] = i, vm->switches.a[j] = sw;
        __atomic_store_n(&vm->via.a[j], a, __ATOMIC_RELAXED);      /* expand may read it */
    }
    if (timeout && vec_push(&vm->timeouts, (int32_t)vm->edges.n))
        return STOP_OOM;
    if (vec_push(&vm->edges, (int32_t)j) || vec_push(&vm->edge_actor, a))
        return STOP_OOM;
    int fresh = 0;
    for (int f = 0; f < nf; f++) {
        int r = keyset_add_or_defer(&vm->findings, &vm->findings_later, vm->defer, fk + 3 * f, 3);
        if (r < 0)
            return STOP_OOM;
        fresh |= r;
    }
    if (fresh && log_event(vm, EVT_STEP, k, i, a, (int)j))
        return STOP_OOM;
    return STOP_NONE;
}

/* With symmetry on: successor t renamed into its class's representative
 * (sym.c), packed into vm->packed, its hash in vm->symh and the renaming's
 * id logged for its edge; NULL with vm->symstop set when that fails.  Kept out
 * of add() so that the search without symmetry runs as before. */
static __attribute__((noinline)) const int32_t *sym_successor(VM *vm, const int32_t *t)
{
    const int32_t *c;
    int perm = sym_canon(vm->sym, t, &c);
    if (perm < 0) {
        vm->symstop = perm == -1 ? STOP_OOM : STOP_CAPACITY;
        return NULL;
    }
    if (sym_edge(vm->sym, perm)) {     /* the edge's renaming (cut with the edges on a stop) */
        vm->symstop = STOP_OOM;
        return NULL;
    }
    if (c == t)
        vm->symh = pack_successor(vm, t, vm->packed);
    else {                              /* renamed: packed and hashed whole */
        pack(vm, c, vm->packed);
        vm->symh = hash_state(vm, c);
        vm->changed = 1;
    }
    return c;
}

/* explorer.explore's add(): the outcomes of actor a from state i */
static int add(VM *vm, int i, int a, Out *outs, int nouts)
{
    int d = vm->depth.a[i] + 1, last = vm->via.a[i];
    int sw = vm->switches.a[i] + (last != a && last != -1);
    for (int k = 0; k < nouts; k++) {
        Out *o = &outs[k];
        const int32_t *t = o->t;
        vm->entered[S(t, SC(C_PC) + a) + 1] = 1;
        uint32_t h;
        if (__builtin_expect(vm->sym != NULL, 0)) {
            if (!(t = sym_successor(vm, t)))
                return vm->symstop;
            h = vm->symh;
        } else
            h = pack_successor(vm, t, vm->packed);
        /* a step that changes nothing stored leads back to i: no lookup */
        int64_t j = vm->changed ? -1 : i;
        int stop = add_one(vm, i, a, k, d, sw, vm->packed, h, &j, t, o->timeout, o->nf, o->fk);
        if (stop)
            return stop;
    }
    return STOP_NONE;
}

/* System.at_rest for every actor: finished, or a job held back by its
 * dependencies (no one sleeps) */
static int all_at_rest(VM *vm, const int32_t *s)
{
    for (int a = 0; a < SC(A); a++) {
        const int32_t *ac = ACT(a);
        int pc = S(s, SC(C_PC) + a), held = 0;
        if (pc == DONE)
            continue;
        for (int k = 0; k < ac[AC_NDEPS] && pc == ac[AC_START] && !held; k++)
            held = !(S(s, SC(C_FN) + vm->pool[ac[AC_DEPS] + k]) & 3);
        if (!held)
            return 0;
    }
    return 1;
}

/* Reduction.persistent: the actors to expand at s, as a mask of `enabled` */
static uint64_t persistent(VM *vm, const int32_t *s, uint64_t enabled)
{
    const int32_t *conf = vm->ar[AR_CONF], *cp = vm->ar[AR_CPOOL];
    int A_ = SC(A), n = SC(NCODE);
    uint64_t best = enabled;
    int work[64];
    for (int seed = 0; seed < A_; seed++) {
        if (!(enabled >> seed & 1))
            continue;
        uint64_t group = (uint64_t)1 << seed;
        int nw = 0;
        work[nw++] = seed;
        while (nw) {
            int x = work[--nw], px = S(s, SC(C_PC) + x);
            int at = conf[x * n + px];
            if (at < 0) {
                vm->overflow = 1;
                return enabled;
            }
            for (int k = 0; k < cp[at]; k++) {
                int b = cp[at + 2 + 2 * k], pb = S(s, SC(C_PC) + b);
                const int32_t *bits = cp + cp[at + 3 + 2 * k];
                if (!(group >> b & 1) && pb >= 0 && (bits[pb >> 5] >> (pb & 31) & 1)) {
                    group |= (uint64_t)1 << b;
                    work[nw++] = b;
                }
            }
        }
        uint64_t chosen = group & enabled;
        if (__builtin_popcountll(chosen) < __builtin_popcountll(best)) {
            int visible = 0;
            for (int a = 0; a < A_; a++)
                if (chosen >> a & 1)
                    visible |= cp[conf[a * n + S(s, SC(C_PC) + a)] + 1];
            if (!visible) {
                best = chosen;
                if (__builtin_popcountll(best) == 1)
                    break;
            }
        }
    }
    return best;
}

/* Reduction.worth_it: the sampled left-out targets still unknown */
static int worth_it(VM *vm)
{
    size_t unseen = 0, rec = SC(REC), n = vm->nsample;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = vm->sample + k * rec;
        size_t slot;
        unpack(vm, p, vm->scratch);
        unseen += store_find(vm, p, hash_state(vm, vm->scratch), &slot) < 0;
    }
    vm->saved = vm->skipped * unseen / (n ? n : 1);
    vm->trial_states = vm->nstates;
    return vm->saved * 20 >= vm->nstates;
}

/* Reduction.note_left_out's sample: room for n more records; 1 when it is
 * full (they are only counted), -1 out of memory */
static int sample_room(VM *vm, int n)
{
    vm->skipped += n;
    if (vm->nsample >= (size_t)SC(SAMPLE))
        return 1;
    if (vm->nsample + n > vm->sample_cap) {
        size_t cap = 2 * (vm->nsample + n) + 64;
        uint8_t *p = realloc(vm->sample, cap * SC(REC) + 8);
        if (!p)
            return -1;
        vm->sample = p, vm->sample_cap = cap;
    }
    return 0;
}

/* The reduction's cycle proviso: does an edge from `from` on go back to a
 * state known before this one's expansion (below `first`)?  Then the
 * left-out steps are expanded too. */
static int steps_back(const VM *vm, size_t from, size_t first)
{
    for (size_t e = from; e < vm->edges.n; e++)
        if ((size_t)vm->edges.a[e] < first)
            return 1;
    return 0;
}

static int note_left_out(VM *vm, Out *outs, int n)
{
    size_t rec = SC(REC);
    int room = sample_room(vm, n);
    if (room)
        return room < 0 ? -1 : 0;
    for (int k = 0; k < n; k++) {
        const int32_t *t = outs[k].t;
        if (vm->sym && sym_canon(vm->sym, t, &t) < 0)
            return -1;
        pack(vm, t, vm->sample + vm->nsample++ * rec);
    }
    return 0;
}

/* Limits and progress, every 1024 states: Python's clock, as the Python
 * explorer; a stop code (the GIL held). */
static int tick(VM *vm)
{
    PyObject *r = PyObject_CallFunction(vm->tick, "nn", (Py_ssize_t)vm->nstates,
                                        (Py_ssize_t)vm->depth.a[vm->depth.n - 1]);
    if (r == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            return STOP_ERROR;
        PyErr_Clear();
        return STOP_INTERRUPT;
    }
    int stop = (int)PyLong_AsLong(r);
    Py_DECREF(r);
    if (stop == -1 && PyErr_Occurred())
        return STOP_ERROR;
    return stop;
}

/* The search, from the initial state; with `upto` set, only while the
 * reduction is on: *upto is the first state it did not expand (the number
 * of states when it finished), for search_parallel to go on from. */
static int search(VM *vm, size_t *upto)
{
    size_t w = SC(W);
    int32_t *cur = malloc(w * sizeof *cur);
    if (!cur)
        return STOP_OOM;
    for (size_t k = 0; k < w; k++)      /* what unpack() does not write */
        cur[k] = vm->lo[k];
    int stop = STOP_NONE;
    size_t i = 0;
    for (; i < vm->nstates; i++) {
        if (upto && !vm->red)
            break;
        if (SC(EARLY) && vm->hit) {     /* early-bug mode: a step showed a finding */
            stop = STOP_EARLY;
            break;
        }
        if ((i & 1023) == 0 && (stop = tick(vm)))
            break;
        if (i == 0 || vm->depth.a[i] != vm->depth.a[i - 1])
            vm->next_start = vm->nstates;       /* i starts a level: the next one starts here */
        memcpy(vm->curp, vm->states + i * SC(REC), SC(REC));   /* the store may move in add() */
        unpack(vm, vm->curp, cur);
        vm->cur = cur, vm->hcur = vm->hashes[i];
        int mover = i && !vm->sym ? vm->via.a[i] : -1, nouts[64];
        uint64_t enabled = 0;
        for (int a = 0; a < SC(A); a++) {
            int pc = S(cur, SC(C_PC) + a);
            if (pc < 0)
                continue;
            /* a work item's pc is set by whoever queues it: its start is looked at always */
            if (vm->acq[pc] && (mover < 0 || mover == a || ACT(a)[AC_KIND] == K_WORK)
                && record_lock_step(vm, cur, (int)i, a, pc)) {
                stop = STOP_OOM;
                goto out;
            }
            if (SC(NIRQS) && interrupted(vm, cur, a))
                continue;
            vm->base = vm->outs + (size_t)a * (SC(MAXOUT) + 1);
            int n = nouts[a] = step(vm, cur, a, pc);
            if (vm->overflow) {
                stop = STOP_CAPACITY;
                goto out;
            }
            if (n)
                enabled |= (uint64_t)1 << a;
        }
        if (vm->red && i == (size_t)SC(TRIAL) && !worth_it(vm)) {
            vm->red = 0;
            vm->trial_at = i;
        }
        if (SC(EARLY) && !enabled && !all_at_rest(vm, cur)) {
            vm->stuck = (int64_t)i;     /* early-bug mode: no one can move, at its depth */
            stop = vec_push(&vm->offsets, (int32_t)vm->edges.n) ? STOP_OOM : STOP_EARLY;
            break;
        }
        uint64_t keep = enabled;
        if (vm->red && __builtin_popcountll(enabled) >= 2) {
            keep = persistent(vm, cur, enabled);
            if (vm->overflow) {
                stop = STOP_CAPACITY;
                goto out;
            }
        }
        size_t first = vm->nstates, from = vm->offsets.a[vm->offsets.n - 1];
        for (int pass = 0; pass < 2; pass++) {
            uint64_t these = pass ? enabled & ~keep : keep;
            if (pass && these) {
                if (!steps_back(vm, from, first)) {
                    vm->pruned++;
                    for (int a = 0; a < SC(A); a++)
                        if ((these >> a & 1)
                            && note_left_out(vm, vm->outs + (size_t)a * (SC(MAXOUT) + 1), nouts[a])) {
                            stop = STOP_OOM;
                            goto out;
                        }
                    break;
                }
            }
            for (uint64_t m = these; m; m &= m - 1) {      /* the actors in order */
                int a = __builtin_ctzll(m);
                vm->ran[S(cur, SC(C_PC) + a) + 1] = 1;
                stop = add(vm, (int)i, a, vm->outs + (size_t)a * (SC(MAXOUT) + 1), nouts[a]);
                if (stop)
                    goto out;
            }
        }
        if (vec_push(&vm->offsets, (int32_t)vm->edges.n)) {
            stop = STOP_OOM;
            break;
        }
    }
out:
    if (upto)
        *upto = i;
    free(cur);
    return stop;
}

/* ------------------------------------------------------------ several workers
 *
 * search() on `workers` threads, with the same result to the byte, from
 * state `from` on, the reduction off.  (While it is on, whether a state's
 * left-out steps are added hangs on what the table holds after the state
 * before it: search() runs on one thread till its trial turns it off.)  The
 * states are taken in chunks; each chunk goes through these phases, on
 * every thread but for the merge:
 *  1. expand: threads take blocks of the chunk's states and do what
 *     search() does before add(): every actor's step, each successor packed
 *     and hashed, lock-step keys and finding keys the memos lack; into one
 *     buffer per block.  A successor whose record an earlier one of the block has
 *     points to it (same_in_block) and goes no further;
 *  2. insert: threads take the stripes of the table (stripe_of) in turn
 *     and walk the stripe's successors left, in the order search() adds
 *     them: the first of each new record goes in the table (its entry
 *     PROVISIONAL, naming it), the next ones point to it;
 *  3. merge, in state order, what search() does after its steps (lock steps,
 *     add_one): a first record gets the next
 *     number, the others that number, so states get search()'s numbers,
 *     parents and edges; only here is the store written or Python called
 *     (the tick, at the same states as search());
 *  4. fix: threads take the stripes in turn and write the numbers into
 *     their provisional entries.
 * While the calling thread merges a chunk, the other threads expand the
 * next one, the states stored and not expanded yet (the calling thread
 * joins them when done): so the first chunk of a run takes half the
 * states there are, and each merge has a next chunk beside it.  Nothing the
 * expand reads moves meanwhile (reserve; the memos' new keys are held back,
 * keyset_add_or_defer) but the via of a state of the next level, which the
 * expand only uses to skip lock steps recorded already (see expand).
 * With symmetry on, a thread canonicalises what it
 * expands with its own copy of sym.c's scratch (sym_canon_map) and keeps
 * the actor map beside a renamed record; the merge numbers the maps
 * (sym_perm) where search() would, so the edges' renaming ids agree.
 *
 * A block's buffer, per state: a header (HDR ints: its length, a stop code,
 * the enabled actors' mask), then in actor order the lock
 * steps to record (LOCKSTEP, a, n, key[n]) and the outcomes of each enabled
 * actor (OUTCOMES, a, pc, n, then n candidates: CHDR ints, the finding keys,
 * the packed record in RW ints). */
#include <pthread.h>

enum { H_LEN, H_STOP, H_EN, HDR = H_EN + 2 };
enum { LOCKSTEP = 1, OUTCOMES };
/* a candidate: its state's number (-1: not known yet), hash, timeout, the
 * actor's next pc, finding keys, with symmetry on the length of the actor
 * map that renamed it (0: none, else A ints after the record), the first
 * candidate of its record (insert) */
enum { CJ, CHASH, CTIME, CNEXT, CNF, CSYM, CREF, CHDR = CREF + 2 };
#define CJ_DUP (-3)             /* CJ: the record of the candidate c[CREF] ints back */
#define LOCAL 1024              /* expand: a block's candidates looked up in the block first */
#define CAND_REC(c) ((uint8_t *)((c) + CHDR + 3 * (c)[CNF]))
#define CAND_MAP(c, rw) ((c) + CHDR + 3 * (c)[CNF] + (rw))     /* CSYM ints: the renaming */
#define CAND_NEXT(c, rw) ((c) + CHDR + 3 * (c)[CNF] + (rw) + (c)[CSYM])
#define BLOCK 64                /* states per block (the tests ask for fewer) */
#define NBLOCKS 1024            /* blocks per chunk: few barriers, each a wait for the slowest thread */
#define SBITS 6                 /* stripes of the table: 64 */
#define NSTRIPES (1 << SBITS)
#define PROVISIONAL 0x80000000u
#define PREFETCH 8              /* insert: candidates looked ahead */
enum { EXPAND, INSERT, FIX };

typedef struct { size_t slot; int32_t *c; } First;
typedef struct { First *f; size_t n, cap; } Firsts;
typedef struct Pool Pool;
typedef struct {
    VM vm;                      /* a copy of the machine, with its own scratch */
    Sym *sym;                   /* its own copy of the canonicalisation's scratch, or NULL */
    Pool *pool;
    int id;
    pthread_t thread;
    int32_t *cur;
    Vec pend;                   /* expand: (offset, stripe) of the candidates to insert */
    int32_t local[LOCAL];       /* expand: the block's candidates to insert, by hash */
    uint8_t *last;              /* expand: one of the last stored records, copied (REC + 8 bytes) */
    int32_t **cands;            /* insert: a stripe's candidates */
    size_t ncands;
    size_t count[2][NSTRIPES];  /* expand: candidates not found, by chunk and stripe */
    int failed;
} Worker;

typedef struct {                /* a chunk of states and its blocks' buffers */
    int id;                     /* 0 or 1: two chunks are in hand at once */
    size_t lo, hi, nb;          /* states lo..hi-1; nb blocks */
    Vec out[NBLOCKS];
    Vec own[NBLOCKS];           /* a block's candidates to insert, by stripe, */
    int32_t at[NBLOCKS][NSTRIPES + 1];      /* stripe s from own[b].a[at[b][s]] on */
    int failed[NBLOCKS];
} Chunk;

struct Pool {
    VM *vm;
    Worker *w;
    int n;                      /* threads, the calling one being w[0] */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int gen, busy, quit, phase;
    int next;                   /* the next block or stripe to take (atomic) */
    size_t block;               /* states per block */
    Chunk *chunk;               /* the one the phase works on */
    Chunk chunks[2];
    Firsts firsts[NSTRIPES];    /* insert: the first candidates of new records */
};

/* n ints at the end of v, uninitialised; NULL out of memory */
static int32_t *vec_take(Vec *v, size_t n)
{
    while (v->n + n > v->cap)
        if (vec_grow(v) < 0)
            return NULL;
    v->n += n;
    return v->a + v->n - n;
}

static int worker_scratch(Worker *w, const VM *vm)
{
    size_t wd = SC(W), maxout = (SC(MAXOUT) + 1) * (size_t)SC(A), maxf = SC(MAXF);
    VM *c = &w->vm;
    c->outs = calloc(maxout, sizeof *c->outs);
    c->outbuf = calloc(maxout * wd, sizeof *c->outbuf);
    c->fkbuf = calloc(maxout * maxf * 3 + 3, sizeof *c->fkbuf);
    c->key = calloc(wd + SC(NLOCKS) + 8, sizeof *c->key);
    c->stack = calloc(vm->arn[AR_POOL] + 4, sizeof *c->stack);
    w->cur = malloc(wd * sizeof *w->cur);
    w->last = calloc(SC(REC) + 8, 1);
    if (vm->sym && !(w->sym = sym_clone(vm->sym)))
        return -1;
    if (!w->last || !c->outs || !c->outbuf || !c->fkbuf || !c->key || !c->stack || !w->cur)
        return -1;
    for (size_t k = 0; k < maxout; k++) {
        c->outs[k].t = c->outbuf + k * wd;
        c->outs[k].fk = c->fkbuf + k * maxf * 3;
    }
    for (size_t k = 0; k < wd; k++)     /* what unpack() does not write */
        w->cur[k] = vm->lo[k];
    return 0;
}

static void worker_free(Worker *w)
{
    VM *c = &w->vm;
    free(c->outs); free(c->outbuf); free(c->fkbuf); free(c->key); free(c->stack);
    free(w->cur); free(w->pend.a); free(w->cands); free(w->last);
    sym_free(w->sym);
}

/* The machine a worker reads in a chunk: the store, graph and memos as
 * they are now, its own scratch. */
static void worker_sync(Worker *w, const VM *vm, int chunk)
{
    VM *c = &w->vm;
    Out *outs = c->outs;
    int32_t *outbuf = c->outbuf, *fkbuf = c->fkbuf, *key = c->key;
    int64_t *stack = c->stack;
    *c = *vm;
    c->outs = outs, c->outbuf = outbuf, c->fkbuf = fkbuf, c->key = key, c->stack = stack;
    c->sym = w->sym;
    c->overflow = 0;
    memset(w->count[chunk], 0, sizeof w->count[chunk]);
}

/* The offsets of the block's candidates to insert (w->pend) into own,
 * stripe by stripe, each in the order found; -1 out of memory */
static int sort_pending(Worker *w, Vec *own, int32_t *at)
{
    size_t n = w->pend.n / 2;
    memset(at, 0, (NSTRIPES + 1) * sizeof *at);
    for (size_t k = 0; k < n; k++)
        at[w->pend.a[2 * k + 1] + 1]++;
    for (int st = 0; st < NSTRIPES; st++)
        at[st + 1] += at[st];
    own->n = 0;
    if (n && !vec_take(own, n))
        return -1;
    int32_t fill[NSTRIPES];
    memcpy(fill, at, sizeof fill);
    for (size_t k = 0; k < n; k++)
        own->a[fill[w->pend.a[2 * k + 1]]++] = w->pend.a[2 * k];
    return 0;
}

/* -1, candidate c at the end of out having been put in the block's
 * local set (w->local) if there is room, or CJ_DUP, c[CREF] set, when
 * an earlier candidate of the block has its record.  A step's successors
 * meet again a few states on (a then b, b then a) and, numbered side by
 * side, most often in the same block: phase 2 sees them once. */
static int64_t same_in_block(Worker *w, const Vec *out, int32_t *c, uint32_t h, int *nlocal)
{
    size_t rec = (size_t)w->vm.sc[REC];
    const uint8_t *r = CAND_REC(c);
    for (uint32_t q = h & (LOCAL - 1);; q = (q + 1) & (LOCAL - 1)) {
        int32_t off = w->local[q];
        if (off < 0) {
            if (2 * *nlocal < LOCAL) {          /* at most half full */
                w->local[q] = (int32_t)(c - out->a);
                ++*nlocal;
            }
            return -1;
        }
        const int32_t *x = out->a + off;
        if ((uint32_t)x[CHASH] == h && !memcmp(CAND_REC(x), r, rec)) {
            c[CREF] = (int32_t)(c - x);
            return CJ_DUP;
        }
    }
}

/* Phase 1 on states lo..hi-1, into out; the offsets there of the
 * candidates to insert into own by stripe (at); -1 out of memory */
static int expand(Worker *w, size_t lo, size_t hi, Vec *out, Vec *own, int32_t *at, size_t *count)
{
    VM *vm = &w->vm;
    int32_t *cur = w->cur;
    size_t rec = SC(REC), rw = (rec + 3) / 4;
    int nlocal = 0;
    out->n = 0;
    w->pend.n = 0;
    memset(w->local, 0xff, sizeof w->local);
    for (size_t i = lo; i < hi; i++) {
        size_t at = out->n;
        if (!vec_take(out, HDR))
            return -1;
        vm->curp = vm->states + i * rec;        /* read only while the workers run */
        if ((vm->nstates - i - 1) * rec < 8) {
            /* unpack reads 8 bytes at a time, past the last records into
             * the one the merge beside may be writing: a copy is read */
            memcpy(w->last, vm->curp, rec);
            vm->curp = w->last;
        }
        unpack(vm, vm->curp, cur);
        vm->cur = cur, vm->hcur = vm->hashes[i];
        /* The merge beside may set the via of a state of the next level
         * (add_one: a parent with fewer switches).  Either parent serves:
         * an actor that did not make the step into i stands as it stood in
         * that parent, an earlier state, whose lock steps the merge records
         * before i's; so the same keys are new at the same states. */
        int mover = i && !vm->sym ? __atomic_load_n(&vm->via.a[i], __ATOMIC_RELAXED) : -1;
        int stop = STOP_NONE;
        uint64_t enabled = 0;
        for (int a = 0; a < SC(A); a++) {
            int pc = S(cur, SC(C_PC) + a);
            if (pc < 0)
                continue;
            if (vm->acq[pc] && (mover < 0 || mover == a || ACT(a)[AC_KIND] == K_WORK)) {
                int n = lock_key(vm, cur, a, pc);
                if (!keyset_has(&vm->memo, vm->key, n)) {
                    int32_t *p = vec_take(out, 3 + (size_t)n);
                    if (!p)
                        return -1;
                    p[0] = LOCKSTEP, p[1] = a, p[2] = n;
                    memcpy(p + 3, vm->key, n * sizeof *p);
                }
            }
            if (SC(NIRQS) && interrupted(vm, cur, a))
                continue;
            vm->base = vm->outs;
            int n = step(vm, cur, a, pc);
            if (vm->overflow) {
                stop = STOP_CAPACITY;
                break;
            }
            if (!n)
                continue;
            enabled |= (uint64_t)1 << a;
            int32_t *p = vec_take(out, 4);
            if (!p)
                return -1;
            p[0] = OUTCOMES, p[1] = a, p[2] = pc, p[3] = n;
            size_t pat = (size_t)(p - out->a);
            for (int k = 0; k < n; k++) {
                Out *o = &vm->outs[k];
                /* the record is packed in place, with the 8 bytes of slack
                 * put_slot needs (taken back after), and room for a renaming */
                size_t room = vm->sym ? (size_t)SC(A) : 0;
                int32_t *c = vec_take(out, CHDR + 3 * (size_t)o->nf + rw + 2 + room);
                if (!c)
                    return -1;
                out->n -= 2 + room;
                int nf = 0;             /* the finding keys already known: no news */
                for (int f = 0; f < o->nf; f++)
                    if (!keyset_has(&vm->findings, o->fk + 3 * f, 3))
                        memcpy(c + CHDR + 3 * nf++, o->fk + 3 * f, 3 * sizeof *c);
                out->n -= 3 * (size_t)(o->nf - nf);
                c[CNF] = nf, c[CSYM] = 0;
                uint8_t *r = CAND_REC(c);
                uint32_t h;
                if (vm->sym) {          /* as sym_successor, the renaming numbered in the merge */
                    const int32_t *t;
                    int moved = sym_canon_map(vm->sym, o->t, &t);
                    if (moved < 0) {    /* the stop, the record as far as it got */
                        stop = moved == -1 ? STOP_OOM : STOP_CAPACITY;
                        out->n = (size_t)(c - out->a), out->a[pat + 3] = k;
                        break;
                    }
                    if (moved) {
                        pack(vm, t, r);
                        h = hash_state(vm, t);
                        vm->changed = 1;
                        c[CSYM] = SC(A);
                        for (int b = 0; b < SC(A); b++)
                            CAND_MAP(c, rw)[b] = sym_map(vm->sym)[b];
                        out->n += SC(A);
                    } else
                        h = pack_successor(vm, o->t, r);
                } else
                    h = pack_successor(vm, o->t, r);
                int64_t j = !vm->changed ? (int64_t)i : -1;       /* looked up in phase 2 */
                c[CJ] = (int32_t)j, c[CHASH] = (int32_t)h, c[CTIME] = o->timeout;
                c[CNEXT] = S(o->t, SC(C_PC) + a);
                if (j < 0 && (j = same_in_block(w, out, c, h, &nlocal)) == CJ_DUP)
                    c[CJ] = CJ_DUP;
                else if (j < 0) {
                    int st = stripe_of(vm, h);
                    int32_t off = (int32_t)(c - out->a);
                    count[st]++;
                    if (vec_push(&w->pend, off) < 0 || vec_push(&w->pend, st) < 0)
                        return -1;
                }
            }
            if (stop)
                break;
        }
        int32_t *h = out->a + at;
        h[H_LEN] = (int32_t)(out->n - at), h[H_STOP] = stop;
        memcpy(h + H_EN, &enabled, 8);
        if (stop)
            break;
    }
    return sort_pending(w, own, at);
}

/* Phase 2 for candidate c, in stripe fs's entries; -1 out of memory */
static int insert_one(VM *vm, Firsts *fs, int32_t *c)
{
    size_t rec = SC(REC);
    uint32_t h = (uint32_t)c[CHASH];
    const uint8_t *r = CAND_REC(c);
    for (size_t k = slot_of(vm, h);; k = next_slot(vm, k)) {
        uint64_t e = vm->table[k];
        if (e == EMPTY) {
            if (fs->n == fs->cap) {
                size_t cap = 2 * fs->cap + 1024;
                First *f = realloc(fs->f, cap * sizeof *f);
                if (!f)
                    return -1;
                fs->f = f, fs->cap = cap;
            }
            vm->table[k] = (uint64_t)h << 32 | PROVISIONAL | fs->n;
            fs->f[fs->n++] = (First){k, c};
            memcpy(c + CREF, &c, sizeof c);
            return 0;
        }
        if ((uint32_t)(e >> 32) != h)
            continue;
        uint32_t x = (uint32_t)e;
        if (x & PROVISIONAL) {
            int32_t *f = fs->f[x & ~PROVISIONAL].c;
            if (!memcmp(CAND_REC(f), r, rec)) {
                memcpy(c + CREF, &f, sizeof f);
                return 0;
            }
        } else if (!memcmp(vm->states + (size_t)x * rec, r, rec)) {
            c[CJ] = (int32_t)x;
            return 0;
        }
    }
}

/* Phase 2 on stripe st: the chunk's candidates not found there, in merge
 * order (the table as the calling thread left it); -1 out of memory */
static int insert(Worker *w, int st)
{
    Pool *p = w->pool;
    VM *vm = p->vm;
    Chunk *ch = p->chunk;
    /* the stripe's candidates, from every block, in one list: a block has
     * a few in each stripe, too few to look ahead within */
    size_t n = 0;
    for (size_t b = 0; b < ch->nb && !ch->failed[b]; b++)
        n += (size_t)(ch->at[b][st + 1] - ch->at[b][st]);
    if (n > w->ncands) {
        int32_t **c = realloc(w->cands, n * sizeof *c);
        if (!c)
            return -1;
        w->cands = c, w->ncands = n;
    }
    int32_t **cands = w->cands;
    n = 0;
    for (size_t b = 0; b < ch->nb && !ch->failed[b]; b++) {
        int32_t *out = ch->out[b].a;
        for (int32_t k = ch->at[b][st]; k < ch->at[b][st + 1]; k++)
            cands[n++] = out + ch->own[b].a[k];
    }
    /* the stripe's list and count in this thread's memory while it fills
     * them (side by side in the pool they share cache lines) */
    Firsts fs = p->firsts[st];
    int failed = 0;
    fs.n = 0;
    for (size_t k = 0; k < n; k++) {
        /* the candidates, the table and the stored records are read at
         * random: each asked for some candidates ahead, so that the misses
         * overlap (the candidate, then its slot, then the record there) */
        if (k + 3 * PREFETCH < n) {
            __builtin_prefetch(cands[k + 3 * PREFETCH]);
            __builtin_prefetch((const char *)cands[k + 3 * PREFETCH] + 64);
        }
        if (k + 2 * PREFETCH < n)
            __builtin_prefetch(&vm->table[slot_of(vm, (uint32_t)cands[k + 2 * PREFETCH][CHASH])]);
        if (k + PREFETCH < n) {
            uint32_t h = (uint32_t)cands[k + PREFETCH][CHASH];
            uint64_t e = vm->table[slot_of(vm, h)];
            uint32_t x = (uint32_t)e;
            const char *r = NULL;
            if (e == EMPTY || (uint32_t)(e >> 32) != h)
                ;
            else if (x & PROVISIONAL) {             /* a record of this chunk */
                if ((x & ~PROVISIONAL) < fs.n)      /* (not one of the next few) */
                    r = (const char *)fs.f[x & ~PROVISIONAL].c;
            } else
                r = (const char *)vm->states + (size_t)x * SC(REC);
            if (r) {
                __builtin_prefetch(r);
                __builtin_prefetch(r + 64);
                __builtin_prefetch(r + 127);
            }
        }
        if (insert_one(vm, &fs, cands[k])) {
            failed = -1;
            break;
        }
    }
    vm->segused[st] += fs.n;
    p->firsts[st] = fs;
    return failed;
}

/* Phase 4 on stripe st: the numbers the merge gave, in its provisional entries */
static void fix(Pool *p, int st)
{
    uint64_t *table = p->vm->table;
    const Firsts *fs = &p->firsts[st];
    for (size_t k = 0; k < fs->n; k++) {
        const First *f = &fs->f[k];
        table[f->slot] = (table[f->slot] & ~(uint64_t)0xffffffff) | (uint32_t)f->c[CJ];
    }
}

/* Blocks (expand) or stripes (insert, fix) taken in turn until none is
 * left: a thread that the system holds up delays the phase by one at most */
static void work(Worker *w)
{
    Pool *p = w->pool;
    Chunk *ch = p->chunk;
    size_t n = p->phase == EXPAND ? ch->nb : NSTRIPES;
    for (;;) {
        int b = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if ((size_t)b >= n)
            break;
        if (p->phase == INSERT)
            w->failed |= insert(w, b);
        else if (p->phase == FIX)
            fix(p, b);
        else {
            size_t lo = ch->lo + (size_t)b * p->block, hi = lo + p->block < ch->hi ? lo + p->block : ch->hi;
            /* the block's vectors in this thread's own memory while it
             * fills them: side by side in the pool, the blocks' counts
             * share cache lines, and two threads writing them take turns */
            Vec out = ch->out[b], own = ch->own[b];
            ch->failed[b] = expand(w, lo, hi, &out, &own, ch->at[b], w->count[ch->id]);
            ch->out[b] = out, ch->own[b] = own;
        }
    }
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    Pool *p = w->pool;
    int gen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == gen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        gen = p->gen;
        pthread_mutex_unlock(&p->mu);
        work(w);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* A phase on chunk ch begun on the other threads */
static void start(Pool *p, int phase, Chunk *ch)
{
    p->phase = phase, p->chunk = ch, p->next = 0;
    pthread_mutex_lock(&p->mu);
    p->gen++;
    p->busy = p->n - 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
}

/* The phase begun finished, the calling thread doing what is left, the GIL
 * released */
static void finish(Pool *p)
{
    Py_BEGIN_ALLOW_THREADS
    work(&p->w[0]);
    pthread_mutex_lock(&p->mu);
    while (p->busy)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    Py_END_ALLOW_THREADS
}

/* One phase on every thread */
static void run(Pool *p, int phase, Chunk *ch)
{
    start(p, phase, ch);
    finish(p);
}

/* Room in every stripe for the chunk's candidates not found; -1 out of memory */
static int make_room(Pool *p, const Chunk *ch)
{
    VM *vm = p->vm;
    for (int s = 0; s < 1 << SBITS; s++) {
        size_t n = vm->segused[s];
        for (int k = 0; k < p->n; k++)
            n += p->w[k].count[ch->id][s];
        while (4 * n > 3 * (vm->segmask + 1))
            if (table_grow(vm) < 0)
                return -1;
    }
    return 0;
}

/* add(), from a block's records */
static int add_packed(VM *vm, int i, int32_t *g)
{
    size_t rw = (SC(REC) + 3) / 4;
    int a = g[1], n = g[3], d = vm->depth.a[i] + 1, last = vm->via.a[i];
    int sw = vm->switches.a[i] + (last != a && last != -1);
    int32_t *c = g + 4;
    for (int k = 0; k < n; k++, c = CAND_NEXT(c, rw)) {
        vm->entered[c[CNEXT] + 1] = 1;
        if (vm->sym) {                  /* the edge's renaming, numbered as sym_successor does */
            int perm = c[CSYM] ? sym_perm(vm->sym, CAND_MAP(c, rw)) : 0;
            if (perm < 0 || sym_edge(vm->sym, perm))
                return STOP_OOM;
        }
        int64_t j = c[CJ];
        if (j == CJ_DUP)                /* merged before it: its number is known */
            j = (c - c[CREF])[CJ];
        else if (j < 0) {
            int32_t *first;
            memcpy(&first, c + CREF, sizeof first);
            j = first == c ? -2 : first[CJ];
        }
        int stop = add_one(vm, i, a, k, d, sw, CAND_REC(c), (uint32_t)c[CHASH], &j, NULL,
                           c[CTIME], c[CNF], c + CHDR);
        if (stop)
            return stop;
        c[CJ] = (int32_t)j;             /* for the next ones with its record */
    }
    return STOP_NONE;
}

/* search()'s work on state i after its steps (the reduction off), from
 * its records h */
static int merge(VM *vm, size_t i, int32_t *h)
{
    size_t rw = (SC(REC) + 3) / 4;
    int32_t *g[64], *p = h + HDR, *end = h + h[H_LEN];
    uint64_t enabled;
    memcpy(&enabled, h + H_EN, 8);
    while (p < end) {
        if (p[0] == LOCKSTEP) {
            int r = keyset_add_or_defer(&vm->memo, &vm->memo_later, vm->defer, p + 3, p[2]);
            if (r < 0 || (r > 0 && (vec_push(&vm->locksteps, (int32_t)i) < 0
                                    || vec_push(&vm->locksteps, p[1]) < 0)))
                return STOP_OOM;
            p += 3 + p[2];
        } else {
            g[p[1]] = p;
            int32_t *c = p + 4;
            for (int k = 0; k < p[3]; k++)
                c = CAND_NEXT(c, rw);
            p = c;
        }
    }
    if (h[H_STOP])
        return h[H_STOP];
    if (SC(EARLY) && !enabled) {
        unpack(vm, vm->states + i * SC(REC), vm->scratch);
        if (!all_at_rest(vm, vm->scratch)) {
            vm->stuck = (int64_t)i;
            return vec_push(&vm->offsets, (int32_t)vm->edges.n) ? STOP_OOM : STOP_EARLY;
        }
    }
    for (uint64_t m = enabled; m; m &= m - 1) {        /* the actors in order */
        int a = __builtin_ctzll(m);
        vm->ran[g[a][2] + 1] = 1;
        int stop = add_packed(vm, (int)i, g[a]);
        if (stop)
            return stop;
    }
    if (vec_push(&vm->offsets, (int32_t)vm->edges.n))
        return STOP_OOM;
    return STOP_NONE;
}

/* Room for n more states in the store and the per-state vectors; -1 out
 * of memory */
static int reserve(VM *vm, size_t n)
{
    size_t need = vm->nstates + n;
    if (store_reserve(vm, need) < 0)
        return -1;
    Vec *vs[] = {&vm->parent, &vm->via, &vm->depth, &vm->switches};
    for (size_t k = 0; k < sizeof vs / sizeof *vs; k++)
        while (vs[k]->cap < need)
            if (vec_grow(vs[k]) < 0)
                return -1;
    return 0;
}

/* Chunk ch: the states from lo on that are stored, as many as fit, or
 * with half set the first half of them; every thread's machine as it is now */
static void chunk_begin(Pool *p, Chunk *ch, size_t lo, int half)
{
    VM *vm = p->vm;
    size_t n = vm->nstates - lo;
    size_t block = p->block;
    if (half && n >= 2 * block)
        n = (n / 2 + block - 1) / block * block;
    size_t hi = n < block * NBLOCKS ? lo + n : lo + block * NBLOCKS;
    ch->lo = lo, ch->hi = hi, ch->nb = (hi - lo + block - 1) / block;
    for (int k = 0; k < p->n; k++)
        worker_sync(&p->w[k], vm, ch->id);
}

static int search_parallel(VM *vm, int workers, int block, size_t from)
{
    Pool *p = calloc(1, sizeof *p);
    if (!p)
        return STOP_OOM;
    int stop = STOP_NONE, started = 1;
    p->vm = vm, p->n = workers, p->block = block > 0 ? (size_t)block : BLOCK;
    p->w = calloc(workers, sizeof *p->w);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (!p->w) {
        stop = STOP_OOM;
        goto out;
    }
    for (int k = 0; k < workers; k++) {
        p->w[k].pool = p, p->w[k].id = k;
        if (worker_scratch(&p->w[k], vm)) {
            stop = STOP_OOM;
            goto out;
        }
    }
    for (; started < workers; started++)
        if (pthread_create(&p->w[started].thread, NULL, worker_main, &p->w[started]))
            break;
    p->n = started;                     /* fewer threads if the system gives no more */
    p->chunks[1].id = 1;
    Chunk *a = &p->chunks[0], *b = &p->chunks[1];
    int ahead = 0;                      /* a was expanded beside the last merge */
    for (size_t lo = from; lo < vm->nstates && !stop;) {
        if (!ahead) {
            chunk_begin(p, a, lo, 1);   /* half: the rest can go beside its merge */
            run(p, EXPAND, a);
        }
        if (make_room(p, a) < 0) {
            stop = STOP_OOM;
            break;
        }
        run(p, INSERT, a);
        for (int k = 0; k < p->n; k++)
            if (p->w[k].failed)
                stop = STOP_OOM;
        size_t fresh = 0;               /* the chunk's new states */
        for (int st = 0; st < NSTRIPES; st++)
            fresh += p->firsts[st].n;
        /* The states stored but not expanded yet are expanded by the other
         * threads while this one merges (the calling thread joins them
         * after): the store and per-state vectors made big enough first,
         * so that the merge moves none of them, and the memos' new keys
         * held back till then. */
        int beside = !stop && a->hi < vm->nstates;
        if (beside) {
            if (reserve(vm, fresh) < 0) {
                stop = STOP_OOM;
                break;
            }
            chunk_begin(p, b, a->hi, 0);
            start(p, EXPAND, b);
            vm->defer = 1;
        }
        for (size_t k = 0; lo < a->hi && !stop; k++) {
            if (a->failed[k]) {
                stop = STOP_OOM;
                break;
            }
            int32_t *h = a->out[k].a;
            for (size_t q = 0; q < p->block && lo < a->hi; q++, lo++, h += h[H_LEN]) {
                if (SC(EARLY) && vm->hit) {
                    stop = STOP_EARLY;
                    break;
                }
                if ((lo & 1023) == 0 && (stop = tick(vm)))
                    break;
                if (lo == 0 || vm->depth.a[lo] != vm->depth.a[lo - 1])
                    vm->next_start = vm->nstates;
                /* the buffers were written on other cores: ask for the
                 * lines a few states ahead (past a block's end is harmless) */
                for (int r = 0; r < 1024; r += 64)
                    __builtin_prefetch((const char *)h + 1024 + r);
                if ((stop = merge(vm, lo, h)))
                    break;
            }
        }
        if (beside) {
            finish(p);
            vm->defer = 0;
            if (keyset_fold(&vm->memo, &vm->memo_later) < 0
                || keyset_fold(&vm->findings, &vm->findings_later) < 0)
                stop = STOP_OOM;
        }
        if (!stop)
            run(p, FIX, a);
        ahead = beside;
        if (ahead) {
            Chunk *t = a;
            a = b, b = t;
        }
    }
out:
    if (p->w) {
        pthread_mutex_lock(&p->mu);
        p->quit = 1;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
        for (int k = 1; k < started; k++)
            pthread_join(p->w[k].thread, NULL);
        for (int k = 0; k < workers; k++)
            worker_free(&p->w[k]);
    }
    for (int c = 0; c < 2; c++)
        for (int b = 0; b < NBLOCKS; b++) {
            free(p->chunks[c].out[b].a);
            free(p->chunks[c].own[b].a);
        }
    for (int st = 0; st < NSTRIPES; st++)
        free(p->firsts[st].f);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->w);
    free(p);
    return stop;
}

/* ------------------------------------------------------------ Python */

/* A result array handed to Python without a copy: a Block owns the
 * malloc'd memory the search filled, exports it through the buffer
 * protocol, and frees it when the last view of it goes. */
typedef struct {
    PyObject_HEAD
    void *p;
    Py_ssize_t len;
} Block;

static int block_getbuffer(PyObject *o, Py_buffer *view, int flags)
{
    Block *b = (Block *)o;
    return PyBuffer_FillInfo(view, o, b->p ? b->p : (void *)"", b->len, 1, flags);
}

static void block_dealloc(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    free(((Block *)o)->p);
    tp->tp_free(o);
    Py_DECREF(tp);
}

static PyType_Slot block_slots[] = {
    {Py_bf_getbuffer, block_getbuffer},
    {Py_tp_dealloc, block_dealloc},
    {Py_tp_doc, "An array of the search's result, owned here (read it through memoryview)."},
    {0, NULL},
};

static PyType_Spec block_spec = {
    "modelcheck.search._vm.Block", sizeof(Block), 0, Py_TPFLAGS_DEFAULT, block_slots,
};

/* *p (len bytes) as a Block, which takes it over (*p is NULL after) */
static PyObject *block_of(PyObject *module, void **p, size_t len)
{
    PyTypeObject *tp = *(PyTypeObject **)PyModule_GetState(module);
    Block *b = PyObject_New(Block, tp);
    if (!b)
        return NULL;
    void *q = len ? realloc(*p, len) : NULL;     /* the growth slack back to the system */
    if (len && !q)
        q = *p;
    if (!len)
        free(*p);
    b->p = q, b->len = (Py_ssize_t)len;
    *p = NULL;
    return (PyObject *)b;
}

/* The actor numbers of a Vec, in place, as int8 (narrow) or int16 */
static void narrow_actors(Vec *v, int narrow)
{
    for (size_t k = 0; k < v->n; k++) {
        if (narrow)
            ((int8_t *)v->a)[k] = (int8_t)v->a[k];
        else
            ((int16_t *)v->a)[k] = (int16_t)v->a[k];
    }
}

static void vm_free(VM *vm)
{
    free(vm->states); free(vm->hashes); free(vm->table); free(vm->packed);
    free(vm->curp); free(vm->boff); free(vm->scratch); free(vm->fmask); free(vm->slots);
    Vec *vs[] = {&vm->parent, &vm->via, &vm->depth, &vm->switches, &vm->offsets, &vm->edges,
                 &vm->edge_actor, &vm->timeouts, &vm->events, &vm->locksteps};
    for (size_t k = 0; k < sizeof vs / sizeof *vs; k++)
        free(vs[k]->a);
    free(vm->ran); free(vm->entered);
    sym_free(vm->sym);
    keyset_free(&vm->memo); keyset_free(&vm->findings); keyset_free(&vm->invs);
    keyset_free(&vm->memo_later); keyset_free(&vm->findings_later);
    free(vm->targets);
    free(vm->sample);
    free(vm->outs); free(vm->outbuf); free(vm->fkbuf); free(vm->key); free(vm->stack);
}

/* A VM over the program tables (scalars, arrays: their buffers go into
 * bufs, *got of them, released by the caller), its store empty */
static int vm_init(VM *vm, Py_buffer *sc, PyObject *arrays, Py_buffer *bufs, int *got,
                   PyObject *tick)
{
    if (sc->len != NSCALARS * 4 || PyTuple_GET_SIZE(arrays) != NARRAYS) {
        PyErr_SetString(PyExc_ValueError, "program tables of another layout");
        return -1;
    }
    memcpy(vm->sc, sc->buf, sizeof vm->sc);
    for (; *got < NARRAYS; (*got)++) {
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(arrays, *got), &bufs[*got], PyBUF_SIMPLE) < 0)
            return -1;
        vm->ar[*got] = bufs[*got].buf;
        vm->arn[*got] = bufs[*got].len / 4;
    }
    vm->off = vm->ar[AR_OFF], vm->cap = vm->ar[AR_CAP], vm->code = vm->ar[AR_CODE];
    vm->pool = vm->ar[AR_POOL], vm->actors = vm->ar[AR_ACTORS], vm->locks = vm->ar[AR_LOCKS];
    vm->fences = vm->ar[AR_FENCES], vm->engines = vm->ar[AR_ENGINES], vm->wqs = vm->ar[AR_WQS];
    vm->evs = vm->ar[AR_EVS], vm->resvs = vm->ar[AR_RESVS], vm->spins = vm->ar[AR_SPINS];
    vm->nspins = (int)vm->arn[AR_SPINS], vm->acq = vm->ar[AR_ACQ];
    vm->tick = tick;
    if (SC(SYM) && !(vm->sym = sym_new(vm->ar[AR_SYM], vm->arn[AR_SYM], vm->ar[AR_OFF],
                                       vm->ar[AR_CAP], SC(W)))) {
        PyErr_SetString(PyExc_ValueError, "symmetry tables of another layout (or no memory)");
        return -1;
    }
    vm->hit = SC(EARLY) == 2, vm->stuck = -1;
    size_t w = SC(W), maxout = (SC(MAXOUT) + 1) * (size_t)SC(A), maxf = SC(MAXF);
    vm->red = SC(RED);
    vm->outs = calloc(maxout, sizeof *vm->outs);
    vm->outbuf = calloc(maxout * w, sizeof *vm->outbuf);
    vm->fkbuf = calloc(maxout * maxf * 3 + 3, sizeof *vm->fkbuf);
    vm->key = calloc(w + SC(NLOCKS) + 8, sizeof *vm->key);
    vm->bits = vm->ar[AR_BITS], vm->lo = vm->ar[AR_LO];
    vm->packed = calloc(SC(REC) + 8, 1);
    vm->curp = calloc(SC(REC) + 8, 1);
    vm->boff = calloc(w + 1, sizeof *vm->boff);
    vm->scratch = calloc(w + 1, sizeof *vm->scratch);
    vm->fmask = calloc(w + 1, sizeof *vm->fmask);
    vm->slots = calloc(w + 1, sizeof *vm->slots);
    vm->stack = calloc(vm->arn[AR_POOL] + 4, sizeof *vm->stack);
    vm->ran = calloc(SC(NCODE) + 1, 1);
    vm->entered = calloc(SC(NCODE) + 1, 1);
    vm->targets = calloc(SC(NREACH) + 1, sizeof *vm->targets);
    table_new(vm, 10 - vm->sbits);         /* vm->sbits: the caller's (0 unless set) */
    if (!vm->outs || !vm->packed || !vm->curp || !vm->boff || !vm->scratch || !vm->fmask || !vm->slots || !vm->outbuf || !vm->fkbuf || !vm->key || !vm->stack || !vm->ran
        || !vm->entered || !vm->targets || !vm->table || keyset_init(&vm->memo)
        || keyset_init(&vm->findings) || keyset_init(&vm->invs) || keyset_init(&vm->memo_later)
        || keyset_init(&vm->findings_later)) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0, at = 0; k < w; k++) {
        vm->boff[k] = (int32_t)at;
        vm->fmask[k] = vm->bits[k] ? (~(uint64_t)0 >> (64 - vm->bits[k])) : 0;
        if (vm->bits[k])
            vm->slots[vm->nstored++] = (Slot){vm->fmask[k], (int32_t)k, (int32_t)(at >> 3),
                                              (int32_t)(at & 7), vm->lo[k]};
        at += vm->bits[k];
    }
    for (size_t k = 0; k < w; k++)       /* the slots unpack leaves alone: always lo */
        if (!vm->bits[k])
            vm->scratch[k] = vm->lo[k];
    for (size_t k = 0; k < maxout; k++) {
        vm->outs[k].t = vm->outbuf + k * w;
        vm->outs[k].fk = vm->fkbuf + k * maxf * 3;
    }
    return 0;
}

/* explore(scalars: bytes, tick: callable, arrays: tuple of bytes, targets: bytes,
 *         workers: int = 1, block: int = 0) -> dict; block: states per block
 *         of a parallel search (0: BLOCK) */
static PyObject *py_explore(PyObject *self, PyObject *args)
{
    Py_buffer sc, tg, bufs[NARRAYS];
    PyObject *arrays, *tick;
    int workers = 1, block = 0;
    if (!PyArg_ParseTuple(args, "y*OO!y*|ii", &sc, &tick, &PyTuple_Type, &arrays, &tg, &workers,
                          &block))
        return NULL;
    VM *vm = calloc(1, sizeof *vm);
    PyObject *res = NULL;
    int got = 0;
    if (!vm) {
        PyErr_NoMemory();
        goto done;
    }
    vm->sbits = workers > 1 ? SBITS : 0;      /* the table in stripes for several threads */
    if (vm_init(vm, &sc, arrays, bufs, &got, tick) < 0)
        goto done;
    for (int r = 0; r < SC(NREACH) && r < tg.len; r++)
        vm->targets[r] = ((const char *)tg.buf)[r];
    size_t slot = 0;
    const int32_t *init = vm->ar[AR_INIT];
    pack(vm, init, vm->packed);
    uint32_t h = hash_state(vm, init);
    store_find(vm, vm->packed, h, &slot);
    int stop = STOP_NONE;
    if (store_add(vm, vm->packed, h, slot) < 0 || vec_push(&vm->parent, -1) || vec_push(&vm->via, -1)
        || vec_push(&vm->depth, 0) || vec_push(&vm->switches, 0) || vec_push(&vm->offsets, 0))
        stop = STOP_OOM;
    else if (workers > 1) {
        /* While the reduction is on, whether a state's left-out steps are
         * added is decided state by state, on what the table holds: its
         * search stays on one thread; the threads take over if its trial
         * turns it off. */
        size_t from = 0;
        if (vm->red)
            stop = search(vm, &from);
        if (!stop && from < vm->nstates)
            stop = search_parallel(vm, workers, block, from);
    } else
        stop = search(vm, NULL);
    if (stop == STOP_ERROR)           /* the tick raised: its exception goes up */
        goto done;
    if (stop == STOP_OOM) {           /* as the Python explorer: a cut search, not an error */
        size_t n = vm->nstates;
#define CUT(v) if ((v).n > n) (v).n = n
        CUT(vm->parent); CUT(vm->via); CUT(vm->depth); CUT(vm->switches);
        if (vm->nstates > n) vm->nstates = n;
    }
    /* the result, one array at a time, each freed once copied: the peak is
     * the search's, not twice it; actors as 1-byte ints below 128 actors */
    free(vm->table), vm->table = NULL;
    free(vm->hashes), vm->hashes = NULL;
    size_t n = vm->nstates;
    int narrow = SC(A) < 128;
    narrow_actors(&vm->via, narrow);
    narrow_actors(&vm->edge_actor, narrow);
    res = Py_BuildValue("{s:n,s:n,s:n,s:n,s:i,s:n}",
        "pruned", (Py_ssize_t)vm->pruned, "trial_at", (Py_ssize_t)vm->trial_at,
        "saved", (Py_ssize_t)vm->saved, "trial_states", (Py_ssize_t)vm->trial_states,
        "stop", stop, "stuck", (Py_ssize_t)vm->stuck);
    if (!res)
        goto done;
    size_t an = narrow ? 1 : 2;
    struct { const char *name; void **p; size_t len; } parts[] = {
        {"states", (void **)&vm->states, n * SC(REC)},
        {"parent", (void **)&vm->parent.a, vm->parent.n * 4},
        {"via", (void **)&vm->via.a, vm->via.n * an},
        {"depth", (void **)&vm->depth.a, vm->depth.n * 4},
        {"switches", (void **)&vm->switches.a, vm->switches.n * 4},
        {"offsets", (void **)&vm->offsets.a, vm->offsets.n * 4},
        {"edges", (void **)&vm->edges.a, vm->edges.n * 4},
        {"edge_actor", (void **)&vm->edge_actor.a, vm->edge_actor.n * an},
        {"timeouts", (void **)&vm->timeouts.a, vm->timeouts.n * 4},
        {"events", (void **)&vm->events.a, vm->events.n * 4},
        {"locksteps", (void **)&vm->locksteps.a, vm->locksteps.n * 4},
        {"ran", (void **)&vm->ran, SC(NCODE) + 1},
        {"entered", (void **)&vm->entered, SC(NCODE) + 1},
    };
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
        PyObject *b = block_of(self, parts[k].p, parts[k].len);
        if (!b || PyDict_SetItemString(res, parts[k].name, b) < 0) {
            Py_XDECREF(b);
            Py_CLEAR(res);
            goto done;
        }
        Py_DECREF(b);
    }
    if (vm->sym && sym_result(vm->sym, res) < 0)
        Py_CLEAR(res);
done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(&bufs[k]);
    PyBuffer_Release(&sc);
    PyBuffer_Release(&tg);
    if (vm)
        vm_free(vm);
    free(vm);
    return res;
}

/* ------------------------------------------------------------ partitions */

/* One partition of `check --distributed` (modelcheck/cluster/native.py): a
 * VM that steps the partition's states a batch at a time with the same
 * `step` and `pack_successor` as the search above.  Native records are the
 * same bytes in every process with the same spec, so they are what
 * partitions send each other; a state's owner is read off the high bits of
 * its hash (visited tables use the low ones).
 *
 * A partition stores its records collapsed (as SPIN's COLLAPSE does): each
 * 8-byte chunk of a record is replaced by its number in a dictionary of
 * the values that chunk takes, 3 bytes, since few combinations of the few
 * components in a chunk occur.  The collapsed records live in the same
 * store (store_find, store_add) as the search's, in a second VM `cs` of
 * which only the store is used. */
typedef struct {
    uint64_t *vals;          /* number -> value */
    uint32_t *slots;         /* open addressing: number + 1, 0 empty */
    size_t n, cap, mask;
} Dict;

#define CHUNK_BYTES 3        /* a chunk's number */
#define CHUNK_MAX (1u << 24)

typedef struct {
    VM vm, cs;
    Py_buffer bufs[NARRAYS];
    int got, parts, nchunks;
    Dict *dicts;
    uint8_t *key;            /* a collapsed record */
    int32_t *cur;
} Part;

static inline size_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

/* v's number, added if new: -1 out of memory, -2 over CHUNK_MAX values */
static int64_t dict_number(Dict *d, uint64_t v)
{
    if (2 * (d->n + 1) > d->mask + 1 || !d->slots) {
        size_t mask = d->slots ? 2 * d->mask + 1 : 1023;
        uint32_t *sl = calloc(mask + 1, sizeof *sl);
        if (!sl)
            return -1;
        for (size_t i = 0; i < d->n; i++) {
            size_t k = mix64(d->vals[i]) & mask;
            while (sl[k])
                k = (k + 1) & mask;
            sl[k] = (uint32_t)(i + 1);
        }
        free(d->slots);
        d->slots = sl, d->mask = mask;
    }
    size_t k = mix64(v) & d->mask;
    for (uint32_t e; (e = d->slots[k]); k = (k + 1) & d->mask)
        if (d->vals[e - 1] == v)
            return e - 1;
    if (d->n >= CHUNK_MAX)
        return -2;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        uint64_t *q = realloc(d->vals, cap * sizeof *q);
        if (!q)
            return -1;
        d->vals = q, d->cap = cap;
    }
    d->vals[d->n] = v;
    d->slots[k] = (uint32_t)++d->n;
    return (int64_t)d->n - 1;
}

/* record rec (REC bytes) collapsed into p->key; its hash; -1/-2 as dict_number */
static int64_t collapse(Part *p, const uint8_t *rec)
{
    VM *vm = &p->vm;
    int rb = SC(REC);
    uint32_t h = 0;
    for (int c = 0; c < p->nchunks; c++) {
        uint64_t v = 0;
        int len = rb - 8 * c < 8 ? rb - 8 * c : 8;
        memcpy(&v, rec + 8 * c, (size_t)len);
        int64_t x = dict_number(&p->dicts[c], v);
        if (x < 0)
            return x;
        uint8_t *k = p->key + CHUNK_BYTES * c;
        k[0] = (uint8_t)x, k[1] = (uint8_t)(x >> 8), k[2] = (uint8_t)(x >> 16);
        h += mix(c, (int32_t)x);
    }
    return h;
}

/* stored record j, whole, into out (REC + 8 bytes) */
static void expand_record(Part *p, size_t j, uint8_t *out)
{
    const uint8_t *k = p->cs.states + j * (size_t)p->cs.sc[REC];
    for (int c = 0; c < p->nchunks; c++, k += CHUNK_BYTES) {
        uint64_t v = p->dicts[c].vals[k[0] | k[1] << 8 | (uint32_t)k[2] << 16];
        memcpy(out + 8 * c, &v, 8);
    }
}

#define PART "modelcheck.search._vm.Part"
#define BYTES(p) ((p) ? (const char *)(p) : "")       /* y# reads NULL as None */

static void part_drop(Part *p)
{
    free(p->cs.states); free(p->cs.hashes); free(p->cs.table);
    for (int c = 0; p->dicts && c < p->nchunks; c++)
        free(p->dicts[c].vals), free(p->dicts[c].slots);
    free(p->dicts);
    free(p->key);
    free(p->cur);
    free(p);
}

static void part_free(PyObject *cap)
{
    Part *p = PyCapsule_GetPointer(cap, PART);
    if (!p)
        return;
    for (int k = 0; k < p->got; k++)
        PyBuffer_Release(&p->bufs[k]);
    vm_free(&p->vm);
    part_drop(p);
}

static inline int owner_of(Part *p, uint32_t h)
{
    return (int)(((uint64_t)h * (uint64_t)p->parts) >> 32);
}

/* part(scalars, arrays, parts) -> an empty partition */
static PyObject *py_part(PyObject *self, PyObject *args)
{
    Py_buffer sc;
    PyObject *arrays, *cap = NULL;
    int parts;
    if (!PyArg_ParseTuple(args, "y*O!i", &sc, &PyTuple_Type, &arrays, &parts))
        return NULL;
    Part *p = calloc(1, sizeof *p);
    if (!p) {
        PyBuffer_Release(&sc);
        return PyErr_NoMemory();
    }
    VM *vm = &p->vm;
    p->parts = parts > 0 ? parts : 1;
    if (vm_init(vm, &sc, arrays, p->bufs, &p->got, Py_None) == 0) {
        p->cur = malloc((SC(W) + 1) * sizeof *p->cur);
        p->nchunks = (SC(REC) + 7) / 8;
        p->dicts = calloc(p->nchunks + 1, sizeof *p->dicts);
        p->key = calloc((size_t)CHUNK_BYTES * p->nchunks + 8, 1);
        p->cs.sc[REC] = CHUNK_BYTES * p->nchunks;
        p->cs.load8 = 7;     /* 7/8 full at most: memory is what partitions are for */
        if (!p->cur || !p->dicts || !p->key || table_new(&p->cs, 10) < 0)
            PyErr_NoMemory();
        else {
            for (int k = 0; k < SC(W); k++)     /* what unpack() does not write */
                p->cur[k] = vm->lo[k];
            cap = PyCapsule_New(p, PART, part_free);
        }
    }
    PyBuffer_Release(&sc);
    if (!cap) {
        for (int k = 0; k < p->got; k++)
            PyBuffer_Release(&p->bufs[k]);
        vm_free(vm);
        part_drop(p);
    }
    return cap;
}

static Part *part_of(PyObject *cap)
{
    return PyCapsule_GetPointer(cap, PART);
}

/* part_pack(part, slots: int32 bytes) -> (record, owner) */
static PyObject *py_part_pack(PyObject *self, PyObject *args)
{
    PyObject *cap;
    Py_buffer t;
    if (!PyArg_ParseTuple(args, "Oy*", &cap, &t))
        return NULL;
    Part *p = part_of(cap);
    PyObject *res = NULL;
    if (p) {
        VM *vm = &p->vm;
        if (t.len != SC(W) * 4)
            PyErr_SetString(PyExc_ValueError, "a slot vector of another width");
        else {
            pack(vm, t.buf, vm->packed);
            res = Py_BuildValue("(y#i)", (const char *)vm->packed, (Py_ssize_t)SC(REC),
                                owner_of(p, hash_state(vm, t.buf)));
        }
    }
    PyBuffer_Release(&t);
    return res;
}

/* p->key, new, at the end of the partition's store and in its table at
 * slot (store_find's); its number, -1 out of memory.  store_add without
 * the array of hashes: the table's entries hold them, and nothing else of
 * a partition reads them (4 bytes a state less). */
static int64_t part_store(Part *p, uint32_t h, size_t slot)
{
    VM *cs = &p->cs;
    size_t w = cs->sc[REC], j = cs->nstates;
    if (j == cs->states_cap) {
        size_t cap = j ? j + j / 2 : 4096;
        uint8_t *a = realloc(cs->states, cap * w + 8);
        if (!a)
            return -1;
        cs->states = a, cs->states_cap = cap;
    }
    memcpy(cs->states + j * w, p->key, w);
    cs->nstates++;
    cs->table[slot] = (uint64_t)h << 32 | (uint64_t)j;
    if (8 * ++cs->segused[stripe_of(cs, h)] > (size_t)cs->load8 * (cs->segmask + 1) && table_grow(cs) < 0)
        return -1;
    return (int64_t)j;
}

/* part_add(part, records) -> (local ids: int32 bytes, first new id): each
 * record looked up in the store, added when new */
static PyObject *py_part_add(PyObject *self, PyObject *args)
{
    PyObject *cap;
    Py_buffer in;
    if (!PyArg_ParseTuple(args, "Oy*", &cap, &in))
        return NULL;
    Part *p = part_of(cap);
    PyObject *res = NULL;
    int32_t *ids = NULL;
    if (!p)
        goto done;
    VM *vm = &p->vm;
    size_t w = SC(REC), n = (size_t)in.len / w, first = p->cs.nstates;
    ids = malloc(n * sizeof *ids + 4);
    if (!ids) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        int64_t h = collapse(p, (const uint8_t *)in.buf + k * w);
        if (h == -2) {
            PyErr_SetString(PyExc_OverflowError, "a record chunk takes over 2**24 values");
            goto done;
        }
        size_t slot;
        int64_t j = h < 0 ? -1 : store_find(&p->cs, p->key, (uint32_t)h, &slot);
        if (h < 0 || (j < 0 && (j = part_store(p, (uint32_t)h, slot)) < 0)) {
            PyErr_NoMemory();
            goto done;
        }
        ids[k] = (int32_t)j;
    }
    res = Py_BuildValue("(y#n)", BYTES(ids), (Py_ssize_t)(n * 4), (Py_ssize_t)first);
done:
    free(ids);
    PyBuffer_Release(&in);
    return res;
}

static int grow_bytes(uint8_t **b, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = 2 * need + 4096;
    uint8_t *q = realloc(*b, c);
    if (!q)
        return -1;
    *b = q, *cap = c;
    return 0;
}

/* part_expand(part, local ids: int32 bytes) -> (successor records, owners,
 * actors, timeout flags, successors per state, events, lock steps, stop):
 * the steps of these states in the order the search takes them (actor,
 * then outcome); events are (EVT_STEP, outcome, state's place, actor, edge
 * of the state) for finding keys new to this partition, lock steps (place,
 * actor) for memo keys new to it, as in search() */
static PyObject *py_part_expand(PyObject *self, PyObject *args)
{
    PyObject *cap;
    Py_buffer in;
    if (!PyArg_ParseTuple(args, "Oy*", &cap, &in))
        return NULL;
    Part *p = part_of(cap);
    PyObject *res = NULL;
    Vec counts = {0}, owners = {0}, actors = {0}, touts = {0};
    uint8_t *recs = NULL;
    size_t nrec = 0, caprec = 0;
    if (!p)
        goto done;
    VM *vm = &p->vm;
    int32_t *cur = p->cur;
    const int32_t *idx = in.buf;
    size_t w = SC(REC), n = (size_t)in.len / 4;
    int stop = STOP_NONE;
    vm->events.n = vm->locksteps.n = 0;
    vm->base = vm->outs;
    for (size_t q = 0; q < n && !stop; q++) {
        int32_t i = idx[q], edges = 0;
        expand_record(p, (size_t)i, vm->curp);
        unpack(vm, vm->curp, cur);
        vm->cur = cur, vm->hcur = hash_state(vm, cur);
        for (int a = 0; a < SC(A) && !stop; a++) {
            int pc = S(cur, SC(C_PC) + a);
            if (pc < 0)
                continue;
            if (vm->acq[pc] && record_lock_step(vm, cur, (int)q, a, pc)) {
                stop = STOP_OOM;
                break;
            }
            if (SC(NIRQS) && interrupted(vm, cur, a))
                continue;
            int m = step(vm, cur, a, pc);
            if (vm->overflow) {
                stop = STOP_CAPACITY;
                break;
            }
            if (m)
                vm->ran[pc + 1] = 1;
            for (int k = 0; k < m && !stop; k++, edges++) {
                Out *o = &vm->outs[k];
                vm->entered[S(o->t, SC(C_PC) + a) + 1] = 1;
                if (grow_bytes(&recs, &caprec, (nrec + 1) * w + 8)) {
                    stop = STOP_OOM;
                    break;
                }
                uint32_t h = pack_successor(vm, o->t, recs + nrec * w);
                nrec++;
                if (vec_push(&owners, owner_of(p, h)) || vec_push(&actors, a)
                    || vec_push(&touts, o->timeout)) {
                    stop = STOP_OOM;
                    break;
                }
                int fresh = 0;
                for (int f = 0; f < o->nf; f++) {
                    int r = keyset_add(&vm->findings, o->fk + 3 * f, 3);
                    if (r < 0)
                        stop = STOP_OOM;
                    fresh |= r > 0;
                }
                if (fresh && log_event(vm, EVT_STEP, k, (int)q, a, edges))
                    stop = STOP_OOM;
            }
        }
        if (vec_push(&counts, edges))
            stop = STOP_OOM;
    }
    if (stop == STOP_OOM) {
        PyErr_NoMemory();
        goto done;
    }
    res = Py_BuildValue("(y#y#y#y#y#y#y#i)",
        BYTES(recs), (Py_ssize_t)(nrec * w),
        BYTES(owners.a), (Py_ssize_t)(owners.n * 4),
        BYTES(actors.a), (Py_ssize_t)(actors.n * 4),
        BYTES(touts.a), (Py_ssize_t)(touts.n * 4),
        BYTES(counts.a), (Py_ssize_t)(counts.n * 4),
        BYTES(vm->events.a), (Py_ssize_t)(vm->events.n * 4),
        BYTES(vm->locksteps.a), (Py_ssize_t)(vm->locksteps.n * 4), stop);
done:
    free(recs); free(counts.a); free(owners.a); free(actors.a); free(touts.a);
    PyBuffer_Release(&in);
    return res;
}

/* part_check(part, local ids, invariants to look at, reachables to look for:
 * bytes of 0/1) -> int32 bytes of (place, EVT_INV or EVT_REACH, index) for
 * each one that fails (invariant) or holds (reachable) there */
static PyObject *py_part_check(PyObject *self, PyObject *args)
{
    PyObject *cap;
    Py_buffer in, inv, reach;
    if (!PyArg_ParseTuple(args, "Oy*y*y*", &cap, &in, &inv, &reach))
        return NULL;
    Part *p = part_of(cap);
    PyObject *res = NULL;
    Vec out = {0};
    if (p) {
        VM *vm = &p->vm;
        const int32_t *idx = in.buf;
        const char *iv = inv.buf, *rv = reach.buf;
        size_t n = (size_t)in.len / 4;
        int bad = 0;
        for (size_t q = 0; q < n && !bad; q++) {
            expand_record(p, (size_t)idx[q], vm->packed);
            unpack(vm, vm->packed, p->cur);
            for (int v = 0; v < SC(NINV) && v < inv.len; v++)
                if (iv[v] && !eval(vm, p->cur, vm->ar[AR_INVS][v]))
                    bad |= vec_push(&out, (int32_t)q) | vec_push(&out, EVT_INV) | vec_push(&out, v);
            for (int r = 0; r < SC(NREACH) && r < reach.len; r++)
                if (rv[r] && eval(vm, p->cur, vm->ar[AR_REACH][r]))
                    bad |= vec_push(&out, (int32_t)q) | vec_push(&out, EVT_REACH) | vec_push(&out, r);
        }
        if (bad)
            PyErr_NoMemory();
        else
            res = PyBytes_FromStringAndSize(BYTES(out.a), (Py_ssize_t)(out.n * 4));
    }
    free(out.a);
    PyBuffer_Release(&in);
    PyBuffer_Release(&inv);
    PyBuffer_Release(&reach);
    return res;
}

/* part_records(part, local ids: int32 bytes, or None: all) -> their records */
static PyObject *py_part_records(PyObject *self, PyObject *args)
{
    PyObject *cap, *ids;
    if (!PyArg_ParseTuple(args, "OO", &cap, &ids))
        return NULL;
    Part *p = part_of(cap);
    if (!p)
        return NULL;
    VM *vm = &p->vm;
    size_t w = SC(REC);
    Py_buffer in = {0};
    if (ids != Py_None && PyObject_GetBuffer(ids, &in, PyBUF_SIMPLE) < 0)
        return NULL;
    size_t n = ids == Py_None ? p->cs.nstates : (size_t)in.len / 4;
    PyObject *res = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * w));
    if (res) {
        char *o = PyBytes_AS_STRING(res);
        for (size_t q = 0; q < n; q++) {
            expand_record(p, ids == Py_None ? q : (size_t)((const int32_t *)in.buf)[q], vm->packed);
            memcpy(o + q * w, vm->packed, w);
        }
    }
    if (ids != Py_None)
        PyBuffer_Release(&in);
    return res;
}

/* part_info(part) -> (states, bytes the store holds, ran, entered) */
static PyObject *py_part_info(PyObject *self, PyObject *args)
{
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap))
        return NULL;
    Part *p = part_of(cap);
    if (!p)
        return NULL;
    VM *vm = &p->vm;
    VM *cs = &p->cs;
    size_t held = cs->nstates * (cs->sc[REC] + (cs->hashes ? sizeof *cs->hashes : 0))
                  + (cs->table ? (cs->mask + 1) * 8 : 0)
                  + vm->memo.data.cap * 4 + (vm->memo.mask + 1) * 8;
    for (int c = 0; c < p->nchunks; c++)
        held += p->dicts[c].n * 8 + (p->dicts[c].mask + 1) * 4;
    return Py_BuildValue("(nny#y#)", (Py_ssize_t)cs->nstates, (Py_ssize_t)held,
                         (const char *)vm->ran, (Py_ssize_t)(SC(NCODE) + 1),
                         (const char *)vm->entered, (Py_ssize_t)(SC(NCODE) + 1));
}

/* part_seal(part, order: int32 bytes, or None): the search is over: the
 * visited table goes; with an order (a permutation of the local ids), the
 * records are moved in place so that record j is the one that was
 * order[j] (the partition's rows by global id: then a local id is a row,
 * and no map between them is kept).  In place, following each cycle of
 * the permutation, with one bit a record to mark those moved. */
static PyObject *py_part_seal(PyObject *self, PyObject *args)
{
    PyObject *cap, *order;
    if (!PyArg_ParseTuple(args, "OO", &cap, &order))
        return NULL;
    Part *p = part_of(cap);
    if (!p)
        return NULL;
    free(p->cs.table), p->cs.table = NULL;
    free(p->cs.hashes), p->cs.hashes = NULL;
    p->cs.mask = 0;
    if (order == Py_None)
        Py_RETURN_NONE;
    Py_buffer o;
    if (PyObject_GetBuffer(order, &o, PyBUF_SIMPLE) < 0)
        return NULL;
    const int32_t *to = o.buf;
    size_t n = p->cs.nstates, w = p->cs.sc[REC];
    uint8_t *done = calloc(n / 8 + 1, 1), *tmp = malloc(w);
    int oom = !done || !tmp, bad = oom || (size_t)o.len != n * 4;
    for (size_t i = 0; !bad && i < n; i++)
        bad = to[i] < 0 || (size_t)to[i] >= n;
    uint8_t *st = p->cs.states;
    for (size_t i = 0; !bad && i < n; i++) {
        if (done[i >> 3] >> (i & 7) & 1)
            continue;
        memcpy(tmp, st + i * w, w);
        size_t j = i;
        for (;;) {
            done[j >> 3] |= (uint8_t)(1 << (j & 7));
            size_t k = (size_t)to[j];
            if (k == i) {
                memcpy(st + j * w, tmp, w);
                break;
            }
            if (done[k >> 3] >> (k & 7) & 1) {     /* not a permutation */
                bad = 1;
                break;
            }
            memcpy(st + j * w, st + k * w, w);
            j = k;
        }
    }
    free(done);
    free(tmp);
    PyBuffer_Release(&o);
    if (oom)
        return PyErr_NoMemory();
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "part_seal: the order is not a permutation of the stored records");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* fix_sweep(steps per row: int16, targets: int32 (a row, or -1 - an index
 * of remote), remote, R (writable): masks of 4 or 8 bytes, both alike,
 * wide, dirty (writable, a byte a row)) -> rows changed: the least
 * fixpoint of R(s) |= R(t) for every edge s -> t, Gauss-Seidel from the
 * last row back (a breadth-first graph's forward steps settle in one
 * sweep); each row changed gets dirty = 1 (what is to be sent: a byte a
 * row rather than a copy of R as sent) */
#define SWEEP(T)                                                         \
    do {                                                                 \
        const T *x = rem.buf;                                            \
        T *R = r.buf;                                                    \
        while (again) {                                                  \
            again = 0;                                                   \
            Py_ssize_t end = edges;                                      \
            for (Py_ssize_t s = rows - 1; s >= 0; end -= c[s], s--) {    \
                T m = R[s];                                              \
                for (Py_ssize_t e = end - c[s]; e < end; e++)            \
                    m |= t[e] >= 0 ? R[t[e]] : x[-1 - t[e]];             \
                if (m != R[s]) {                                         \
                    R[s] = m;                                            \
                    dirty[s] = 1;                                        \
                    changed++;                                           \
                    again = 1;                                           \
                }                                                        \
            }                                                            \
        }                                                                \
    } while (0)

static PyObject *py_fix_sweep(PyObject *self, PyObject *args)
{
    Py_buffer off, tg, rem, r, dt;
    int wide;
    if (!PyArg_ParseTuple(args, "y*y*y*w*pw*", &off, &tg, &rem, &r, &wide, &dt))
        return NULL;
    const int16_t *c = off.buf;
    const int32_t *t = tg.buf;
    uint8_t *dirty = dt.buf;
    Py_ssize_t rows = r.len / (wide ? 8 : 4), changed = 0, again = 1, edges = 0;
    if (off.len / 2 < rows)
        rows = off.len / 2;
    if (dt.len < rows)
        rows = dt.len;
    for (Py_ssize_t s = 0; s < rows; s++)
        edges += c[s];
    if (edges > tg.len / 4)
        rows = 0;                   /* never: one count per row, their sum the steps */
    if (wide)
        SWEEP(uint64_t);
    else
        SWEEP(uint32_t);
    PyBuffer_Release(&off); PyBuffer_Release(&tg); PyBuffer_Release(&rem); PyBuffer_Release(&r);
    PyBuffer_Release(&dt);
    return PyLong_FromSsize_t(changed);
}

static PyMethodDef methods[] = {
    {"explore", py_explore, METH_VARARGS, "Breadth-first search over flattened program tables."},
    {"part", py_part, METH_VARARGS, "A partition of the distributed search: an empty store."},
    {"part_pack", py_part_pack, METH_VARARGS, "A slot vector's record and owner."},
    {"part_add", py_part_add, METH_VARARGS, "Records looked up in the partition, new ones added."},
    {"part_expand", py_part_expand, METH_VARARGS, "The steps of a batch of stored states."},
    {"part_check", py_part_check, METH_VARARGS, "Invariants and reachables on stored states."},
    {"part_records", py_part_records, METH_VARARGS, "Stored records."},
    {"part_info", py_part_info, METH_VARARGS, "The partition's size and coverage."},
    {"part_seal", py_part_seal, METH_VARARGS, "The search is over: the visited table goes."},
    {"fix_sweep", py_fix_sweep, METH_VARARGS, "R |= R of successors, to a fixpoint."},
    {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *m)
{
    PyObject *tp = PyType_FromModuleAndSpec(m, &block_spec, NULL);
    if (!tp)
        return -1;
    *(PyObject **)PyModule_GetState(m) = tp;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    PyObject *tp = *(PyObject **)PyModule_GetState(m);
    Py_VISIT(tp);
    return 0;
}

static int module_clear(PyObject *m)
{
    PyObject **tp = (PyObject **)PyModule_GetState(m);
    Py_CLEAR(*tp);
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_vm", "The native search core of modelcheck.", sizeof(PyObject *),
    methods, module_slots, module_traverse, module_clear, NULL,
};

PyMODINIT_FUNC PyInit__vm(void)
{
    return PyModuleDef_Init(&module);
}
