/* Symmetry canonicalisation in C: Symmetry.canon, _local, _renaming and
 * apply of search/symmetry.py, over the tables of native/symtab.py.
 *
 * Each copy's sort key (_local) is written as a sequence of int64 whose
 * lexicographic order is the order of Python's key tuples: the nested
 * tuples of variable length (stacks, held orders, flush barriers) as their
 * elements + 2 followed by a 0, so that a shorter prefix sorts first.  The
 * copies of each group are then sorted by (key, index), as sorted() does. */
#include "sym.h"
#include <stdlib.h>
#include <string.h>

enum { H_A, H_NCODE, H_NLOCKS, H_NFENCES, H_NRESVS, H_NENGINES, H_NVARS, H_NWQ, H_USN,
       H_FLUSH, H_PC, H_STK, H_LK, H_FN, H_RV, H_EN, H_VR, H_WQ, H_US, H_XL, H_WW, H_HO, H_FB,
       H_NGROUPS, H_NWA, NHEAD };
enum { O_LOCK, O_FENCE, O_RESV, O_ENGINE, O_VAR, NKINDS };

typedef struct {
    int U, width, nown;
    const int32_t *units;      /* U * width actors */
    const int32_t *kind;       /* nown */
    const int32_t *own;        /* U * nown objects */
    const int32_t **items;     /* per unit j: pcmaps[j] as (p1, pj) pairs, in dict order */
    int *nitems;
    const int32_t *dense;      /* U * NCODE: pcmaps[k][p1], -1 none */
} Group;

typedef struct {
    int pc, n;
    const int32_t *picked;     /* (fence, w, woken pc of w or -1) * n */
} WaitAnyT;

typedef struct {
    int32_t *a;
    size_t n, cap;
} IntVec;

struct Sym {
    const int32_t *h, *off, *cap;
    int w, A, ncode;
    const int32_t *ordered, *actor_wq, *frame_j, *frame_p1;
    Group *groups;
    WaitAnyT *wa;
    int *wa_at;                /* pc -> index in wa, or -1 */
    /* scratch */
    int64_t *keys;             /* per unit of a group: keylen int64s */
    int *klen, *order, *ords, keylen, maxu, nunits;
    int *amap, *omap[NKINDS], nobj[NKINDS];
    int32_t *pcm;              /* valid where stamp == gen, else the identity */
    uint32_t *stamp, gen;
    int32_t *t2, *tmp;
    /* renamings: actor maps by id, and a hash table of them */
    IntVec perms, edge;
    int64_t *ptab;
    size_t pmask;
    int clone;                 /* sym_clone's: the tables are the original's */
};

static int iv_push(IntVec *v, int32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1024;
        int32_t *a = realloc(v->a, cap * sizeof *a);
        if (!a)
            return -1;
        v->a = a, v->cap = cap;
    }
    v->a[v->n++] = x;
    return 0;
}

#define C(c) (t[y->off[c]])                     /* a flat component */
#define NLEN(c) (t[y->off[c]])                  /* a nested one: its length */
#define NEL(c) (t + y->off[c] + 1)              /* ... and its elements */
#define HD(x) (y->h[x])

void sym_free(Sym *y)
{
    if (!y)
        return;
    if (y->groups && !y->clone)
        for (int g = 0; g < HD(H_NGROUPS); g++) {
            free(y->groups[g].items);
            free(y->groups[g].nitems);
        }
    if (!y->clone) {
        free(y->groups); free(y->wa); free(y->wa_at);
    }
    free(y->keys); free(y->klen);
    free(y->order); free(y->ords); free(y->amap); free(y->pcm); free(y->stamp); free(y->t2); free(y->tmp);
    for (int k = 0; k < NKINDS; k++)
        free(y->omap[k]);
    free(y->perms.a); free(y->edge.a); free(y->ptab);
    free(y);
}

static int perm_id(Sym *y, const int *amap);
static int scratch_alloc(Sym *y);

Sym *sym_new(const int32_t *tab, Py_ssize_t ntab, const int32_t *off, const int32_t *cap, int w)
{
    Sym *y = calloc(1, sizeof *y);
    if (!y || ntab < NHEAD)
        goto fail;
    const int32_t *p = tab;
    y->h = tab, y->off = off, y->cap = cap, y->w = w;
    y->A = HD(H_A), y->ncode = HD(H_NCODE);
    int A = y->A, n = y->ncode;
    p += NHEAD;
    y->ordered = p, p += HD(H_NWQ);
    y->actor_wq = p, p += A;
    y->frame_j = p, p += n;
    y->frame_p1 = p, p += n;
    y->groups = calloc(HD(H_NGROUPS) + 1, sizeof *y->groups);
    if (!y->groups)
        goto fail;
    /* the longest key of a copy: see unit_key */
    int stk = 0, ho = 0, fb = 0;
    for (int a = 0; a < A; a++) {
        if (cap[HD(H_STK) + a] > stk) stk = cap[HD(H_STK) + a];
        if (cap[HD(H_HO) + a] > ho) ho = cap[HD(H_HO) + a];
        if (HD(H_FLUSH) && cap[HD(H_FB) + a] > fb) fb = cap[HD(H_FB) + a];
    }
    for (int g = 0; g < HD(H_NGROUPS); g++) {
        Group *G = &y->groups[g];
        G->U = *p++, G->width = *p++;
        G->units = p, p += G->U * G->width;
        G->nown = *p++;
        G->kind = p, p += G->nown;
        G->own = p, p += G->U * G->nown;
        G->items = calloc(G->U, sizeof *G->items);
        G->nitems = calloc(G->U, sizeof *G->nitems);
        if (!G->items || !G->nitems)
            goto fail;
        for (int j = 0; j < G->U; j++) {
            G->nitems[j] = *p++;
            G->items[j] = p, p += 2 * G->nitems[j];
        }
        G->dense = p, p += (size_t)G->U * n;
        int len = G->width * (5 + stk + HD(H_NLOCKS) + HD(H_NENGINES) + ho + fb)
                  + G->nown * (3 + G->width);
        if (len > y->keylen) y->keylen = len;
        if (G->U > y->maxu) y->maxu = G->U;
        y->nunits += G->U;
    }
    y->wa = calloc(HD(H_NWA) + 1, sizeof *y->wa);
    y->wa_at = malloc((n + 1) * sizeof *y->wa_at);
    if (!y->wa || !y->wa_at)
        goto fail;
    for (int pc = 0; pc < n; pc++)
        y->wa_at[pc] = -1;
    for (int k = 0; k < HD(H_NWA); k++) {
        y->wa[k].pc = *p++, y->wa[k].n = *p++;
        y->wa[k].picked = p, p += 3 * y->wa[k].n;
        if (y->wa[k].pc >= 0 && y->wa[k].pc < n)
            y->wa_at[y->wa[k].pc] = k;
    }
    if (p - tab != ntab || scratch_alloc(y))
        goto fail;
    y->pmask = 1023;
    y->ptab = malloc((y->pmask + 1) * sizeof *y->ptab);
    if (!y->ptab)
        goto fail;
    for (size_t k = 0; k <= y->pmask; k++)
        y->ptab[k] = -1;
    for (int a = 0; a < A; a++)           /* id 0: no renaming */
        y->amap[a] = a;
    if (perm_id(y, y->amap) != 0)
        goto fail;
    return y;
fail:
    sym_free(y);
    return NULL;
}

/* The scratch of sym_canon; -1 out of memory */
static int scratch_alloc(Sym *y)
{
    int A = y->A, n = y->ncode, w = y->w;
    y->keys = malloc(((size_t)y->maxu * y->keylen + 1) * sizeof *y->keys);
    y->klen = malloc((y->maxu + 1) * sizeof *y->klen);
    y->order = malloc((y->maxu + 1) * sizeof *y->order);
    y->ords = malloc((y->nunits + 1) * sizeof *y->ords);
    y->amap = malloc((A + 1) * sizeof *y->amap);
    y->pcm = malloc((n + 1) * sizeof *y->pcm);
    y->stamp = calloc(n + 1, sizeof *y->stamp);
    y->t2 = calloc(w + 1, sizeof *y->t2);
    y->tmp = calloc(w + 64, sizeof *y->tmp);
    y->nobj[O_LOCK] = HD(H_NLOCKS), y->nobj[O_FENCE] = HD(H_NFENCES);
    y->nobj[O_RESV] = HD(H_NRESVS), y->nobj[O_ENGINE] = HD(H_NENGINES);
    y->nobj[O_VAR] = HD(H_NVARS);
    for (int k = 0; k < NKINDS; k++)
        if (!(y->omap[k] = malloc((y->nobj[k] + 1) * sizeof **y->omap)))
            return -1;
    y->gen = 1;
    if (!y->keys || !y->klen || !y->order || !y->ords || !y->amap || !y->pcm || !y->stamp || !y->t2
        || !y->tmp)
        return -1;
    return 0;
}

Sym *sym_clone(const Sym *y)
{
    Sym *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *y;
    c->clone = 1;
    c->keys = NULL, c->klen = NULL, c->order = c->ords = c->amap = NULL;
    c->pcm = NULL, c->stamp = NULL, c->t2 = c->tmp = NULL;
    for (int k = 0; k < NKINDS; k++)
        c->omap[k] = NULL;
    memset(&c->perms, 0, sizeof c->perms);
    memset(&c->edge, 0, sizeof c->edge);
    c->ptab = NULL;
    if (scratch_alloc(c)) {
        sym_free(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------ renaming ids */

static uint64_t hash_map(const int *m, int n)
{
    uint64_t h = 1469598103934665603ull;
    for (int k = 0; k < n; k++)
        h = (h ^ (uint32_t)m[k]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int perm_id(Sym *y, const int *amap)
{
    int A = y->A;
    size_t k = hash_map(amap, A) & y->pmask;
    for (; y->ptab[k] >= 0; k = (k + 1) & y->pmask) {
        const int32_t *m = y->perms.a + (size_t)y->ptab[k] * A;
        int same = 1;
        for (int a = 0; a < A && same; a++)
            same = m[a] == amap[a];
        if (same)
            return (int)y->ptab[k];
    }
    size_t id = y->perms.n / (A ? A : 1);
    if (id >= 0x7fffffff)
        return -1;
    for (int a = 0; a < A; a++)
        if (iv_push(&y->perms, amap[a]))
            return -1;
    y->ptab[k] = (int64_t)id;
    if (4 * (id + 1) > 3 * (y->pmask + 1)) {          /* grow: rehash every map */
        size_t mask = 2 * y->pmask + 1;
        int64_t *tabl = malloc((mask + 1) * sizeof *tabl);
        if (!tabl)
            return -1;
        for (size_t i = 0; i <= mask; i++)
            tabl[i] = -1;
        int tmp[64];
        for (size_t i = 0; i <= id; i++) {
            for (int a = 0; a < A; a++)
                tmp[a] = y->perms.a[i * A + a];
            size_t s = hash_map(tmp, A) & mask;
            while (tabl[s] >= 0)
                s = (s + 1) & mask;
            tabl[s] = (int64_t)i;
        }
        free(y->ptab);
        y->ptab = tabl, y->pmask = mask;
    }
    return (int)id;
}

/* ------------------------------------------------------------ the sort key */

static int64_t to1(Sym *y, int p, int j)
{
    return p >= 0 && p < y->ncode && y->frame_j[p] == j ? y->frame_p1[p] : p;
}

static int n_index(Sym *y, const int32_t *t, int c, int32_t x)
{
    for (int k = 0; k < NLEN(c); k++)
        if (NEL(c)[k] == x)
            return k;
    return -1;
}

/* Symmetry._local(s, unit j): ((per actor c of the unit: (to1(pc), to1(stack),
 * held per lock, in each engine, place in its queue, held order, flush
 * barriers)), (the value of each object the unit owns)) */
static int unit_key(Sym *y, const Group *G, int j, const int32_t *t, int64_t *k)
{
    int n = 0, nl = HD(H_NLOCKS);
    const int32_t *unit = G->units + j * G->width;
    for (int ci = 0; ci < G->width; ci++) {
        int c = unit[ci], cs;
        k[n++] = to1(y, C(HD(H_PC) + c), j);
        cs = HD(H_STK) + c;
        for (int e = 0; e < NLEN(cs); e++)
            k[n++] = to1(y, NEL(cs)[e], j) + 2;
        k[n++] = 0;
        for (int l = 0; l < nl; l++) {
            int32_t v = C(HD(H_LK) + l);
            k[n++] = v == -(c + 1) || (v > 0 && c < 31 && (v >> c & 1));
        }
        for (int e = 0; e < HD(H_NENGINES); e++)
            k[n++] = n_index(y, t, HD(H_EN) + e, c) >= 0;
        int q = y->actor_wq[c];
        k[n++] = q >= 0 ? n_index(y, t, HD(H_WQ) + q, c) : -1;
        cs = HD(H_HO) + c;
        for (int e = 0; e < NLEN(cs); e++)
            k[n++] = (int64_t)NEL(cs)[e] + 2;
        k[n++] = 0;
        if (HD(H_FLUSH)) {
            cs = HD(H_FB) + c;
            for (int e = 0; e < NLEN(cs); e++)
                k[n++] = (int64_t)NEL(cs)[e] + 2;
            k[n++] = 0;
        }
    }
    for (int i = 0; i < G->nown; i++) {
        int x = G->own[j * G->nown + i];
        int32_t v;
        switch (G->kind[i]) {
        case O_LOCK: {
            v = C(HD(H_LK) + x);
            int at = -1;
            for (int ci = 0; ci < G->width && v < 0; ci++)
                if (unit[ci] == -v - 1) {
                    at = ci;
                    break;
                }
            k[n++] = at;
            k[n++] = v < 0;
            for (int ci = 0; ci < G->width; ci++)
                k[n++] = v > 0 && unit[ci] < 31 && (v >> unit[ci] & 1);
            k[n++] = v > 0;
            break;
        }
        case O_FENCE:
            k[n++] = C(HD(H_FN) + x);
            break;
        case O_RESV:
            k[n++] = __builtin_popcount((uint32_t)C(HD(H_RV) + x));
            break;
        case O_ENGINE:
            k[n++] = NLEN(HD(H_EN) + x);
            break;
        default:
            k[n++] = C(HD(H_VR) + x);
        }
    }
    return n;
}

/* (key of a, a) < (key of b, b) */
static int before(Sym *y, int a, int b)
{
    const int64_t *ka = y->keys + (size_t)a * y->keylen, *kb = y->keys + (size_t)b * y->keylen;
    int n = y->klen[a] < y->klen[b] ? y->klen[a] : y->klen[b];
    for (int i = 0; i < n; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i];
    if (y->klen[a] != y->klen[b])
        return y->klen[a] < y->klen[b];
    return a < b;
}

/* ------------------------------------------------------------ applying a renaming */

static inline int32_t pcm(Sym *y, int32_t p)
{
    return p >= 0 && p < y->ncode && y->stamp[p] == y->gen ? y->pcm[p] : p;
}

static inline void set_pcm(Sym *y, int32_t p, int32_t v)
{
    if (p >= 0 && p < y->ncode) {
        y->stamp[p] = y->gen;
        y->pcm[p] = v;
    }
}

static inline int omap(Sym *y, int kind, int x)
{
    return x >= 0 && x < y->nobj[kind] ? y->omap[kind][x] : x;
}

static int cmp_int(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, z = *(const int32_t *)b;
    return (x > z) - (x < z);
}

/* nested component c of t2: the n items in y->tmp (sorted if asked), the rest 0 */
static int put_nested(Sym *y, int c, int n, int sorted)
{
    int32_t *d = y->t2 + y->off[c];
    if (n > y->cap[c])
        return -2;
    if (sorted && n > 1)
        qsort(y->tmp, n, sizeof *y->tmp, cmp_int);
    d[0] = n;
    memcpy(d + 1, y->tmp, n * sizeof *d);
    memset(d + 1 + n, 0, (y->cap[c] - n) * sizeof *d);
    return 0;
}

static uint32_t remap_mask(const int *map, uint32_t m, int n)
{
    uint32_t out = 0;
    for (int b = 0; b < n && b < 32; b++)
        if (m >> b & 1)
            out |= (uint32_t)1 << map[b];
    return out;
}

/* Symmetry.apply(t, amap, pcm, omap) into y->t2 */
static int apply(Sym *y, const int32_t *t)
{
    int A = y->A, r;
    int32_t *t2 = y->t2;
    const int *amap = y->amap, *lm = y->omap[O_LOCK], *fm = y->omap[O_FENCE];
    memcpy(t2, t, y->w * sizeof *t2);
    for (int a = 0; a < A; a++) {
        int b = amap[a], c = HD(H_STK) + a;
        t2[y->off[HD(H_PC) + b]] = pcm(y, C(HD(H_PC) + a));
        for (int e = 0; e < NLEN(c); e++)
            y->tmp[e] = pcm(y, NEL(c)[e]);
        if ((r = put_nested(y, HD(H_STK) + b, NLEN(c), 0)))
            return r;
    }
    for (int l = 0; l < HD(H_NLOCKS); l++) {
        int32_t v = C(HD(H_LK) + l);
        if (v < 0)
            v = -(amap[-v - 1] + 1);
        else if (v > 0)
            v = (int32_t)remap_mask(amap, (uint32_t)v, A);
        t2[y->off[HD(H_LK) + lm[l]]] = v;
    }
    for (int f = 0; f < HD(H_NFENCES); f++)
        t2[y->off[HD(H_FN) + fm[f]]] = C(HD(H_FN) + f);
    for (int rv = 0; rv < HD(H_NRESVS); rv++) {
        int r2 = y->omap[O_RESV][rv], nf = HD(H_NFENCES);
        t2[y->off[HD(H_RV) + r2]] = (int32_t)remap_mask(fm, (uint32_t)C(HD(H_RV) + rv), nf);
        for (int k = 0; k < (HD(H_USN) ? 3 : 0); k++)
            t2[y->off[HD(H_US) + 3 * r2 + k]] =
                (int32_t)remap_mask(fm, (uint32_t)C(HD(H_US) + 3 * rv + k), nf);
    }
    int c = HD(H_XL);
    for (int e = 0; e < NLEN(c); e++) {
        int32_t x = NEL(c)[e];
        y->tmp[e] = x >> 24 ? (1 << 24) | (lm[(x >> 8) & 0xFFFF] << 8) | amap[x & 0xFF] : lm[x];
    }
    if ((r = put_nested(y, c, NLEN(c), 1)))
        return r;
    c = HD(H_WW);
    for (int e = 0; e < NLEN(c); e++)
        y->tmp[e] = amap[NEL(c)[e]];
    if ((r = put_nested(y, c, NLEN(c), 0)))
        return r;
    for (int a = 0; HD(H_FLUSH) && a < A; a++) {
        c = HD(H_FB) + a;
        for (int e = 0; e < NLEN(c); e++)
            y->tmp[e] = 2 * amap[NEL(c)[e] >> 1] + (NEL(c)[e] & 1);
        if ((r = put_nested(y, HD(H_FB) + amap[a], NLEN(c), 1)))
            return r;
    }
    for (int a = 0; a < A; a++) {
        c = HD(H_HO) + a;
        for (int e = 0; e < NLEN(c); e++) {
            int32_t tok = NEL(c)[e], tl = (tok >> 8) - 1;
            y->tmp[e] = tl < 0 ? tok : tok + ((lm[tl] - tl) << 8);
        }
        if ((r = put_nested(y, HD(H_HO) + amap[a], NLEN(c), 0)))
            return r;
    }
    for (int e = 0; e < HD(H_NENGINES); e++) {
        c = HD(H_EN) + e;
        for (int k = 0; k < NLEN(c); k++)
            y->tmp[k] = amap[NEL(c)[k]];
        if ((r = put_nested(y, HD(H_EN) + y->omap[O_ENGINE][e], NLEN(c), 1)))
            return r;
    }
    for (int v = 0; v < HD(H_NVARS); v++)
        t2[y->off[HD(H_VR) + y->omap[O_VAR][v]]] = C(HD(H_VR) + v);
    for (int q = 0; q < HD(H_NWQ); q++) {
        c = HD(H_WQ) + q;
        for (int k = 0; k < NLEN(c); k++)
            y->tmp[k] = amap[NEL(c)[k]];
        if ((r = put_nested(y, c, NLEN(c), !y->ordered[q])))
            return r;
    }
    return 0;
}

/* Symmetry._renaming's maps, back to the identity */
static void reset_maps(Sym *y)
{
    int n = y->ncode;
    for (int a = 0; a < y->A; a++)
        y->amap[a] = a;
    for (int k = 0; k < NKINDS; k++)
        for (int x = 0; x < y->nobj[k]; x++)
            y->omap[k][x] = x;
    if (++y->gen == 0) {              /* the stamps wrapped: start them again */
        memset(y->stamp, 0, n * sizeof *y->stamp);
        y->gen = 1;
    }
}

int sym_canon_map(Sym *y, const int32_t *t, const int32_t **out)
{
    int ng = HD(H_NGROUPS), moved = 0;
    int *ords = y->ords, at = 0;      /* per group: slot k gets copy ords[at + k] */
    for (int g = 0; g < ng; g++) {
        const Group *G = &y->groups[g];
        for (int j = 0; j < G->U; j++)
            y->klen[j] = unit_key(y, G, j, t, y->keys + (size_t)j * y->keylen);
        int *ord = y->order;
        for (int j = 0; j < G->U; j++) {          /* insertion sort by (key, j) */
            int i = j;
            while (i > 0 && before(y, j, ord[i - 1])) {
                ord[i] = ord[i - 1];
                i--;
            }
            ord[i] = j;
        }
        for (int k = 0; k < G->U; k++) {
            ords[at + k] = ord[k];
            moved |= ord[k] != k;
        }
        at += G->U;
    }
    *out = t;
    if (!moved)
        return 0;
    reset_maps(y);
    at = 0;
    for (int g = 0; g < ng; g++) {
        const Group *G = &y->groups[g];
        for (int k = 0; k < G->U; k++) {
            int j = ords[at + k];
            if (j == k)
                continue;
            for (int ci = 0; ci < G->width; ci++)
                y->amap[G->units[j * G->width + ci]] = G->units[k * G->width + ci];
            const int32_t *it = G->items[j], *dst = G->dense + (size_t)k * y->ncode;
            for (int i = 0; i < G->nitems[j]; i++) {
                int p1 = it[2 * i], pj = it[2 * i + 1];
                set_pcm(y, pj, p1 >= 0 && p1 < y->ncode ? dst[p1] : p1);
            }
            for (int i = 0; i < G->nown; i++) {
                int kind = G->kind[i], x = G->own[j * G->nown + i];
                if (x >= 0 && x < y->nobj[kind])
                    y->omap[kind][x] = G->own[k * G->nown + i];
            }
        }
        at += G->U;
    }
    for (int w = 0; w < HD(H_NWA); w++) {   /* waiting for the picked f: for f's image */
        const WaitAnyT *wa = &y->wa[w];
        int ipc = pcm(y, wa->pc), img = ipc >= 0 && ipc < y->ncode ? y->wa_at[ipc] : -1;
        if (img < 0)
            continue;
        const WaitAnyT *im = &y->wa[img];
        for (int i = 0; i < wa->n; i++) {
            int f = wa->picked[3 * i], f2 = omap(y, O_FENCE, f);
            for (int q = 0; q < im->n; q++)
                if (im->picked[3 * q] == f2) {
                    set_pcm(y, wa->picked[3 * i + 1], im->picked[3 * q + 1]);
                    if (wa->picked[3 * i + 2] >= 0)
                        set_pcm(y, wa->picked[3 * i + 2], im->picked[3 * q + 2]);
                    break;
                }
        }
    }
    int r = apply(y, t);
    if (r)
        return r;
    *out = y->t2;
    return 1;
}

int sym_canon(Sym *y, const int32_t *t, const int32_t **out)
{
    int r = sym_canon_map(y, t, out);
    return r <= 0 ? r : perm_id(y, y->amap);
}

const int *sym_map(const Sym *y)
{
    return y->amap;
}

int sym_perm(Sym *y, const int32_t *amap)
{
    int m[64];
    for (int a = 0; a < y->A; a++)
        m[a] = amap[a];
    return perm_id(y, m);
}

int sym_edge(Sym *y, int perm)
{
    return iv_push(&y->edge, perm);
}

int sym_result(Sym *y, PyObject *res)
{
    PyObject *p = PyBytes_FromStringAndSize((const char *)y->perms.a, y->perms.n * 4);
    if (!p || PyDict_SetItemString(res, "perms", p) < 0) {
        Py_XDECREF(p);
        return -1;
    }
    Py_DECREF(p);
    p = PyBytes_FromStringAndSize((const char *)y->edge.a, y->edge.n * 4);
    free(y->edge.a), y->edge.a = NULL, y->edge.n = y->edge.cap = 0;
    if (!p || PyDict_SetItemString(res, "edge_perm", p) < 0) {
        Py_XDECREF(p);
        return -1;
    }
    Py_DECREF(p);
    return 0;
}
