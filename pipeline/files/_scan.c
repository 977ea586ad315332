/* The compiled core of pipeline/files/fixedscan.py: check and cut fixed-width rows in one pass.
 *
 * Python prepares every array (pipeline/files/fieldprog.py compiles the layout; fixedscan.py allocates the
 * outputs); this file only loops. For rows lo..hi of `rows` (byte offsets of lines in `buf`) and each
 * field: find the end of the value (trailing spaces are padding), check it, and write it out as an
 * Arrow string view (text), a day number (date) or an integer (amount). clean[r] = 1 when every check
 * of the row passed; any other row is zeroed and goes back to the polars/pandera path as text, so
 * this code never decides a reject. The GIL is released: Python runs one call per core.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { F_START, F_WIDTH, F_REQUIRED, F_CLASS, F_OUT_KIND, F_OUT_SLOT, F_ITEM_LO, F_ITEM_HI, F_CODE_LO,
       F_CODE_HI, F_IS_DATE, F_IS_FILLER, F_COLUMNS };
enum { CLASS_ANY, CLASS_ALPHA, CLASS_ALNUM, CLASS_DIGITS };
enum { OUT_NONE, OUT_TEXT, OUT_DATE, OUT_AMOUNT };

typedef struct {
    const uint8_t *buf;
    const int64_t *rows, *fields, *items, *code_len;   /* items: (min, max) pairs */
    const uint8_t *tables, *code_bytes;                  /* tables: 256 per item */
    Py_ssize_t n_fields, code_width, n, line_end;        /* line_end: where the last field ends */
    uint8_t *views, *present, *clean;                    /* views: 16 bytes per (text slot, row) */
    int32_t *dates;
    int64_t *amounts;
} Scan;

static const uint64_t SPACES = 0x2020202020202020ULL;
static const int MONTH_DAYS[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static uint64_t load8(const uint8_t *v) {
    uint64_t word;
    memcpy(&word, v, 8);                   /* one unaligned load; x86 and Arrow are little-endian */
    return word;
}

/* The padding scan has a fixed trip count per field (its width), never one that depends on the data:
 * branch-free like this it costs the same for every row and the CPU never mispredicts its exit. */

/* The position after the last non-space byte of one little-endian word (0 if all spaces). */
static Py_ssize_t word_end(uint64_t word) {
    uint64_t other = word ^ SPACES;
    return other ? (63 - __builtin_clzll(other)) / 8 + 1 : 0;
}

/* Length without the trailing spaces. Fields of 8 bytes and more are read a word at a time (the last
 * word overlapping the one before); shorter ones byte by byte into one word. */
static Py_ssize_t value_length(const uint8_t *v, Py_ssize_t width) {
    if (width < 8) {
        uint64_t word = SPACES;
        for (Py_ssize_t i = 0; i < width; i++) word ^= (uint64_t)(v[i] ^ ' ') << (8 * i);
        return word_end(word);
    }
    Py_ssize_t end = 0, j = 0;
    for (; j + 8 <= width; j += 8) {
        Py_ssize_t e = word_end(load8(v + j));
        end = e ? j + e : end;
    }
    if (j < width) {
        Py_ssize_t e = word_end(load8(v + width - 8));
        end = e ? width - 8 + e : end;
    }
    return end;
}

/* Every byte of the value in the field's class. */
static int in_class(const uint8_t *v, Py_ssize_t n, int64_t byte_class) {
    int bad = 0;
    switch (byte_class) {
    case CLASS_ALPHA:   /* A-Z, space, hyphen */
        for (Py_ssize_t i = 0; i < n; i++) bad |= (v[i] < 'A' || v[i] > 'Z') && v[i] != ' ' && v[i] != '-';
        break;
    case CLASS_ALNUM:   /* printable ASCII without lower case */
        for (Py_ssize_t i = 0; i < n; i++) bad |= v[i] < 0x20 || v[i] > 0x7E || (v[i] >= 'a' && v[i] <= 'z');
        break;
    case CLASS_DIGITS:
        for (Py_ssize_t i = 0; i < n; i++) bad |= v[i] < '0' || v[i] > '9';
        break;
    }
    return !bad;
}

static int64_t digits(const uint8_t *v, Py_ssize_t n) {
    int64_t value = 0;
    for (Py_ssize_t i = 0; i < n; i++) value = value * 10 + (v[i] - '0');
    return value;
}

static int valid_date(const uint8_t *v) {
    int64_t y = digits(v, 4), m = digits(v + 4, 2), d = digits(v + 6, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= MONTH_DAYS[m] + (m == 2 && leap);
}

static int32_t days_from_civil(int64_t y, int64_t m, int64_t d) {   /* H. Hinnant; Arrow date32 */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return (int32_t)(era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468);
}

/* Does v[0:n] match items lo..hi (each a set of bytes repeated min..max times; only the last varies)? */
static int program_ok(const Scan *s, const uint8_t *v, Py_ssize_t n, int64_t lo, int64_t hi) {
    Py_ssize_t pos = 0;
    for (int64_t it = lo; it < hi; it++) {
        int64_t min = s->items[2 * it], max = s->items[2 * it + 1];
        Py_ssize_t take = it == hi - 1 ? n - pos : min;
        if (take < min || take > max || pos + take > n) return 0;
        for (Py_ssize_t i = 0; i < take; i++)
            if (!s->tables[256 * it + v[pos + i]]) return 0;
        pos += take;
    }
    return pos == n;
}

static int code_ok(const Scan *s, const uint8_t *v, Py_ssize_t n, int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; c++)
        if (s->code_len[c] == n && memcmp(s->code_bytes + c * s->code_width, v, n) == 0) return 1;
    return 0;
}

static int field_ok(const Scan *s, const int64_t *f, const uint8_t *v, Py_ssize_t n) {
    if (n == 0) return !f[F_REQUIRED];             /* blank: only REQUIRED applies */
    if (f[F_IS_FILLER] || !in_class(v, n, f[F_CLASS])) return 0;
    if (f[F_CODE_LO] >= 0 && !code_ok(s, v, n, f[F_CODE_LO], f[F_CODE_HI])) return 0;
    if (f[F_ITEM_HI] > f[F_ITEM_LO] && !program_ok(s, v, n, f[F_ITEM_LO], f[F_ITEM_HI])) return 0;
    if (f[F_IS_DATE] && (n != 8 || !valid_date(v))) return 0;
    return !(f[F_OUT_KIND] == OUT_AMOUNT && n > 18);
}

/* Arrow string view, two little-endian words: length and the first 4 bytes, then the next 8 bytes
 * (values of up to 12 bytes live inline, zero-padded) or buffer 0 and the value's offset. */
static void put_view(uint8_t *view, const uint8_t *v, Py_ssize_t n, Py_ssize_t width, int64_t offset) {
    uint64_t head = (uint64_t)n, tail = 0;
    if (n > 12) {
        head |= (uint64_t)(load8(v) & 0xFFFFFFFFULL) << 32;
        tail = (uint64_t)offset << 32;
    } else if (width >= 12) {            /* the 12 bytes are there to load; what is past n is cleared */
        uint64_t lo = load8(v), hi = (uint64_t)load8(v + 4) >> 32;
        if (n < 8) lo &= (1ULL << (8 * n)) - 1;
        hi &= n <= 8 ? 0 : (1ULL << (8 * (n - 8))) - 1;
        head |= lo << 32;
        tail = (lo >> 32) | (hi << 32);
    } else {                             /* narrow field: gather its bytes into the two words */
        for (Py_ssize_t i = 0; i < width; i++) {
            uint64_t byte = i < n ? v[i] : 0;
            if (i < 4) head |= byte << (32 + 8 * i);
            else tail |= byte << (8 * (i - 4));
        }
    }
    memcpy(view, &head, 8);
    memcpy(view + 8, &tail, 8);
}

/* The outputs arrive zeroed (calloc: pages of blank columns are never touched), so a blank value
 * writes nothing; blank_row writes zeros explicitly to undo a row that failed half-way. */
static void put_value(const Scan *s, const int64_t *f, Py_ssize_t r, const uint8_t *v, Py_ssize_t n, int64_t offset) {
    Py_ssize_t slot = f[F_OUT_SLOT];
    if (n == 0) return;
    switch (f[F_OUT_KIND]) {
    case OUT_TEXT:
        put_view(s->views + 16 * (slot * s->n + r), v, n, f[F_WIDTH], offset);
        break;
    case OUT_DATE:
        s->dates[slot * s->n + r] = days_from_civil(digits(v, 4), digits(v + 4, 2), digits(v + 6, 2));
        break;
    case OUT_AMOUNT:
        s->amounts[slot * s->n + r] = digits(v, n);
        break;
    }
}

/* A row that is not clean is never read from the outputs, but Arrow must still find sane values. */
static void blank_row(const Scan *s, Py_ssize_t r) {
    for (Py_ssize_t k = 0; k < s->n_fields; k++) {
        const int64_t *f = s->fields + k * F_COLUMNS;
        Py_ssize_t at = f[F_OUT_SLOT] * s->n + r;
        s->present[k * s->n + r] = 0;
        if (f[F_OUT_KIND] == OUT_TEXT) memset(s->views + 16 * at, 0, 16);
        else if (f[F_OUT_KIND] == OUT_DATE) s->dates[at] = 0;
        else if (f[F_OUT_KIND] == OUT_AMOUNT) s->amounts[at] = 0;
    }
}

/* Rows are cut one after the other, field by field, and the lines of the row PREFETCH places ahead are
 * asked for meanwhile: the hardware prefetcher stops at every 4 KiB page, so without this the loop
 * waits for memory at most fields (measured: 25% faster). */
enum { PREFETCH = 8 };

static void scan_row(const Scan *s, Py_ssize_t r, Py_ssize_t hi) {
    if (r + PREFETCH < hi)
        for (Py_ssize_t at = 0; at < s->line_end; at += 64) __builtin_prefetch(s->buf + s->rows[r + PREFETCH] + at);
    int ok = 1, any_value = 0;
    for (Py_ssize_t k = 0; k < s->n_fields && ok; k++) {
        const int64_t *f = s->fields + k * F_COLUMNS;
        int64_t offset = s->rows[r] + f[F_START];
        const uint8_t *v = s->buf + offset;
        Py_ssize_t n = value_length(v, f[F_WIDTH]);
        if (n > 0) s->present[k * s->n + r] = 1;
        any_value |= n > 0;
        ok = field_ok(s, f, v, n);
        if (ok) put_value(s, f, r, v, n, offset);
    }
    s->clean[r] = ok && any_value;
    if (!s->clean[r]) blank_row(s, r);
}

static int get(PyObject *obj, Py_buffer *view, int writable, const char *name) {
    if (PyObject_GetBuffer(obj, view, writable ? PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS : PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Format(PyExc_TypeError, "scan_rows: %s must be a C-contiguous%s buffer", name, writable ? " writable" : "");
        return -1;
    }
    return 0;
}

/* Outputs must hold every (slot, row) the fields name, and every row must lie inside buf. */
static int sizes_fit(Scan *s, const Py_buffer *b, Py_ssize_t lo, Py_ssize_t hi) {
    Py_ssize_t slots[4] = {0, 0, 0, 0}, line_end = 0;
    for (Py_ssize_t k = 0; k < s->n_fields; k++) {
        const int64_t *f = s->fields + k * F_COLUMNS;
        if (f[F_OUT_KIND] < 0 || f[F_OUT_KIND] > 3 || f[F_START] < 0) return 0;
        if (f[F_OUT_SLOT] + 1 > slots[f[F_OUT_KIND]]) slots[f[F_OUT_KIND]] = f[F_OUT_SLOT] + 1;
        if (f[F_START] + f[F_WIDTH] > line_end) line_end = f[F_START] + f[F_WIDTH];
    }
    for (Py_ssize_t r = lo; r < hi; r++)
        if (s->rows[r] < 0 || s->rows[r] + line_end > b[0].len) return 0;
    s->line_end = line_end;
    return lo >= 0 && lo <= hi && hi <= s->n && b[11].len >= s->n && b[10].len >= s->n * s->n_fields
        && b[7].len >= 16 * s->n * slots[OUT_TEXT] && b[8].len >= 4 * s->n * slots[OUT_DATE]
        && b[9].len >= 8 * s->n * slots[OUT_AMOUNT];
}

static PyObject *scan_rows(PyObject *self, PyObject *args) {
    PyObject *o[12];
    Py_ssize_t lo, hi, code_width;
    if (!PyArg_ParseTuple(args, "nnnOOOOOOOOOOOO", &lo, &hi, &code_width, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11]))
        return NULL;
    Py_buffer b[12];
    static const char *names[12] = {"buf", "rows", "fields", "items", "tables", "code_bytes", "code_len", "views",
                                    "dates", "amounts", "present", "clean"};
    int got = 0;
    for (; got < 12; got++)
        if (get(o[got], &b[got], got >= 7, names[got]) < 0) break;
    PyObject *result = NULL;
    if (got == 12) {
        Scan s = {.buf = b[0].buf, .rows = b[1].buf, .fields = b[2].buf, .items = b[3].buf, .tables = b[4].buf,
                  .code_bytes = b[5].buf, .code_len = b[6].buf, .views = b[7].buf, .dates = b[8].buf,
                  .amounts = b[9].buf, .present = b[10].buf, .clean = b[11].buf, .code_width = code_width,
                  .n_fields = b[2].len / (F_COLUMNS * 8), .n = b[1].len / 8};
        if (!sizes_fit(&s, b, lo, hi)) {
            PyErr_SetString(PyExc_ValueError, "scan_rows: row range or output sizes do not fit");
        } else {
            Py_BEGIN_ALLOW_THREADS
            for (Py_ssize_t r = lo; r < hi; r++) scan_row(&s, r, hi);
            Py_END_ALLOW_THREADS
            result = Py_NewRef(Py_None);
        }
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

/* classify_lines(buf, stride, length, terminator, match_start, match_len, match_bytes, default_kind, kinds):
 * kinds[i] = the first record whose identifier line i carries (match_* give one record per row, in layout
 * order), else default_kind. Returns False if a line does not end with `terminator` right after `length`. */
static PyObject *classify_lines(PyObject *self, PyObject *args) {
    PyObject *o[6];
    Py_ssize_t stride, length, default_kind;
    if (!PyArg_ParseTuple(args, "OnnOOOOnO", &o[0], &stride, &length, &o[1], &o[2], &o[3], &o[4], &default_kind, &o[5]))
        return NULL;
    Py_buffer b[6];
    static const char *names[6] = {"buf", "terminator", "match_start", "match_len", "match_bytes", "kinds"};
    int got = 0;
    for (; got < 6; got++)
        if (get(o[got], &b[got], got == 5, names[got]) < 0) break;
    PyObject *result = NULL;
    Py_ssize_t n = stride > 0 ? b[0].len / stride : 0, n_records = got == 6 ? b[2].len / 8 : 0;
    Py_ssize_t width = n_records ? b[4].len / n_records : 0;
    const int64_t *start = b[2].buf, *len = b[3].buf;
    int fits = got == 6 && stride > 0 && length + b[1].len == stride && b[0].len == n * stride && b[5].len >= 8 * n;
    for (Py_ssize_t m = 0; fits && m < n_records; m++)
        fits = start[m] >= 0 && len[m] <= width && start[m] + len[m] <= length;
    if (got == 6 && !fits) PyErr_SetString(PyExc_ValueError, "classify_lines: sizes do not fit");
    if (fits) {
        const uint8_t *buf = b[0].buf, *term = b[1].buf, *match = b[4].buf;
        int64_t *kinds = b[5].buf;
        int ends_ok = 1;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint8_t *line = buf + i * stride;
            if (i + PREFETCH < n) {              /* the two lines this loop reads, PREFETCH rows ahead */
                __builtin_prefetch(line + PREFETCH * stride);
                __builtin_prefetch(line + PREFETCH * stride + length);
            }
            for (Py_ssize_t j = 0; j < b[1].len; j++) ends_ok &= line[length + j] == term[j];
            kinds[i] = default_kind;
            for (Py_ssize_t m = 0; m < n_records; m++) {
                int same = 1;
                for (Py_ssize_t j = 0; j < len[m]; j++) same &= line[start[m] + j] == match[m * width + j];
                if (same) { kinds[i] = m; break; }
            }
        }
        Py_END_ALLOW_THREADS
        result = PyBool_FromLong(ends_ok);
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"classify_lines", classify_lines, METH_VARARGS,
     "classify_lines(buf, stride, length, terminator, match_start, match_len, match_bytes, default_kind, kinds) -> "
     "whether every line ends with terminator; kinds gets each line's record (see pipeline/files/fixedscan.py)."},
    {"scan_rows", scan_rows, METH_VARARGS,
     "scan_rows(lo, hi, code_width, buf, rows, fields, items, tables, code_bytes, code_len, views, dates, amounts, "
     "present, clean): check and cut rows lo..hi (see pipeline/files/fixedscan.py)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan", "Compiled core of pipeline.files.fixedscan.", -1, methods};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
