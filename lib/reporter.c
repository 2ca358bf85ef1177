/* Calls into a reporter that tolerate a NULL reporter and missing operations, so callers
 * never test for them. */
#include "reporter.h"

#include <stddef.h>

core_progress core_progress_begin(core_reporter *r, const char *label) {
  if (r && r->ops->begin) r->ops->begin(r, label ? label : "");
  return (core_progress){r};
}

void core_progress_update(core_progress *p, uint64_t bytes, uint64_t total) {
  if (p && p->reporter && p->reporter->ops->update) p->reporter->ops->update(p->reporter, bytes, total);
}

static void end(core_progress *p, int ok) {
  if (p == NULL || p->reporter == NULL) return;
  if (p->reporter->ops->end) p->reporter->ops->end(p->reporter, ok);
  p->reporter = NULL;
}

void core_progress_done(core_progress *p) { end(p, 1); }

void core_progress_abandon(core_progress *p) { end(p, 0); }

void core_report_notice(core_reporter *r, const char *text) {
  if (r && r->ops->notice && text) r->ops->notice(r, text);
}
