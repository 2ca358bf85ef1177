/* Download progress: a rate-limited bar on a terminal, or JSON lines for CI. */
#include "progress.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

enum progress_mode { PROGRESS_NONE, PROGRESS_BAR, PROGRESS_JSON };

/* A bar redrawn faster than the eye reads it only costs terminal bandwidth. */
#define BAR_INTERVAL 0.1
/* JSON lines land in CI logs: one a second keeps a long download readable. */
#define JSON_INTERVAL 1.0

struct core_progress {
  enum progress_mode mode;
  FILE *stream;
  char *source;
  double started;    /* monotonic seconds */
  double last_shown; /* < 0: nothing shown yet */
  uint64_t bytes, total;
  int drawn;         /* the bar's line is open on the terminal */
  int done;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int core_progress_new(core_progress **out, const char *source, int quiet, int json_events, FILE *stream,
                      core_error **err) {
  core_progress *p = calloc(1, sizeof *p);
  if (p == NULL || (p->source = strdup(source ? source : "")) == NULL) {
    core_progress_free(p);
    return core_error_set(err, 0, "out of memory");
  }
  p->stream = stream ? stream : stderr;
  if (quiet)
    p->mode = PROGRESS_NONE;
  else if (json_events)
    p->mode = PROGRESS_JSON;
  else
    p->mode = isatty(fileno(p->stream)) ? PROGRESS_BAR : PROGRESS_NONE;
  p->started = now();
  p->last_shown = -1;
  *out = p;
  return 0;
}

/* "12.3 MiB": binary units, one decimal, so the bar keeps its width as numbers grow. */
static void human(char *buf, size_t len, double n) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t u = 0;
  while (n >= 1024 && u + 1 < sizeof units / sizeof *units) n /= 1024, u++;
  if (u == 0)
    snprintf(buf, len, "%.0f %s", n, units[u]);
  else
    snprintf(buf, len, "%.1f %s", n, units[u]);
}

static int terminal_width(FILE *f) {
  struct winsize ws;
  if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 80;
}

static void draw_bar(core_progress *p, double t) {
  char have[32], total[32], rate[32], eta[32] = "";
  double elapsed = t - p->started;
  double bps = elapsed > 0 ? (double)p->bytes / elapsed : 0;
  human(have, sizeof have, (double)p->bytes);
  human(rate, sizeof rate, bps);
  char tail[128];
  int width = terminal_width(p->stream);
  if (p->total > 0) {
    human(total, sizeof total, (double)p->total);
    if (bps > 0 && p->total > p->bytes) {
      unsigned long s = (unsigned long)((double)(p->total - p->bytes) / bps);
      snprintf(eta, sizeof eta, "  ETA %lu:%02lu", s / 60, s % 60);
    }
    snprintf(tail, sizeof tail, " %s / %s  %s/s%s", have, total, rate, eta);
  } else {
    snprintf(tail, sizeof tail, " %s  %s/s", have, rate);
  }
  /* The line must never wrap, or every redraw would scroll. The bar shrinks (to 10 cells)
   * before the source does; the source then keeps its tail, where the file name is. */
  int avail = width - 1 - (int)strlen(tail);
  int slen = (int)strlen(p->source);
  int cells = 0, keep = avail;
  if (p->total > 0) {
    cells = avail - slen - 3; /* " [" and "]" */
    cells = cells > 20 ? 20 : cells < 10 ? 10 : cells;
    keep = avail - cells - 3;
  }
  if (keep < 20) {
    keep = 20;
    cells = avail - keep - 3;
  }
  if (keep > slen) keep = slen;
  char bar[32] = "";
  if (cells >= 5) {
    uint64_t b = p->bytes > p->total ? p->total : p->bytes;
    int fill = (int)((double)cells * (double)b / (double)p->total);
    bar[0] = ' ';
    bar[1] = '[';
    for (int i = 0; i < cells; i++) bar[2 + i] = i < fill ? '#' : '-';
    bar[2 + cells] = ']';
    bar[3 + cells] = '\0';
  }
  /* \r and erase-to-end: redraw in place, leaving no tail of a longer previous line. */
  if (keep >= slen)
    fprintf(p->stream, "\r%s%s%s\033[K", p->source, bar, tail);
  else
    fprintf(p->stream, "\r...%s%s%s\033[K", p->source + slen - (keep - 3), bar, tail);
  fflush(p->stream);
  p->drawn = 1;
}

static void emit_json(core_progress *p) {
  cleanup_json json_t *j = json_pack("{s:s, s:s, s:I, s:o}", "event", "progress", "source", p->source, "bytes",
                                     (json_int_t)p->bytes, "total",
                                     p->total > 0 ? json_integer((json_int_t)p->total) : json_null());
  if (j == NULL) return; /* progress is advisory: losing a line is not worth failing for */
  char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (line == NULL) return;
  fprintf(p->stream, "%s\n", line);
  fflush(p->stream);
  free(line);
}

static void show(core_progress *p, double t) {
  if (p->mode == PROGRESS_BAR)
    draw_bar(p, t);
  else if (p->mode == PROGRESS_JSON)
    emit_json(p);
  p->last_shown = t;
}

void core_progress_update(core_progress *p, uint64_t bytes, uint64_t total) {
  if (p == NULL || p->mode == PROGRESS_NONE || p->done) return;
  p->bytes = bytes;
  p->total = total;
  double t = now();
  double interval = p->mode == PROGRESS_BAR ? BAR_INTERVAL : JSON_INTERVAL;
  if (p->last_shown < 0 || t - p->last_shown >= interval) show(p, t);
}

void core_progress_done(core_progress *p) {
  if (p == NULL || p->mode == PROGRESS_NONE || p->done) return;
  show(p, now());
  if (p->mode == PROGRESS_BAR) {
    fputc('\n', p->stream);
    fflush(p->stream);
    p->drawn = 0;
  }
  p->done = 1;
}

void core_progress_free(core_progress *p) {
  if (p == NULL) return;
  if (p->drawn) {
    fputs("\r\033[K", p->stream);
    fflush(p->stream);
  }
  free(p->source);
  free(p);
}

void core_progress_freep(core_progress **p) {
  core_progress_free(*p);
  *p = NULL;
}
