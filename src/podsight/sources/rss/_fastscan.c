/* Fast path of podsight's RSS/Atom parser: one pass over UTF-8 bytes.
 *
 * scan(data) -> (root, root_uris, leading_ws, html_entities, unbound_prefixes) or None (declined).
 *
 * It tokenises XML (elements, attributes, namespaces, CDATA, comments, PIs, the
 * predefined and numeric character references) and builds just what parser.py reads:
 * an _El for each element outside items (tag = parser.py's normalised key, attrib in
 * lxml's "{uri}local" form, value = stripped text of the subtree), and for each item a
 * dict of the values parser.py's _collect would keep. Anything it does not handle
 * exactly like lxml's strict parse (DOCTYPE, unknown entities, malformed markup,
 * non-UTF-8, control characters, unbound prefixes, ...) makes it return None, and the
 * lxml path parses the document. Hand-written because measurement showed lxml's tree
 * plus Python extraction could not reach the target (docs/rss.md).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <stdint.h>
#include <ctype.h>

#include <structmember.h>
#include <datetime.h>

/* An element as parser.py reads it (see parser._El's docstring). */
typedef struct {
    PyObject_HEAD
    PyObject *tag, *attrib, *value, *children, *mixed, *v;
} ElObject;

static void el_dealloc(ElObject *e) {
    Py_XDECREF(e->tag); Py_XDECREF(e->attrib); Py_XDECREF(e->value);
    Py_XDECREF(e->children); Py_XDECREF(e->mixed); Py_XDECREF(e->v);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

static PyObject *el_get(ElObject *e, PyObject *const *args, Py_ssize_t n) {
    if (n < 1 || n > 2) { PyErr_SetString(PyExc_TypeError, "get(key, default=None)"); return NULL; }
    PyObject *dflt = n == 2 ? args[1] : Py_None;
    if (e->attrib && e->attrib != Py_None) {
        PyObject *r = PyDict_GetItemWithError(e->attrib, args[0]);
        if (r) return Py_NewRef(r);
        if (PyErr_Occurred()) return NULL;
    }
    return Py_NewRef(dflt);
}

static PyObject *el_iter(ElObject *e) {
    if (e->children && e->children != Py_None) return PyObject_GetIter(e->children);
    PyObject *t = PyTuple_New(0);
    PyObject *it = PyObject_GetIter(t);
    Py_DECREF(t);
    return it;
}

static Py_ssize_t el_len(ElObject *e) {
    return (e->children && e->children != Py_None) ? PyList_GET_SIZE(e->children) : 0;
}

static PyMemberDef el_members[] = {
    {"tag", T_OBJECT, offsetof(ElObject, tag), 0, NULL},
    {"attrib", T_OBJECT, offsetof(ElObject, attrib), 0, NULL},
    {"value", T_OBJECT, offsetof(ElObject, value), 0, NULL},
    {"children", T_OBJECT, offsetof(ElObject, children), 0, NULL},
    {"mixed", T_OBJECT, offsetof(ElObject, mixed), 0, NULL},
    {"v", T_OBJECT, offsetof(ElObject, v), 0, NULL},
    {NULL}};
static PyMethodDef el_methods[] = {{"get", (PyCFunction)(void (*)(void))el_get, METH_FASTCALL, NULL}, {NULL}};
static PySequenceMethods el_seq = {.sq_length = (lenfunc)el_len};
static PyTypeObject ElType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "podsight.sources.rss._fastscan.El",
    .tp_basicsize = sizeof(ElObject),
    .tp_dealloc = (destructor)el_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = (getiterfunc)el_iter,
    .tp_as_sequence = &el_seq,
    .tp_members = el_members,
    .tp_methods = el_methods,
    .tp_doc = "An element read by the fast scanner: tag, attrib, value, children, mixed, v.",
};

static PyObject *mk_el(PyObject *tag, PyObject *attrib, PyObject *value, PyObject *children,
                       PyObject *mixed, PyObject *v) {
    ElObject *e = PyObject_New(ElObject, &ElType);
    if (!e) return NULL;
    e->tag = Py_NewRef(tag); e->attrib = Py_XNewRef(attrib); e->value = Py_NewRef(value);
    e->children = Py_XNewRef(children); e->mixed = Py_NewRef(mixed); e->v = Py_XNewRef(v);
    return (PyObject *)e;
}

/* set by configure() */
static PyObject *NsPrefix;    /* callable: uri -> canonical prefix str or None */
static PyObject *ItemCodes;   /* dict: key -> int code */
static PyObject *Str_specials;
static PyObject *Zone;        /* podsight.sources.text._zone */
static PyObject *NsCache;     /* uri -> canonical prefix or None */
static PyObject *Unbound;     /* prefix -> the URI the unbound-prefix repair gives it */

/* item dispatch codes (parser.py's configure call): skip, keep text, keep markup, an
 * element parser.py's handler reads (deferred), media:group, and the three common
 * handlers done here exactly as parser.py's _item_guid/_item_enclosure/_item_itunes_image,
 * and atom:link (deferred; it may set "enclosure" too, so enclosures after it are deferred). */
enum { C_SKIP = 0, C_TEXT = 1, C_MARKUP = 2, C_SPECIAL = 3, C_GROUP = 4, C_GUID = 5,
       C_ENCLOSURE = 6, C_ITUNES_IMAGE = 7, C_ATOM_LINK = 8, C_MARKUP0 = 10 /* + rank */ };

#define MAXDEPTH 190
#define MAXNS 256

typedef struct {
    const char *pfx; Py_ssize_t plen;   /* prefix bytes ("" for default) */
    PyObject *uri;                       /* str or NULL (undeclared default) */
    PyObject *canon;                     /* canonical prefix str, or NULL if unknown ns */
} NsDecl;

typedef struct {
    const char *qn; Py_ssize_t qlen;     /* raw qualified name for end-tag matching */
    int ns_top;                          /* ns stack height before this element */
    int mode;                            /* what to do with this element */
    PyObject *el;                        /* _El being built, or NULL */
    PyObject *children;                  /* list for _El children, or NULL */
    PyObject *key;                       /* normalised tag (owned) */
    Py_ssize_t tstart;                   /* start offset in text buffer, -1 if not capturing */
    int has_child;                       /* element children seen */
    int has_comment;                     /* comment children seen */
    int code;                            /* item dispatch code */
    PyObject *attrib;                    /* M_DIRECT: the attributes */
    PyObject *item;                      /* item dict this element writes into, or NULL */
} Frame;

enum { M_PLAIN = 0, M_ROOT, M_CHANNEL, M_ITEM, M_KEEP, M_SKIP, M_GROUP, M_DIRECT };

typedef struct {
    const unsigned char *s, *end;
    NsDecl ns[MAXNS]; int ns_n;
    Frame f[MAXDEPTH + 2]; int depth;
    char *tb; Py_ssize_t tlen, tcap;     /* text buffer */
    int capturing;                       /* count of open capturing frames */
    int declined;
    PyObject *root;
    PyObject *root_uris;
    int channel_seen;
    int item_atom_link;                  /* an atom:link deferred in the current item */
    NsDecl imp[16]; int imp_n;           /* undeclared prefixes, bound as the repair does */
    PyObject *unbound;                   /* list of their names */
    /* the current item's description candidates (_DESCRIPTION_ORDER ranks): raw bytes in
     * ib, decoded at the item's end only for the one parser.py would use */
    char *ib; Py_ssize_t ilen, icap;
    int mk_set[6], mk_mixed[6]; Py_ssize_t mk_off[6], mk_len[6]; PyObject *mk_key[6];
    int html_entities;                   /* HTML named entities / bare '&' met (a repair) */
    int cdata_in_markup;                 /* "<![CDATA[" inside a comment or PI */
    /* normalised keys by (namespace object, local name): one str per distinct tag */
    struct { PyObject *ns; char local[48]; Py_ssize_t ln; PyObject *key; } kc[1024];
} S;

static int tb_put(S *st, const char *p, Py_ssize_t n) {
    if (st->tlen + n > st->tcap) {
        Py_ssize_t cap = st->tcap ? st->tcap : 4096;
        while (cap < st->tlen + n) cap *= 2;
        char *nb = PyMem_Realloc(st->tb, cap);
        if (!nb) { PyErr_NoMemory(); return -1; }
        st->tb = nb; st->tcap = cap;
    }
    memcpy(st->tb + st->tlen, p, n); st->tlen += n; return 0;
}

static int put_cp(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = cp; return 1; }
    if (cp < 0x800) { o[0] = 0xC0 | (cp >> 6); o[1] = 0x80 | (cp & 63); return 2; }
    if (cp < 0x10000) { o[0] = 0xE0 | (cp >> 12); o[1] = 0x80 | ((cp >> 6) & 63); o[2] = 0x80 | (cp & 63); return 3; }
    o[0] = 0xF0 | (cp >> 18); o[1] = 0x80 | ((cp >> 12) & 63); o[2] = 0x80 | ((cp >> 6) & 63); o[3] = 0x80 | (cp & 63); return 4;
}

static PyObject *Html5;       /* html.entities.html5 */

/* Reference at p ('&'); writes UTF-8 into o (64 bytes), returns bytes written, sets *adv;
 * -1 = decline, -2 = Python error. What is not XML's own (an HTML named entity, a bare
 * '&') is read as parser._fix_entities rewrites it, and flagged as that repair. */
static int entity(void *stp, const unsigned char *p, const unsigned char *end, char *o, Py_ssize_t *adv) {
    S *st = stp;
    const unsigned char *q = p + 1;
    if (q < end && *q == '#') {
        unsigned long cp = 0; int nd = 0; q++;
        if (q < end && *q == 'x') {
            q++;
            for (; q < end && nd < 8; q++, nd++) {
                int c = *q, v;
                if (c >= '0' && c <= '9') v = c - '0';
                else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
                else break;
                cp = cp * 16 + v;
            }
        } else {
            for (; q < end && nd < 8 && *q >= '0' && *q <= '9'; q++, nd++) cp = cp * 10 + (*q - '0');
        }
        if (!nd || q >= end || *q != ';') return -1;
        if (!(cp == 9 || cp == 10 || cp == 13 || (cp >= 0x20 && cp <= 0xD7FF) ||
              (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF)))
            return -1;
        if (cp >= 0x80 && cp <= 0x9F) return -1; /* windows-1252 repair belongs to lxml path */
        *adv = q + 1 - p;
        return put_cp(o, (unsigned)cp);
    }
    Py_ssize_t n = end - q;
#define ENT(name, ch) if (n >= (Py_ssize_t)sizeof(name) && memcmp(q, name ";", sizeof(name)) == 0) { *adv = sizeof(name) + 1; o[0] = ch; return 1; }
    ENT("amp", '&') ENT("lt", '<') ENT("gt", '>') ENT("quot", '"') ENT("apos", '\'')
#undef ENT
    st->html_entities = 1;
    Py_ssize_t k = 0;
    if (q < end && isalpha(*q)) {
        k = 1;
        while (k < 32 && q + k < end && isalnum(q[k])) k++;
        if (!(q + k < end && q[k] == ';')) k = 0;
    }
    if (!k) { o[0] = '&'; *adv = 1; return 1; }  /* a bare ampersand */
    *adv = k + 2;
    char name[40];
    memcpy(name, q, k); name[k] = ';';
    PyObject *key = PyUnicode_FromStringAndSize(name, k + 1);
    if (!key) return -2;
    PyObject *val = PyDict_GetItemWithError(Html5, key);
    Py_DECREF(key);
    if (!val) {
        if (PyErr_Occurred()) return -2;
        memcpy(o, p, k + 2);  /* unknown: kept as text */
        return (int)(k + 2);
    }
    Py_ssize_t vn; const char *u = PyUnicode_AsUTF8AndSize(val, &vn);
    if (!u) return -2;
    if (vn > 60) return -1;
    memcpy(o, u, vn);
    return (int)vn;
}

/* Text (character data) from p to e: validate, and append to buffer if capturing. */
static int text_run(S *st, const unsigned char *p, const unsigned char *e) {
    while (p < e) {
        const unsigned char *a = p;
        while (p + 8 <= e) {  /* eight bytes at a time while none is '&', '\r' or ']' */
            uint64_t w; memcpy(&w, p, 8);
            uint64_t x1 = w ^ 0x2626262626262626ULL, x2 = w ^ 0x0D0D0D0D0D0D0D0DULL, x3 = w ^ 0x5D5D5D5D5D5D5D5DULL;
            uint64_t z = ((x1 - 0x0101010101010101ULL) & ~x1) | ((x2 - 0x0101010101010101ULL) & ~x2) |
                         ((x3 - 0x0101010101010101ULL) & ~x3);
            if (z & 0x8080808080808080ULL) break;
            p += 8;
        }
        while (p < e && *p != '&' && *p != '\r' && *p != ']') p++;
        if (st->capturing && p > a && tb_put(st, (const char *)a, p - a) < 0) return -1;
        if (p >= e) break;
        if (*p == '&') {
            char o[64]; Py_ssize_t adv;
            int n = entity(st, p, st->end, o, &adv);
            if (n == -2) return -1;
            if (n < 0) { st->declined = 1; return 1; }
            if (st->capturing && tb_put(st, o, n) < 0) return -1;
            p += adv;
        } else if (*p == '\r') {
            if (st->capturing && tb_put(st, "\n", 1) < 0) return -1;
            p++; if (p < e && *p == '\n') p++;
        } else { /* ']' : "]]>" is an error in text */
            if (p + 2 < st->end && p[1] == ']' && p[2] == '>') { st->declined = 1; return 1; }
            if (st->capturing && tb_put(st, "]", 1) < 0) return -1;
            p++;
        }
    }
    return 0;
}

static int is_name_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_name_char(unsigned char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
static int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Whole-document checks lxml's path treats specially: control characters, invalid UTF-8,
 * U+FFFE/U+FFFF, C1 controls in UTF-8, and "&#128;".."&#159;" anywhere. */
static int precheck(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    int nonascii = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w; memcpy(&w, s + i, 8);
            uint64_t hi = w & 0x8080808080808080ULL;
            uint64_t lo = (w - 0x2020202020202020ULL) & ~w & 0x8080808080808080ULL;
            uint64_t x = w ^ 0x2626262626262626ULL;
            uint64_t amp = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
            if (!(hi | lo | amp)) { i += 8; continue; }
        }
        unsigned char c = s[i];
        if (c < 0x20) {
            if (c != 9 && c != 10 && c != 13) return -1;
            i++;
        } else if (c == '&') {
            if (i + 2 < n && s[i + 1] == '#') {
                const unsigned char *q = s + i + 2; Py_ssize_t r = n - i - 2;
                if (r >= 4 && q[0] == '1' && q[1] >= '2' && q[1] <= '5' && q[2] >= '0' && q[2] <= '9' && q[3] == ';') return -1;
                if (r >= 4 && (q[0] == 'x' || q[0] == 'X') && (q[1] == '8' || q[1] == '9') && isxdigit(q[2]) && q[3] == ';') return -1;
            }
            i++;
        } else if (c < 0x80) {
            i++;
        } else {
            int len; unsigned cp;
            if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 31; }
            else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 15; }
            else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 7; }
            else return -1;
            if (i + len > n) return -1;
            for (int k = 1; k < len; k++) {
                if ((s[i + k] & 0xC0) != 0x80) return -1;
                cp = (cp << 6) | (s[i + k] & 63);
            }
            if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return -1;
            if (cp >= 0xD800 && cp <= 0xDFFF) return -1;
            if (cp == 0xFFFE || cp == 0xFFFF) return -1;
            if (cp >= 0x80 && cp <= 0x9F) return -1;
            i += len;
            nonascii = 1;
        }
    }
    return nonascii;
}

static const unsigned char *find(const unsigned char *p, const unsigned char *end, const char *pat, size_t n) {
    return (const unsigned char *)memmem(p, end - p, pat, n);
}

/* Stripped str (Python's str.strip semantics) or None. */
static PyObject *stripped(const char *b, Py_ssize_t n) {
    Py_ssize_t a = 0, z = n;
    while (a < z && (b[a] == ' ' || b[a] == '\n' || b[a] == '\t' || b[a] == '\r')) a++;
    while (z > a && (b[z - 1] == ' ' || b[z - 1] == '\n' || b[z - 1] == '\t' || b[z - 1] == '\r')) z--;
    if (a == z) Py_RETURN_NONE;
    PyObject *s = PyUnicode_DecodeUTF8(b + a, z - a, NULL);
    if (!s) return NULL;
    if ((unsigned char)b[a] >= 0x80 || (unsigned char)b[z - 1] >= 0x80) {
        PyObject *t = PyObject_CallMethod(s, "strip", NULL);
        Py_DECREF(s);
        if (!t) return NULL;
        if (PyUnicode_GET_LENGTH(t) == 0) { Py_DECREF(t); Py_RETURN_NONE; }
        return t;
    }
    return s;
}

static NsDecl *lookup_ns(S *st, const char *p, Py_ssize_t n) {
    for (int i = st->ns_n - 1; i >= 0; i--)
        if (st->ns[i].plen == n && memcmp(st->ns[i].pfx, p, n) == 0) return &st->ns[i];
    /* An undeclared prefix: bound as the unbound-prefix repair binds it (on the root, to
     * the conventional URI or urn:x-podsight:unbound:<prefix>); parser.py checks that the
     * document declares it nowhere, as the repair requires. */
    if (n == 0 || (n >= 3 && (p[0] | 32) == 'x' && (p[1] | 32) == 'm' && (p[2] | 32) == 'l')) return NULL;
    for (int i = 0; i < st->imp_n; i++)
        if (st->imp[i].plen == n && memcmp(st->imp[i].pfx, p, n) == 0) return &st->imp[i];
    if (st->imp_n >= 16 || !st->unbound) return NULL;
    PyObject *name = PyUnicode_DecodeUTF8(p, n, NULL);
    if (!name) { PyErr_Clear(); return NULL; }
    PyObject *uri = PyObject_CallOneArg(Unbound, name);
    if (!uri || PyList_Append(st->unbound, name) < 0) { Py_XDECREF(uri); Py_DECREF(name); PyErr_Clear(); return NULL; }
    Py_DECREF(name);
    PyObject *c = PyObject_CallOneArg(NsPrefix, uri);
    if (!c) { Py_DECREF(uri); PyErr_Clear(); return NULL; }
    NsDecl *d = &st->imp[st->imp_n++];
    d->pfx = p; d->plen = n; d->uri = uri; d->canon = NULL;
    if (c == Py_None) Py_DECREF(c); else d->canon = c;
    return d;
}

static PyObject *lower_ascii(const char *p, Py_ssize_t n, const char *pre, Py_ssize_t pn) {
    char buf[512];
    if (n + pn + 1 > (Py_ssize_t)sizeof buf) return NULL;
    memcpy(buf, pre, pn);
    Py_ssize_t k = pn;
    if (pn) buf[k++] = ':';
    for (Py_ssize_t i = 0; i < n; i++) { char c = p[i]; buf[k++] = (c >= 'A' && c <= 'Z') ? c + 32 : c; }
    return PyUnicode_FromStringAndSize(buf, k);
}

static PyObject *elem_key_new(S *st, NsDecl *d, const char *local, Py_ssize_t ln);

/* Normalised key of an element name, as parser._norm gives for lxml's tag (new ref). */
static PyObject *elem_key(S *st, const char *q, Py_ssize_t qn) {
    const char *colon = memchr(q, ':', qn);
    NsDecl *d;
    const char *local; Py_ssize_t ln;
    if (colon) {
        d = lookup_ns(st, q, colon - q);
        if (!d || !d->uri) { st->declined = 1; return NULL; }
        local = colon + 1; ln = qn - (colon - q) - 1;
    } else {
        d = lookup_ns(st, "", 0);
        local = q; ln = qn;
        if (d && !d->uri) d = NULL;
    }
    PyObject *ns = d ? (d->canon ? d->canon : d->uri) : NULL;
    if (ln >= 48) return elem_key_new(st, d, local, ln);
    uint32_t h = 2166136261u ^ (uint32_t)((uintptr_t)ns >> 4);
    for (Py_ssize_t i = 0; i < ln; i++) h = (h ^ (unsigned char)local[i]) * 16777619u;
    for (int probe = 0; probe < 8; probe++) {
        int slot = (h + probe) & 1023;
        if (!st->kc[slot].key) {
            PyObject *key = elem_key_new(st, d, local, ln);
            if (!key) return NULL;
            st->kc[slot].ns = Py_XNewRef(ns);  /* held: its address must not be reused */
            memcpy(st->kc[slot].local, local, ln); st->kc[slot].ln = ln;
            st->kc[slot].key = Py_NewRef(key);
            return key;
        }
        if (st->kc[slot].ns == ns && st->kc[slot].ln == ln && memcmp(st->kc[slot].local, local, ln) == 0)
            return Py_NewRef(st->kc[slot].key);
    }
    return elem_key_new(st, d, local, ln);
}

static PyObject *elem_key_new(S *st, NsDecl *d, const char *local, Py_ssize_t ln) {
    if (!d) {
        PyObject *k = lower_ascii(local, ln, "", 0);
        if (!k && !PyErr_Occurred()) st->declined = 1;
        return k;
    }
    if (d->canon) {
        Py_ssize_t cn; const char *c = PyUnicode_AsUTF8AndSize(d->canon, &cn);
        PyObject *k = lower_ascii(local, ln, c, cn);
        if (!k && !PyErr_Occurred()) st->declined = 1;
        return k;
    }
    PyObject *l = PyUnicode_DecodeUTF8(local, ln, NULL);
    if (!l) return NULL;
    PyObject *r = PyUnicode_FromFormat("{%U}%U", d->uri, l);
    Py_DECREF(l);
    return r;
}

static void free_frame(Frame *f) {
    Py_CLEAR(f->el); Py_CLEAR(f->children); Py_CLEAR(f->key); Py_CLEAR(f->item); Py_CLEAR(f->attrib);
}

static PyObject *new_el(PyObject *key, PyObject *attrib) {
    PyObject *children = PyList_New(0);
    if (!children) return NULL;
    PyObject *el = mk_el(key, attrib, Py_None, children, Py_False, NULL);
    Py_DECREF(children);
    return el;
}

/* Parse attributes after the name; handles xmlns declarations. Returns attrib dict or
 * Py_None (new ref), NULL on error/decline. *pp advanced to '>' or '/'. */
typedef struct { const char *n; Py_ssize_t nl; const char *v; Py_ssize_t vl; } RawAttr;

static int scan_tag(S *st, const unsigned char **pp, RawAttr *ra, int *nra, int max) {
    const unsigned char *p = *pp, *end = st->end;
    *nra = 0;
    for (;;) {
        const unsigned char *ws = p;
        while (p < end && is_ws(*p)) p++;
        if (p >= end) return -1;
        if (*p == '>' || (*p == '/' && p + 1 < end && p[1] == '>')) { *pp = p; return 0; }
        if (p == ws) return -1;  /* attributes need whitespace before them */
        if (!is_name_start(*p)) return -1;
        const unsigned char *n = p;
        int colons = 0;
        while (p < end && (is_name_char(*p) || *p == ':')) { if (*p == ':') colons++; p++; }
        if (colons > 1) return -1;
        Py_ssize_t nl = p - n;
        if (colons) {  /* a QName: the local part starts like a name */
            const unsigned char *c = memchr(n, ':', nl);
            if (c + 1 >= p || !is_name_start(c[1])) return -1;
        }
        while (p < end && is_ws(*p)) p++;
        if (p >= end || *p != '=') return -1;
        p++;
        while (p < end && is_ws(*p)) p++;
        if (p >= end || (*p != '"' && *p != '\'')) return -1;
        unsigned char qc = *p++;
        const unsigned char *v = p;
        while (p < end && *p != qc) { if (*p == '<') return -1; p++; }
        if (p >= end) return -1;
        if (*nra >= max) return -1;
        ra[*nra].n = (const char *)n; ra[*nra].nl = nl; ra[*nra].v = (const char *)v; ra[*nra].vl = p - v;
        (*nra)++;
        p++;
    }
}

static PyObject *attr_value(S *st, const char *v, Py_ssize_t vl) {
    char small[512]; char *o = vl * 4 + 64 <= (Py_ssize_t)sizeof small ? small : PyMem_Malloc(vl * 4 + 64);
    if (!o) return PyErr_NoMemory();
    Py_ssize_t k = 0;
    const unsigned char *p = (const unsigned char *)v, *e = p + vl;
    while (p < e) {
        unsigned char c = *p;
        if (c == '&') {
            Py_ssize_t adv; int n = entity(st, p, e, o + k, &adv);
            if (n < 0) { if (o != small) PyMem_Free(o); if (n == -1) st->declined = 1; return NULL; }
            k += n; p += adv;
        } else if (c == '\r') { o[k++] = ' '; p++; if (p < e && *p == '\n') p++; }
        else if (c == '\n' || c == '\t') { o[k++] = ' '; p++; }
        else o[k++] = *p++;
    }
    PyObject *r = PyUnicode_DecodeUTF8(o, k, NULL);
    if (o != small) PyMem_Free(o);
    return r;
}

static int handle_start(S *st, const unsigned char *p, const unsigned char **out) {
    /* p at name start */
    const unsigned char *end = st->end, *q = p;
    if (!is_name_start(*q)) return 1;
    int colons = 0;
    while (q < end && (is_name_char(*q) || *q == ':')) { if (*q == ':') colons++; q++; }
    if (colons > 1 || q >= end) return 1;
    if (colons == 1) {  /* a QName: the local part starts like a name */
        const unsigned char *c = memchr(p, ':', q - p);
        if (c + 1 >= q || !is_name_start(c[1])) return 1;
    }
    const char *qn = (const char *)p; Py_ssize_t qlen = q - p;
    RawAttr ra[64]; int nra;
    if (scan_tag(st, &q, ra, &nra, 64) < 0) return 1;
    int empty = (*q == '/');
    *out = q + (empty ? 2 : 1);
    if (st->depth >= MAXDEPTH) return 1;
    int ns_top = st->ns_n;
    /* namespace declarations first */
    for (int i = 0; i < nra; i++) {
        const char *n = ra[i].n; Py_ssize_t nl = ra[i].nl;
        int def = (nl == 5 && memcmp(n, "xmlns", 5) == 0);
        int pre = (nl > 6 && memcmp(n, "xmlns:", 6) == 0);
        if (!def && !pre) continue;
        if (st->ns_n >= MAXNS) return 1;
        for (int j = 0; j < i; j++)  /* a prefix declared twice on one element */
            if (ra[j].nl == nl && memcmp(ra[j].n, n, nl) == 0) return 1;
        PyObject *uri = attr_value(st, ra[i].v, ra[i].vl);
        if (!uri) return st->declined ? 1 : -1;
        if (PyUnicode_GET_LENGTH(uri) == 0) {
            if (pre) { Py_DECREF(uri); return 1; }
            Py_CLEAR(uri);
        }
        NsDecl *d = &st->ns[st->ns_n++];
        d->pfx = def ? "" : n + 6; d->plen = def ? 0 : nl - 6;
        d->uri = uri; d->canon = NULL;
        if (uri) {  /* canonical prefix of the URI, remembered across documents */
            PyObject *c = PyDict_GetItemWithError(NsCache, uri);
            if (c) Py_INCREF(c);
            else {
                if (PyErr_Occurred() || !(c = PyObject_CallOneArg(NsPrefix, uri))) return -1;
                if (PyDict_GET_SIZE(NsCache) > 1000) PyDict_Clear(NsCache);
                if (PyDict_SetItem(NsCache, uri, c) < 0) { Py_DECREF(c); return -1; }
            }
            if (c == Py_None) Py_DECREF(c); else d->canon = c;
            if (st->depth == 0 && PyList_Append(st->root_uris, uri) < 0) return -1;
        }
    }
    int parent_mode = st->depth ? st->f[st->depth - 1].mode : -1;
    Frame *pf = st->depth ? &st->f[st->depth - 1] : NULL;
    if (pf) pf->has_child = 1;
    PyObject *key = elem_key(st, qn, qlen);
    if (!key) return (st->declined || !PyErr_Occurred()) ? 1 : -1;
    Frame *f = &st->f[st->depth];
    memset(f, 0, sizeof *f);
    f->qn = qn; f->qlen = qlen; f->ns_top = ns_top; f->key = key; f->tstart = -1;
    /* decide the mode */
    int mode;
    if (st->depth == 0) mode = M_ROOT;
    else if (parent_mode == M_ITEM || parent_mode == M_GROUP) {
        PyObject *c = PyDict_GetItemWithError(ItemCodes, key);
        if (!c && PyErr_Occurred()) return -1;
        int code = c ? (int)PyLong_AsLong(c) : C_SKIP;
        PyObject *item = pf->item;
        f->code = code;
        if (code == C_TEXT) {
            int has = PyDict_Contains(item, key);
            if (has < 0) return -1;
            mode = has ? M_SKIP : M_KEEP;
        } else if (code >= C_MARKUP0 && code < C_MARKUP0 + 6) {
            int rank = code - C_MARKUP0;
            mode = st->mk_set[rank] ? M_SKIP : M_KEEP;
            st->mk_set[rank] = 1;
        } else if (code == C_SPECIAL) mode = M_PLAIN;
        else if (code == C_ATOM_LINK) { mode = M_PLAIN; st->item_atom_link = 1; }
        else if (code == C_GUID || code == C_ITUNES_IMAGE) mode = M_DIRECT;
        else if (code == C_ENCLOSURE) mode = st->item_atom_link ? M_PLAIN : M_DIRECT;
        else if (code == C_GROUP) mode = M_GROUP;
        else mode = M_SKIP;
        Py_INCREF(item); f->item = item;
    } else if (parent_mode == M_SKIP || parent_mode == M_KEEP || parent_mode == M_DIRECT) mode = M_SKIP;
    else {
        /* element outside items: items of root / first channel become item dicts */
        int is_item = PyUnicode_CompareWithASCIIString(key, "item") == 0 ||
                      PyUnicode_CompareWithASCIIString(key, "atom:entry") == 0;
        if (is_item && (parent_mode == M_ROOT || parent_mode == M_CHANNEL)) mode = M_ITEM;
        else if (parent_mode == M_ROOT && !st->channel_seen &&
                 PyUnicode_CompareWithASCIIString(key, "channel") == 0) { mode = M_CHANNEL; st->channel_seen = 1; }
        else mode = M_PLAIN;
    }
    f->mode = mode;
    /* ordinary attributes (only kept where an _El is built) */
    PyObject *attrib = NULL;
    int want_attrs = (mode == M_ROOT || mode == M_CHANNEL || mode == M_PLAIN || mode == M_ITEM ||
                      mode == M_DIRECT);
    for (int i = 0; i < nra; i++) {
        const char *n = ra[i].n; Py_ssize_t nl = ra[i].nl;
        if ((nl == 5 && memcmp(n, "xmlns", 5) == 0) || (nl > 6 && memcmp(n, "xmlns:", 6) == 0)) continue;
        for (int j = 0; j < i; j++)
            if (ra[j].nl == nl && memcmp(ra[j].n, n, nl) == 0) return 1; /* duplicate */
        const char *colon = memchr(n, ':', nl);
        if (colon && !(colon - n == 3 && memcmp(n, "xml", 3) == 0)) {
            NsDecl *d0 = lookup_ns(st, n, colon - n);
            if (!d0 || !d0->uri) { Py_XDECREF(attrib); return 1; }
            /* the same namespace and name under two prefixes is an error */
            Py_ssize_t ln0 = nl - (colon - n) - 1;
            for (int j = 0; j < i; j++) {
                const char *cj = memchr(ra[j].n, ':', ra[j].nl);
                if (!cj || ra[j].nl - (cj - ra[j].n) - 1 != ln0 || memcmp(cj + 1, colon + 1, ln0) != 0) continue;
                NsDecl *dj = lookup_ns(st, ra[j].n, cj - ra[j].n);
                if (dj && dj->uri && PyUnicode_Compare(dj->uri, d0->uri) == 0) { Py_XDECREF(attrib); return 1; }
            }
        }
        if (!want_attrs) {  /* still validate the value */
            const unsigned char *a = (const unsigned char *)ra[i].v, *ae = a + ra[i].vl;
            while ((a = memchr(a, '&', ae - a))) {
                char o[64]; Py_ssize_t adv;
                int n = entity(st, a, ae, o, &adv);
                if (n == -2) { Py_XDECREF(attrib); return -1; }
                if (n < 0) { Py_XDECREF(attrib); return 1; }
                a += adv;
            }
            continue;
        }
        PyObject *name = NULL;
        if (colon) {
            NsDecl *d = NULL;
            if (colon - n == 3 && memcmp(n, "xml", 3) == 0) {
                name = PyUnicode_FromStringAndSize(colon + 1, nl - 4);
                if (name) Py_SETREF(name, PyUnicode_FromFormat("{http://www.w3.org/XML/1998/namespace}%U", name));
            } else {
                d = lookup_ns(st, n, colon - n);
                if (!d || !d->uri) { Py_XDECREF(attrib); return 1; }
                name = PyUnicode_FromStringAndSize(colon + 1, nl - (colon - n) - 1);
                if (name) Py_SETREF(name, PyUnicode_FromFormat("{%U}%U", d->uri, name));
            }
        } else {

            name = PyUnicode_FromStringAndSize(n, nl);
        }
        if (!name) { Py_XDECREF(attrib); return -1; }
        PyObject *val = attr_value(st, ra[i].v, ra[i].vl);
        if (!val) { Py_DECREF(name); Py_XDECREF(attrib); return st->declined ? 1 : -1; }
        if (!attrib && !(attrib = PyDict_New())) { Py_DECREF(name); Py_DECREF(val); return -1; }
        if (PyDict_Contains(attrib, name)) { Py_DECREF(name); Py_DECREF(val); Py_DECREF(attrib); return 1; }
        int r = PyDict_SetItem(attrib, name, val);
        Py_DECREF(name); Py_DECREF(val);
        if (r < 0) { Py_DECREF(attrib); return -1; }
    }
    if (mode == M_DIRECT) {
        f->attrib = attrib;
        if (f->code != C_ENCLOSURE) { f->tstart = st->tlen; st->capturing++; }
    } else if (mode == M_ITEM) {
        st->item_atom_link = 0;
        st->ilen = 0;
        for (int i = 0; i < 6; i++) { st->mk_set[i] = 0; Py_CLEAR(st->mk_key[i]); }
        PyObject *item = PyDict_New();
        if (!item) { Py_XDECREF(attrib); return -1; }
        f->item = item;
        PyObject *el = mk_el(key, attrib, Py_None, NULL, Py_False, item);
        Py_XDECREF(attrib);
        if (!el) return -1;
        f->el = el;
    } else if (mode == M_ROOT || mode == M_CHANNEL || mode == M_PLAIN) {
        PyObject *el = new_el(key, attrib);
        Py_XDECREF(attrib);
        if (!el) return -1;
        f->el = el;
        f->children = Py_NewRef(((ElObject *)el)->children);
        if (mode == M_PLAIN) { f->tstart = st->tlen; st->capturing++; }
    } else {
        Py_XDECREF(attrib);
        if (mode == M_KEEP) { f->tstart = st->tlen; st->capturing++; }
    }
    /* attach to parent */
    if (f->el && pf) {
        if (pf->children) { if (PyList_Append(pf->children, f->el) < 0) return -1; }
        else if (pf->item) {  /* a special inside an item or media:group */
            PyObject *lst = PyDict_GetItemWithError(pf->item, Str_specials);
            if (!lst) {
                if (PyErr_Occurred()) return -1;
                lst = PyList_New(0);
                if (!lst || PyDict_SetItem(pf->item, Str_specials, lst) < 0) { Py_XDECREF(lst); return -1; }
                Py_DECREF(lst);
            }
            if (PyList_Append(lst, f->el) < 0) return -1;
        }
    }
    if (st->depth == 0) { Py_INCREF(f->el); st->root = f->el; }
    st->depth++;
    if (empty) {
        *out = q + 2;
        return -2; /* caller closes it */
    }
    return 0;
}

static PyObject *attr(Frame *f, const char *name) {  /* borrowed, NULL if absent */
    if (!f->attrib) return NULL;
    return PyDict_GetItemString(f->attrib, name);
}

static int truthy(PyObject *o) { return o && o != Py_None && PyUnicode_GET_LENGTH(o) > 0; }

/* _item_guid, _item_enclosure, _item_itunes_image; val: the stripped text (stolen) */
static int direct_end(S *st, Frame *f, PyObject *val) {
    PyObject *v = f->item;
    int r = 0;
    if (f->code == C_GUID) {
        static PyObject *k_guid, *k_perma;
        if (!k_guid) { k_guid = PyUnicode_InternFromString("guid"); k_perma = PyUnicode_InternFromString("_permalink"); }
        if (!PyDict_Contains(v, k_guid)) {
            r = PyDict_SetItem(v, k_guid, val);
            PyObject *pl = attr(f, "isPermaLink");
            int perma = 1;
            if (!r && pl) {  /* (value or "true").strip().lower() != "false" */
                PyObject *t = PyObject_CallMethod(pl, "strip", NULL);
                PyObject *l = t ? PyObject_CallMethod(t, "lower", NULL) : NULL;
                Py_XDECREF(t);
                if (!l) r = -1;
                else {
                    if (PyUnicode_GET_LENGTH(pl) > 0 && PyUnicode_CompareWithASCIIString(l, "false") == 0) perma = 0;
                    Py_DECREF(l);
                }
            }
            if (!r && perma) r = PyDict_SetItem(v, k_perma, Py_True);
        }
    } else if (f->code == C_ENCLOSURE) {
        static PyObject *k_enc;
        if (!k_enc) k_enc = PyUnicode_InternFromString("enclosure");
        PyObject *url = attr(f, "url");
        if (!PyDict_Contains(v, k_enc) && truthy(url)) {
            PyObject *t = PyTuple_Pack(3, url, attr(f, "type") ? attr(f, "type") : Py_None,
                                       attr(f, "length") ? attr(f, "length") : Py_None);
            if (!t) r = -1;
            else { r = PyDict_SetItem(v, k_enc, t); Py_DECREF(t); }
        }
    } else {  /* itunes:image: href or url or text */
        static PyObject *k_img;
        if (!k_img) k_img = PyUnicode_InternFromString("itunes:image");
        if (!PyDict_Contains(v, k_img)) {
            PyObject *x = attr(f, "href");
            if (!truthy(x)) x = attr(f, "url");
            if (!truthy(x)) x = val;
            r = PyDict_SetItem(v, k_img, x);
        }
    }
    Py_XDECREF(val);
    return r;
}

/* The description parser.py would pick: the first candidate in rank order that is
 * non-empty once stripped, or that has child elements/comments (parser.py declines). */
static int item_description(S *st, PyObject *item) {
    int r = 0;
    for (int i = 0; i < 6 && !r; i++) {
        if (!st->mk_set[i] || !st->mk_key[i]) continue;
        if (st->mk_mixed[i]) {
            PyObject *el = mk_el(st->mk_key[i], NULL, Py_None, NULL, Py_True, NULL);
            if (!el) return -1;
            r = PyDict_SetItem(item, st->mk_key[i], el);
            Py_DECREF(el);
            break;
        }
        PyObject *val = stripped(st->ib + st->mk_off[i], st->mk_len[i]);
        if (!val) return -1;
        if (val != Py_None) { r = PyDict_SetItem(item, st->mk_key[i], val); Py_DECREF(val); break; }
        Py_DECREF(val);
    }
    for (int i = 0; i < 6; i++) { st->mk_set[i] = 0; Py_CLEAR(st->mk_key[i]); }
    return r;
}

static int handle_end(S *st) {
    Frame *f = &st->f[st->depth - 1];
    int r = 0;
    if (f->mode == M_ITEM && item_description(st, f->item) < 0) return -1;
    if (f->mode == M_KEEP && f->code >= C_MARKUP0) {  /* keep the raw bytes for now */
        int rank = f->code - C_MARKUP0;
        Py_ssize_t n = st->tlen - f->tstart;
        if (st->ilen + n > st->icap) {
            Py_ssize_t cap = st->icap ? st->icap : 65536;
            while (cap < st->ilen + n) cap *= 2;
            char *nb = PyMem_Realloc(st->ib, cap);
            if (!nb) { PyErr_NoMemory(); return -1; }
            st->ib = nb; st->icap = cap;
        }
        memcpy(st->ib + st->ilen, st->tb + f->tstart, n);
        st->mk_off[rank] = st->ilen; st->mk_len[rank] = n; st->ilen += n;
        st->mk_mixed[rank] = f->has_child || f->has_comment;
        Py_XSETREF(st->mk_key[rank], Py_NewRef(f->key));
        st->capturing--;
        if (st->capturing == 0) st->tlen = 0;
        f->tstart = -1;
    }
    if (f->mode == M_DIRECT && f->tstart < 0) r = direct_end(st, f, NULL);
    if (f->tstart >= 0) {
        PyObject *val = stripped(st->tb + f->tstart, st->tlen - f->tstart);
        if (!val) return -1;
        st->capturing--;
        if (f->mode == M_DIRECT) {
            r = direct_end(st, f, val);
        } else if (f->mode == M_KEEP) {
            r = PyDict_SetItem(f->item, f->key, val);
            Py_DECREF(val);
        } else {
            PyObject *mixed = (f->has_child || f->has_comment) ? Py_True : Py_False;
            ElObject *e = (ElObject *)f->el;
            Py_SETREF(e->value, val);
            Py_SETREF(e->mixed, Py_NewRef(mixed));
        }
        if (st->capturing == 0) st->tlen = 0;
    }
    for (int i = f->ns_top; i < st->ns_n; i++) { Py_CLEAR(st->ns[i].uri); Py_CLEAR(st->ns[i].canon); }
    st->ns_n = f->ns_top;
    free_frame(f);
    st->depth--;
    return r;
}

static Py_ssize_t last_pos;  /* where the last scan stopped: for tests and debugging */

static int run(S *st) {
    const unsigned char *p = st->s, *end = st->end;
    int root_done = 0;
    while (p < end) {
        last_pos = p - st->s;
        if (*p != '<') {
            const unsigned char *lt = memchr(p, '<', end - p);
            const unsigned char *e = lt ? lt : end;
            if (st->depth == 0) {
                for (const unsigned char *k = p; k < e; k++) if (!is_ws(*k)) return 1;
            } else {
                int r = text_run(st, p, e);
                if (r) return r;
            }
            p = e;
            continue;
        }
        if (p + 1 >= end) return 1;
        unsigned char c = p[1];
        if (c == '!') {
            if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
                const unsigned char *e = find(p + 4, end, "--", 2);
                if (!e || e + 2 >= end || e[2] != '>') return 1;  /* "--" inside, or unclosed */
                if (e > p + 4 && e[-1] == '-') return 1;
                if (find(p + 4, e, "<![CDATA[", 9)) st->cdata_in_markup = 1;
                if (st->depth) st->f[st->depth - 1].has_comment = 1;
                p = e + 3;
                continue;
            }
            if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
                if (!st->depth) return 1;
                const unsigned char *e = find(p + 9, end, "]]>", 3);
                if (!e) return 1;
                if (st->capturing) {
                    const unsigned char *a = p + 9;
                    while (a < e) {
                        const unsigned char *cr = memchr(a, '\r', e - a);
                        const unsigned char *z = cr ? cr : e;
                        if (tb_put(st, (const char *)a, z - a) < 0) return -1;
                        if (!cr) break;
                        if (tb_put(st, "\n", 1) < 0) return -1;
                        a = cr + 1; if (a < e && *a == '\n') a++;
                    }
                }
                p = e + 3;
                continue;
            }
            return 1; /* DOCTYPE and other declarations */
        }
        if (c == '?') {
            const unsigned char *e = find(p + 2, end, "?>", 2);
            if (!e) return 1;
            const unsigned char *t = p + 2;
            Py_ssize_t tl = 0;
            while (t + tl < e && is_name_char(t[tl])) tl++;
            if (tl == 0) return 1;
            /* the declaration was read by scan(); "xml" is reserved for it */
            if (tl == 3 && (t[0] | 32) == 'x' && (t[1] | 32) == 'm' && (t[2] | 32) == 'l') return 1;
            if (t + tl < e && !is_ws(t[tl])) return 1;
            if (find(p + 2, e, "<![CDATA[", 9)) st->cdata_in_markup = 1;
            p = e + 2;
            continue;
        }
        if (c == '/') {
            if (!st->depth) return 1;
            Frame *f = &st->f[st->depth - 1];
            const unsigned char *q = p + 2;
            if (end - q < f->qlen || memcmp(q, f->qn, f->qlen) != 0) return 1;
            q += f->qlen;
            while (q < end && is_ws(*q)) q++;
            if (q >= end || *q != '>') return 1;
            int r = handle_end(st);
            if (r) return r;
            p = q + 1;
            if (!st->depth) root_done = 1;
            continue;
        }
        if (root_done) return 1;
        const unsigned char *nx;
        int r = handle_start(st, p + 1, &nx);
        if (r == -2) { r = handle_end(st); if (r) return r; if (!st->depth) root_done = 1; }
        else if (r) return r;
        p = nx;
    }
    return root_done ? 0 : 1;
}

/* The XML declaration: only version/encoding/standalone; encoding UTF-8, or ASCII-only
 * documents under an 8-bit label lxml reads the same way. */
/* The XML declaration, strictly: version="1.0", then optionally an encoding (UTF-8, or an
 * 8-bit label on an ASCII-only document, which lxml reads the same way), then optionally
 * standalone="yes"|"no", each after whitespace. Anything else: decline. */
static int xml_decl(const unsigned char *s, const unsigned char *end, int ascii_only) {
    const unsigned char *e = find(s, end, "?>", 2);
    if (!e) return -1;
    const unsigned char *p = s + 5;
    int stage = 0;  /* 0: version next, 1: encoding or standalone, 2: standalone done */
    while (1) {
        const unsigned char *ws = p;
        while (p < e && is_ws(*p)) p++;
        if (p >= e) break;
        if (p == ws) return -1;  /* whitespace needed between pseudo-attributes */
        const unsigned char *n = p;
        while (p < e && is_name_char(*p)) p++;
        Py_ssize_t nl = p - n;
        while (p < e && is_ws(*p)) p++;
        if (p >= e || *p != '=') return -1;
        p++;
        while (p < e && is_ws(*p)) p++;
        if (p >= e || (*p != '"' && *p != '\'')) return -1;
        unsigned char q = *p++;
        const unsigned char *v = p;
        while (p < e && *p != q) p++;
        if (p >= e) return -1;
        Py_ssize_t vl = p - v;
        p++;
        if (stage == 0) {
            if (!(nl == 7 && memcmp(n, "version", 7) == 0 && vl == 3 && memcmp(v, "1.0", 3) == 0)) return -1;
            stage = 1;
        } else if (stage == 1 && nl == 8 && memcmp(n, "encoding", 8) == 0) {
            char b[32]; if (vl >= 31) return -1;
            for (Py_ssize_t i = 0; i < vl; i++) b[i] = (v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i];
            b[vl] = 0;
            int ok = !strcmp(b, "utf-8") || !strcmp(b, "utf8") ||
                     (ascii_only && (!strcmp(b, "us-ascii") || !strcmp(b, "ascii") || !strcmp(b, "iso-8859-1") ||
                                     !strcmp(b, "latin1") || !strcmp(b, "iso-8859-15") || !strcmp(b, "windows-1252")));
            if (!ok) return -1;
            stage = 2;
        } else if (stage >= 1 && stage < 3 && nl == 10 && memcmp(n, "standalone", 10) == 0) {
            if (!((vl == 3 && memcmp(v, "yes", 3) == 0) || (vl == 2 && memcmp(v, "no", 2) == 0))) return -1;
            stage = 3;
        } else return -1;
    }
    return stage ? 0 : -1;
}

static PyObject *scan(PyObject *self, PyObject *arg) {
    Py_buffer buf;
    if (!ItemCodes) { PyErr_SetString(PyExc_RuntimeError, "configure() first"); return NULL; }
    if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *s = buf.buf, *end = s + buf.len;
    PyObject *result = NULL;
    int leading_ws = 0;
    int pc = precheck(s, buf.len);
    if (pc < 0) goto decline;
    int ascii_only = pc == 0;
    {
        const unsigned char *p = s;
        while (p < end && is_ws(*p)) p++;
        if (end - p >= 6 && memcmp(p, "<?xml", 5) == 0 && is_ws(p[5])) {
            if (p != s) leading_ws = 1;
            if (xml_decl(p, end, ascii_only) < 0) goto decline;
            s = find(p, end, "?>", 2) + 2;  /* xml_decl found it */
        } else if (!ascii_only) {
            /* no declaration: UTF-8 by default, fine */
        }
    }
    S *st = PyMem_Calloc(1, sizeof(S));
    if (!st) { PyErr_NoMemory(); goto done; }
    st->s = s; st->end = end;
    st->root_uris = PyList_New(0);
    st->unbound = PyList_New(0);
    if (!st->unbound) { Py_CLEAR(st->root_uris); }
    int gc_was = PyGC_Disable();  /* a tree without cycles: no collections while building */
    int r = st->root_uris ? run(st) : -1;
    if (gc_was) PyGC_Enable();
    if (st->declined && r >= 0) r = 1;
    /* the repair path splits on "<![CDATA[": keep to documents where each is a CDATA
     * section (parser.py checks where it would cut at "<?xml") */
    if (r == 0 && st->html_entities && st->cdata_in_markup) r = 1;
    free_frame(&st->f[st->depth]);
    while (st->depth) { free_frame(&st->f[st->depth - 1]); st->depth--; }
    for (int i = 0; i < st->ns_n; i++) { Py_CLEAR(st->ns[i].uri); Py_CLEAR(st->ns[i].canon); }
    PyMem_Free(st->tb);
    PyMem_Free(st->ib);
    for (int i = 0; i < 6; i++) Py_CLEAR(st->mk_key[i]);
    for (int i = 0; i < st->imp_n; i++) { Py_CLEAR(st->imp[i].uri); Py_CLEAR(st->imp[i].canon); }
    for (int i = 0; i < 1024; i++) { Py_CLEAR(st->kc[i].ns); Py_CLEAR(st->kc[i].key); }
    if (r == 0 && st->root)
        result = Py_BuildValue("(OOOOO)", st->root, st->root_uris, leading_ws ? Py_True : Py_False,
                               st->html_entities ? Py_True : Py_False, st->unbound);
    else if (r > 0 || (r == 0 && !st->root)) { Py_INCREF(Py_None); result = Py_None; }
    Py_XDECREF(st->root); Py_XDECREF(st->root_uris); Py_XDECREF(st->unbound);
    PyMem_Free(st);
    goto done;
decline:
    Py_INCREF(Py_None); result = Py_None;
done:
    PyBuffer_Release(&buf);
    return result;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *nsp, *codes, *h5, *zone, *unb;
    if (!PyArg_ParseTuple(args, "OO!O!OO", &nsp, &PyDict_Type, &codes, &PyDict_Type, &h5, &zone, &unb)) return NULL;
    Py_XSETREF(Unbound, Py_NewRef(unb));
    Py_XSETREF(Zone, Py_NewRef(zone));
    Py_XSETREF(NsCache, PyDict_New());
    if (!NsCache) return NULL;
    Py_XSETREF(Html5, Py_NewRef(h5));
    Py_XSETREF(NsPrefix, Py_NewRef(nsp));
    Py_XSETREF(ItemCodes, Py_NewRef(codes));
    Py_RETURN_NONE;
}

/* Dates and durations in their common well-formed shapes, exactly as podsight.sources.text
 * reads them (_rfc822, parse_duration); anything else returns NotImplemented and the
 * caller uses the Python function. */

static int digits(const char *p, Py_ssize_t n, long *out) {
    if (n < 1 || n > 9) return 0;
    long v = 0;
    for (Py_ssize_t i = 0; i < n; i++) { if (p[i] < '0' || p[i] > '9') return 0; v = v * 10 + (p[i] - '0'); }
    *out = v; return 1;
}

static PyObject *rfc822(PyObject *self, PyObject *arg) {
    Py_ssize_t n;
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg)) Py_RETURN_NOTIMPLEMENTED;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (!s || n > 100) Py_RETURN_NOTIMPLEMENTED;
    const char *tok[7]; Py_ssize_t len[7]; int nt = 0;
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && (s[i] == ' ' || (s[i] >= 9 && s[i] <= 13) || (s[i] >= 28 && s[i] <= 31))) i++;
        if (i >= n) break;
        if (nt == 7) Py_RETURN_NOTIMPLEMENTED;
        tok[nt] = s + i;
        while (i < n && !(s[i] == ' ' || (s[i] >= 9 && s[i] <= 13) || (s[i] >= 28 && s[i] <= 31))) i++;
        len[nt] = s + i - tok[nt]; nt++;
    }
    int o = nt == 6 ? 1 : 0;
    if (nt - o != 5) Py_RETURN_NOTIMPLEMENTED;
    const char *day = tok[o], *mon = tok[o + 1], *year = tok[o + 2], *hms = tok[o + 3], *zone = tok[o + 4];
    static const char *months = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (len[o + 1] < 3) Py_RETURN_NOTIMPLEMENTED;
    char m3[3] = {mon[0] | 32, mon[1] | 32, mon[2] | 32};
    int month = 0;
    for (int i = 0; i < 12; i++) if (memcmp(months + 3 * i, m3, 3) == 0) { month = i + 1; break; }
    if (!month || !isalpha(mon[0]) || !isalpha(mon[1]) || !isalpha(mon[2])) Py_RETURN_NOTIMPLEMENTED;
    long d, y, hh, mm, ss = 0;
    if (!digits(day, len[o], &d) || len[o + 2] != 4 || !digits(year, 4, &y)) Py_RETURN_NOTIMPLEMENTED;
    const char *c1 = memchr(hms, ':', len[o + 3]);
    if (!c1) Py_RETURN_NOTIMPLEMENTED;
    const char *rest = c1 + 1; Py_ssize_t rl = hms + len[o + 3] - rest;
    const char *c2 = memchr(rest, ':', rl);
    if (!digits(hms, c1 - hms, &hh)) Py_RETURN_NOTIMPLEMENTED;
    if (c2) {
        if (!digits(rest, c2 - rest, &mm) || !digits(c2 + 1, hms + len[o + 3] - c2 - 1, &ss)) Py_RETURN_NOTIMPLEMENTED;
    } else if (!digits(rest, rl, &mm)) Py_RETURN_NOTIMPLEMENTED;
    if (y < 1900 || y > 2200 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 59) Py_RETURN_NOTIMPLEMENTED;
    char zu[16];
    if (len[o + 4] >= 16) Py_RETURN_NOTIMPLEMENTED;
    for (Py_ssize_t i = 0; i < len[o + 4]; i++) zu[i] = (zone[i] >= 'a' && zone[i] <= 'z') ? zone[i] - 32 : zone[i];
    PyObject *zs = PyUnicode_FromStringAndSize(zu, len[o + 4]);
    if (!zs) return NULL;
    PyObject *tz = PyObject_CallOneArg(Zone, zs);
    Py_DECREF(zs);
    if (!tz) return NULL;
    if (tz == Py_None) { Py_DECREF(tz); Py_RETURN_NOTIMPLEMENTED; }
    PyObject *dt = PyDateTimeAPI->DateTime_FromDateAndTime((int)y, month, (int)d, (int)hh, (int)mm, (int)ss, 0, tz,
                                                           PyDateTimeAPI->DateTimeType);
    Py_DECREF(tz);
    if (!dt) { PyErr_Clear(); Py_RETURN_NOTIMPLEMENTED; }
    return dt;
}

static PyObject *duration(PyObject *self, PyObject *arg) {
    Py_ssize_t n;
    if (!PyUnicode_Check(arg) || !PyUnicode_IS_ASCII(arg)) Py_RETURN_NOTIMPLEMENTED;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (!s || n < 1 || n > 40) Py_RETURN_NOTIMPLEMENTED;
    long total = 0, part; int parts = 0;
    const char *p = s, *e = s + n;
    while (1) {
        const char *c = memchr(p, ':', e - p);
        const char *z = c ? c : e;
        if (!digits(p, z - p, &part)) Py_RETURN_NOTIMPLEMENTED;
        total = total * 60 + part; parts++;
        if (parts > 3 || total > 10L * 24 * 3600 * 365) Py_RETURN_NOTIMPLEMENTED;
        if (!c) break;
        p = c + 1;
    }
    return PyLong_FromLong(total);
}

static PyObject *last_position(PyObject *self, PyObject *unused) { return PyLong_FromSsize_t(last_pos); }

static PyMethodDef methods[] = {
    {"rfc822", rfc822, METH_O, "text._rfc822's result for well-formed dates, else NotImplemented"},
    {"duration", duration, METH_O, "parse_duration's result for N, M:S, H:M:S, else NotImplemented"},
    {"last_position", last_position, METH_NOARGS, "offset of the token where the last scan stopped"},
    {"scan", scan, METH_O, "scan(data) -> (root, root_uris, leading_ws, html_entities, unbound_prefixes) or None"},
    {"configure", configure, METH_VARARGS, "configure(ns_prefix, item_codes, html5, zone, unbound_uri)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_fastscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastscan(void) {
    Str_specials = PyUnicode_InternFromString("@specials");
    if (!Str_specials) return NULL;
    if (PyType_Ready(&ElType) < 0) return NULL;
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    PyObject *m = PyModule_Create(&mod);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "El", (PyObject *)&ElType) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
