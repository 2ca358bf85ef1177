/* corec's reporter: a rate-limited progress bar on a terminal, JSON lines for CI, or
 * nothing; notices as they come, on a line of their own. */
#include "corec_reporter.h"

#include <errno.h>
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

typedef struct corec_reporter {
  core_reporter base; /* first: the library sees only this */
  enum progress_mode mode;
  FILE *stream;
  int columns;
  double (*clock)(void *ctx);
  void *clock_ctx;
  /* The task in progress. */
  char *source;
  double started;    /* clock seconds */
  double last_shown; /* < 0: nothing shown yet */
  uint64_t bytes, total;
  int active;
  int drawn; /* the bar's line is open on the terminal */
} corec_reporter;

static double monotonic(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(const corec_reporter *p) { return p->clock(p->clock_ctx); }

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

static int terminal_width(const corec_reporter *p) {
  if (p->columns > 0) return p->columns;
  struct winsize ws;
  if (ioctl(fileno(p->stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 80;
}

static void wipe(corec_reporter *p) {
  if (!p->drawn) return;
  fputs("\r\033[K", p->stream);
  fflush(p->stream);
  p->drawn = 0;
}

static void draw_bar(corec_reporter *p, double t) {
  char have[32], total[32], rate[32], eta[32] = "";
  double elapsed = t - p->started;
  double bps = elapsed > 0 ? (double)p->bytes / elapsed : 0;
  human(have, sizeof have, (double)p->bytes);
  human(rate, sizeof rate, bps);
  char tail[128];
  int width = terminal_width(p);
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

static void emit_json(corec_reporter *p) {
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

static void show(corec_reporter *p, double t) {
  if (p->mode == PROGRESS_BAR)
    draw_bar(p, t);
  else if (p->mode == PROGRESS_JSON)
    emit_json(p);
  p->last_shown = t;
}

static void end_task(corec_reporter *p, int ok) {
  if (!p->active) return;
  if (ok && p->mode != PROGRESS_NONE) {
    show(p, now(p));
    if (p->mode == PROGRESS_BAR) {
      fputc('\n', p->stream);
      fflush(p->stream);
      p->drawn = 0;
    }
  }
  wipe(p); /* a failure: the error prints on a clean line */
  free(p->source);
  p->source = NULL;
  p->active = 0;
}

static void begin(core_reporter *r, const char *label) {
  corec_reporter *p = (corec_reporter *)r;
  end_task(p, 0); /* one task at a time: a forgotten end must not leave a bar behind */
  if (p->mode == PROGRESS_NONE) return;
  /* Without memory for the label, the task is simply not shown: progress is advisory. */
  if ((p->source = strdup(label)) == NULL) return;
  p->active = 1;
  p->started = now(p);
  p->last_shown = -1;
  p->bytes = p->total = 0;
}

static void update(core_reporter *r, uint64_t bytes, uint64_t total) {
  corec_reporter *p = (corec_reporter *)r;
  if (!p->active) return;
  p->bytes = bytes;
  p->total = total;
  double t = now(p);
  double interval = p->mode == PROGRESS_BAR ? BAR_INTERVAL : JSON_INTERVAL;
  if (p->last_shown < 0 || t - p->last_shown >= interval) show(p, t);
}

static void end(core_reporter *r, int ok) { end_task((corec_reporter *)r, ok); }

static void notice(core_reporter *r, const char *text) {
  corec_reporter *p = (corec_reporter *)r;
  /* Over a bar, the notice takes the line and the bar is drawn again below it. */
  int redraw = p->drawn;
  wipe(p);
  fputs(text, p->stream);
  if (text[0] && text[strlen(text) - 1] != '\n') fputc('\n', p->stream);
  fflush(p->stream);
  if (redraw) draw_bar(p, now(p));
}

static const core_reporter_ops corec_reporter_ops = {begin, update, end, notice};

int corec_reporter_new(const corec_reporter_opts *opts, core_reporter **out, core_error **err) {
  corec_reporter *p = calloc(1, sizeof *p);
  if (p == NULL) return core_error_set(err, ENOMEM, "allocating the progress reporter");
  p->base.ops = &corec_reporter_ops;
  p->stream = opts->stream ? opts->stream : stderr;
  p->columns = opts->columns;
  p->clock = opts->clock ? opts->clock : monotonic;
  p->clock_ctx = opts->clock_ctx;
  if (opts->quiet)
    p->mode = PROGRESS_NONE;
  else if (opts->json_events)
    p->mode = PROGRESS_JSON;
  else
    p->mode = opts->terminal ? PROGRESS_BAR : PROGRESS_NONE;
  *out = &p->base;
  return 0;
}

int corec_reporter_for_stderr(int quiet, int json_events, core_reporter **out, core_error **err) {
  corec_reporter_opts o = {.quiet = quiet, .json_events = json_events, .terminal = isatty(STDERR_FILENO)};
  return corec_reporter_new(&o, out, err);
}

void corec_reporter_free(core_reporter *r) {
  if (r == NULL) return;
  corec_reporter *p = (corec_reporter *)r;
  end_task(p, 0);
  free(p);
}

void corec_reporter_freep(core_reporter **r) {
  corec_reporter_free(*r);
  *r = NULL;
}
