/* Compiler diagnostics: collected while checking, rendered the way C compilers print them. */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "fsutil.h"
#include "input_file.h"
#include "json.h"

typedef struct diag_entry {
  core_diag_level level;
  const char *file; /* interned in core_diag.files */
  int line, col, len;
  char *msg;
  char *hint;
  char *msg_hidden; /* shown instead of msg when the file is hidden: see core_diag_set_private */
  size_t parent; /* notes: index of the entry they belong to; others: their own index */
} diag_entry;

typedef struct diag_file {
  char *name;
  char *text; /* NULL when not registered and not (yet) read */
  size_t len;
  bool loaded; /* text is set, or reading it was tried and failed */
  bool hidden; /* never quoted: see core_diag_hide_source */
} diag_file;

struct core_diag {
  char *file;
  diag_entry *v;
  size_t n, cap;
  diag_file *files;
  size_t n_files;
  size_t n_errors, n_warnings;
  size_t shown_errors, shown_warnings;
  bool last_dropped; /* the last error or warning was over the cap: drop its notes too */
  bool oom;
};

core_diag *core_diag_new(const char *file) {
  core_diag *d = calloc(1, sizeof *d);
  if (d == NULL) return NULL;
  d->file = strdup(file ? file : "");
  if (d->file == NULL) {
    free(d);
    return NULL;
  }
  return d;
}

void core_diag_free(core_diag *d) {
  if (d == NULL) return;
  for (size_t i = 0; i < d->n; i++) {
    free(d->v[i].msg);
    free(d->v[i].hint);
    free(d->v[i].msg_hidden);
  }
  for (size_t i = 0; i < d->n_files; i++) {
    free(d->files[i].name);
    free(d->files[i].text);
  }
  free(d->v);
  free(d->files);
  free(d->file);
  free(d);
}

static diag_file *file_get(core_diag *d, const char *name) {
  for (size_t i = 0; i < d->n_files; i++)
    if (strcmp(d->files[i].name, name) == 0) return &d->files[i];
  diag_file *nf = realloc(d->files, (d->n_files + 1) * sizeof *nf);
  if (nf == NULL) return NULL;
  d->files = nf;
  diag_file *f = &d->files[d->n_files];
  *f = (diag_file){.name = strdup(name)};
  if (f->name == NULL) return NULL;
  d->n_files++;
  return f;
}

void core_diag_set_source(core_diag *d, const char *file, const char *text, size_t len) {
  if (d == NULL || file == NULL) return;
  diag_file *f = file_get(d, file);
  char *copy = malloc(len + 1);
  if (f == NULL || copy == NULL) {
    free(copy);
    d->oom = true;
    return;
  }
  memcpy(copy, text, len);
  copy[len] = 0;
  free(f->text);
  f->text = copy;
  f->len = len;
  f->loaded = true;
}

void core_diag_hide_source(core_diag *d, const char *file) {
  if (d == NULL || file == NULL) return;
  diag_file *f = file_get(d, file);
  if (f == NULL) {
    d->oom = true;
    return;
  }
  f->hidden = true;
  /* Dropping the copy too: nothing later can quote what is no longer held. */
  free(f->text);
  f->text = NULL;
  f->len = 0;
  f->loaded = true;
}

static void diag_vadd(core_diag *d, core_diag_level level, const core_pos *pos, int len, const char *hint,
                      const char *fmt, va_list ap) {
  if (level == CORE_DIAG_NOTE) {
    if (d->n == 0 || d->last_dropped) return;
  } else {
    size_t *count = level == CORE_DIAG_ERROR ? &d->n_errors : &d->n_warnings;
    size_t *shown = level == CORE_DIAG_ERROR ? &d->shown_errors : &d->shown_warnings;
    (*count)++;
    d->last_dropped = *shown >= CORE_DIAG_MAX_ERRORS;
    if (d->last_dropped) return;
    (*shown)++;
  }
  /* A failed addition drops the notes that would follow it, as the cap does. */
  d->last_dropped = true;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    diag_entry *nv = realloc(d->v, cap * sizeof *nv);
    if (nv == NULL) {
      d->oom = true;
      return;
    }
    d->v = nv;
    d->cap = cap;
  }
  diag_entry e = {.level = level, .parent = d->n};
  if (level == CORE_DIAG_NOTE) {
    e.parent = d->n - 1;
    while (d->v[e.parent].level == CORE_DIAG_NOTE) e.parent = d->v[e.parent].parent;
  }
  if (pos && pos->file) {
    diag_file *f = file_get(d, pos->file);
    if (f == NULL) {
      d->oom = true;
      return;
    }
    e.file = f->name;
    e.line = pos->line;
    e.col = pos->col;
    e.len = len;
  }
  if (vasprintf(&e.msg, fmt, ap) < 0) {
    d->oom = true;
    return;
  }
  if (hint && (e.hint = strdup(hint)) == NULL) {
    free(e.msg);
    d->oom = true;
    return;
  }
  d->v[d->n++] = e;
  d->last_dropped = false;
}

void core_diag_set_private(core_diag *d, const char *fallback) {
  if (d == NULL || d->last_dropped || d->n == 0) return; /* not added: nothing to replace */
  diag_entry *e = &d->v[d->n - 1];
  free(e->msg_hidden);
  if ((e->msg_hidden = strdup(fallback)) == NULL) d->oom = true;
}

/* The message to show: one quoting a hidden file's content gives way to its fallback. */
static const char *entry_msg(const core_diag *d, const diag_entry *e) {
  if (e->msg_hidden && e->file)
    for (size_t i = 0; i < d->n_files; i++)
      if (d->files[i].name == e->file && d->files[i].hidden) return e->msg_hidden;
  return e->msg;
}

void core_diag_add(core_diag *d, core_diag_level level, const core_pos *pos, int len, const char *hint,
                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vadd(d, level, pos, len, hint, fmt, ap);
  va_end(ap);
}

void core_diag_error(core_diag *d, const core_pos *pos, int len, const char *hint, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vadd(d, CORE_DIAG_ERROR, pos, len, hint, fmt, ap);
  va_end(ap);
}

void core_diag_warning(core_diag *d, const core_pos *pos, int len, const char *hint, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vadd(d, CORE_DIAG_WARNING, pos, len, hint, fmt, ap);
  va_end(ap);
}

void core_diag_note(core_diag *d, const core_pos *pos, int len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  diag_vadd(d, CORE_DIAG_NOTE, pos, len, NULL, fmt, ap);
  va_end(ap);
}

const char *core_diag_excerpt(const char *s, char *buf, size_t size) {
  if (size < 8) {
    if (size) buf[0] = 0;
    return buf;
  }
  size_t k = 0, max = size - 4;
  for (; *s && k < max; s++) buf[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
  if (*s) {
    while (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80) k--; /* not inside a character */
    if (k > 0 && (unsigned char)buf[k - 1] >= 0xC0) k--;
    memcpy(buf + k, "...", 3);
    k += 3;
  }
  buf[k] = 0;
  return buf;
}

size_t core_diag_error_count(const core_diag *d) { return d->n_errors + (d->oom ? 1 : 0); }
size_t core_diag_warning_count(const core_diag *d) { return d->n_warnings; }

/* --- rendering --- */

typedef struct out {
  core_buf b;
  bool oom;
} out;

static void out_write(out *o, const char *s, size_t n) {
  if (!o->oom && core_buf_append(&o->b, s, n, NULL) < 0) o->oom = true;
}

static void out_printf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) {
    o->oom = true;
    return;
  }
  out_write(o, s, (size_t)n);
  free(s);
}

static void file_load(diag_file *f) {
  if (f->loaded) return;
  f->loaded = true;
  core_buf b = CORE_BUF_INIT;
  /* The file may have changed since it was parsed: read it as any input, within the cap. */
  if (core_read_input_file(f->name, CORE_INPUT_MAX_BYTES, &b, NULL) < 0) return; /* then no snippet */
  f->len = b.len;
  f->text = (char *)core_buf_take(&b, NULL);
}

/* Finds the line (1-based) in text; YAML ends lines with \n, \r\n or \r. */
static bool find_line(const char *text, size_t len, int line, const char **start, size_t *n) {
  size_t i = 0;
  for (int l = 1; l < line; l++) {
    while (i < len && text[i] != '\n' && text[i] != '\r') i++;
    if (i == len) return false;
    if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') i++;
    i++;
  }
  if (i > len || (i == len && line > 1 && text[i - 1] != '\n' && text[i - 1] != '\r')) return false;
  if (line == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) i = 3; /* libyaml skips the BOM */
  size_t j = i;
  while (j < len && text[j] != '\n' && text[j] != '\r') j++;
  *start = text + i;
  *n = j - i;
  return true;
}

static bool is_utf8_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

static int digits(int n) {
  int w = 1;
  while (n >= 10) {
    n /= 10;
    w++;
  }
  return w;
}

static const char *level_name(core_diag_level l) {
  return l == CORE_DIAG_ERROR ? "error" : l == CORE_DIAG_WARNING ? "warning" : "note";
}

/* Lines longer than this are shown as a window around the caret. */
#define SNIPPET_MAX_CHARS 120
#define SNIPPET_BEFORE 50

static void render_snippet(out *o, const diag_entry *e, diag_file *f) {
  if (f->hidden) return;
  file_load(f);
  const char *line = NULL;
  size_t n = 0;
  if (f->text == NULL || !find_line(f->text, f->len, e->line, &line, &n)) return;
  /* Columns count characters, as libyaml does. */
  size_t n_chars = 0;
  for (size_t i = 0; i < n; i++)
    if (!is_utf8_cont((unsigned char)line[i])) n_chars++;
  size_t col0 = (size_t)e->col - 1; /* the caret's character index */
  size_t first = 0, last = n_chars;
  if (n_chars > SNIPPET_MAX_CHARS) {
    first = col0 > SNIPPET_BEFORE ? col0 - SNIPPET_BEFORE : 0;
    if (first > n_chars) first = n_chars;
    last = first + (SNIPPET_MAX_CHARS - 20) < n_chars ? first + (SNIPPET_MAX_CHARS - 20) : n_chars;
  }
  /* byte offsets of characters first and last */
  size_t bfirst = n, blast = n;
  for (size_t i = 0, ci = 0; i <= n; i++) {
    if (i < n && is_utf8_cont((unsigned char)line[i])) continue;
    if (ci == first && bfirst == n) bfirst = i;
    if (ci == last) {
      blast = i;
      break;
    }
    ci++;
  }
  if (bfirst > blast) bfirst = blast;
  int width = digits(e->line) < 5 ? 5 : digits(e->line);
  out_printf(o, "%*d | %s", width, e->line, first > 0 ? "..." : "");
  out_write(o, line + bfirst, blast - bfirst);
  out_printf(o, "%s\n%*s | %s", last < n_chars ? "..." : "", width, "", first > 0 ? "   " : "");
  /* Keep tabs in the padding so the caret lines up with the text above. */
  size_t i = bfirst, ci = first;
  for (; ci < col0; ci++) {
    if (i < blast) {
      out_write(o, line[i] == '\t' ? "\t" : " ", 1);
      i++;
      while (i < blast && is_utf8_cont((unsigned char)line[i])) i++;
    } else {
      out_write(o, " ", 1);
    }
  }
  size_t rest = ci < last ? last - ci : 0; /* characters shown from the caret on */
  size_t len = e->len <= 0 ? 1 : (size_t)e->len < rest ? (size_t)e->len : rest;
  out_write(o, "^", 1);
  for (size_t k = 1; k < len; k++) out_write(o, "~", 1);
  out_write(o, "\n", 1);
}

static void render_entry(out *o, core_diag *d, const diag_entry *e) {
  if (e->file && e->line > 0)
    out_printf(o, "%s:%d:%d: %s: %s\n", e->file, e->line, e->col, level_name(e->level), entry_msg(d, e));
  else if (e->file)
    out_printf(o, "%s: %s: %s\n", e->file, level_name(e->level), entry_msg(d, e));
  else
    out_printf(o, "%s: %s\n", level_name(e->level), entry_msg(d, e));
  if (e->file && e->line > 0) {
    for (size_t i = 0; i < d->n_files; i++)
      if (d->files[i].name == e->file) render_snippet(o, e, &d->files[i]);
  }
  if (e->hint) {
    int width = e->line > 0 && digits(e->line) > 5 ? digits(e->line) : 5;
    out_printf(o, "%*s = hint: %s\n", width, "", e->hint);
  }
}

static int entry_cmp(const void *a, const void *b) {
  const diag_entry *x = *(const diag_entry *const *)a, *y = *(const diag_entry *const *)b;
  const char *fx = x->file ? x->file : "", *fy = y->file ? y->file : "";
  int c = strcmp(fx, fy);
  if (c) return c;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  if (x->col != y->col) return x->col < y->col ? -1 : 1;
  return x->parent < y->parent ? -1 : x->parent > y->parent; /* stable: order of addition */
}

/* The errors and warnings in the order they are shown: by position, then as added. NULL when
 * out of memory; the caller frees the array. */
static diag_entry **sorted_top(core_diag *d, size_t *n_out) {
  size_t n_top = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->v[i].level != CORE_DIAG_NOTE) n_top++;
  diag_entry **top = calloc(n_top ? n_top : 1, sizeof *top);
  if (top == NULL) return NULL;
  n_top = 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->v[i].level != CORE_DIAG_NOTE) top[n_top++] = &d->v[i];
  qsort(top, n_top, sizeof *top, entry_cmp);
  *n_out = n_top;
  return top;
}

static void render_body(out *o, core_diag *d) {
  size_t n_top = 0;
  cleanup_free diag_entry **top = sorted_top(d, &n_top);
  if (top == NULL) {
    o->oom = true;
    return;
  }
  for (size_t k = 0; k < n_top; k++) {
    render_entry(o, d, top[k]);
    size_t idx = (size_t)(top[k] - d->v);
    for (size_t j = idx + 1; j < d->n && d->v[j].level == CORE_DIAG_NOTE; j++) render_entry(o, d, &d->v[j]);
  }
}

static void render_summary(out *o, core_diag *d) {
  if (d->n_errors > d->shown_errors)
    out_printf(o, "%s: note: too many errors; %zu more not shown\n", d->file, d->n_errors - d->shown_errors);
  if (d->n_warnings > d->shown_warnings)
    out_printf(o, "%s: note: too many warnings; %zu more not shown\n", d->file,
               d->n_warnings - d->shown_warnings);
  if (d->oom) out_printf(o, "%s: error: out of memory while collecting diagnostics\n", d->file);
  size_t ne = core_diag_error_count(d), nw = d->n_warnings;
  if (ne == 0 && nw == 0) return;
  out_printf(o, "%s: ", d->file);
  if (ne) out_printf(o, "%zu error%s", ne, ne == 1 ? "" : "s");
  if (ne && nw) out_write(o, ", ", 2);
  if (nw) out_printf(o, "%zu warning%s", nw, nw == 1 ? "" : "s");
  out_write(o, "\n", 1);
}

static char *out_finish(out *o) {
  out_write(o, "", 1);
  if (o->oom) {
    core_buf_release(&o->b);
    return NULL;
  }
  return (char *)core_buf_take(&o->b, NULL);
}

char *core_diag_render(core_diag *d) {
  out o = {CORE_BUF_INIT, false};
  render_body(&o, d);
  render_summary(&o, d);
  return out_finish(&o);
}

/* Hands a rendered text to the error type without formatting it again. */
static int error_from_text(core_error **err, char *text) {
  if (text == NULL) return core_error_set(err, 0, "out of memory while rendering diagnostics");
  core_error_set(err, 0, "%s", text);
  free(text);
  return -1;
}

/* One diagnostic as a JSON object; notes leave out severity and hint. NULL when out of memory. */
static json_t *entry_json(const core_diag *d, const diag_entry *e, bool note) {
  json_t *j = json_object();
  if (j == NULL) return NULL;
  int bad = json_object_set_new(j, "file", json_string(e->file ? e->file : d->file));
  bad |= json_object_set_new(j, "line", json_integer(e->file ? e->line : 0));
  bad |= json_object_set_new(j, "col", json_integer(e->file && e->line > 0 ? e->col : 0));
  if (!note) bad |= json_object_set_new(j, "severity", json_string(level_name(e->level)));
  bad |= json_object_set_new(j, "message", json_string(entry_msg(d, e)));
  if (!note && e->hint) bad |= json_object_set_new(j, "hint", json_string(e->hint));
  if (bad) {
    json_decref(j);
    return NULL;
  }
  return j;
}

int core_diag_to_json(core_diag *d, json_t **out, core_error **err) {
  size_t n_top = 0;
  cleanup_free diag_entry **top = sorted_top(d, &n_top);
  cleanup_json json_t *j = json_object();
  json_t *list = json_array();
  if (top == NULL || j == NULL || list == NULL || json_object_set_new(j, "diagnostics", list) < 0)
    return core_error_set(err, 0, "out of memory while writing diagnostics as JSON");
  size_t ne = core_diag_error_count(d);
  int bad = json_object_set_new(j, "file", json_string(d->file));
  bad |= json_object_set_new(j, "ok", json_boolean(ne == 0));
  bad |= json_object_set_new(j, "errors", json_integer((json_int_t)ne));
  bad |= json_object_set_new(j, "warnings", json_integer((json_int_t)d->n_warnings));
  for (size_t k = 0; k < n_top && !bad; k++) {
    json_t *e = entry_json(d, top[k], false);
    bad |= e == NULL || json_array_append_new(list, e) < 0;
    size_t idx = (size_t)(top[k] - d->v);
    json_t *notes = NULL;
    for (size_t i = idx + 1; i < d->n && d->v[i].level == CORE_DIAG_NOTE && !bad; i++) {
      if (notes == NULL && (notes = json_array()) != NULL) bad |= json_object_set_new(e, "notes", notes) < 0;
      json_t *nj = entry_json(d, &d->v[i], true);
      bad |= notes == NULL || nj == NULL || json_array_append_new(notes, nj) < 0;
    }
  }
  if (bad || d->oom) return core_error_set(err, 0, "out of memory while writing diagnostics as JSON");
  *out = TAKE_PTR(j);
  return 0;
}

int core_diag_to_error(core_diag *d, core_error **err) {
  if (core_diag_error_count(d) == 0) return 0;
  return error_from_text(err, core_diag_render(d));
}

int core_error_at(core_error **err, const core_pos *pos, const char *hint, const char *fmt, ...) {
  cleanup_diag core_diag *d = core_diag_new(pos && pos->file ? pos->file : "");
  if (d == NULL) return core_error_set(err, 0, "out of memory");
  va_list ap;
  va_start(ap, fmt);
  diag_vadd(d, CORE_DIAG_ERROR, pos, 0, hint, fmt, ap);
  va_end(ap);
  out o = {CORE_BUF_INIT, false};
  render_body(&o, d);
  if (d->oom) o.oom = true;
  return error_from_text(err, out_finish(&o));
}
