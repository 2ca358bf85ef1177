/* The one error type of the project: a message built up with context as it travels up,
 * printed only by a program's main. Library code never prints. */
#ifndef CORE_ERROR_H
#define CORE_ERROR_H

#include <stddef.h>

typedef struct core_error {
  int errnum;  /* errno value when the cause was a system call, else 0 */
  char *msg;   /* full text, outermost context first; may span lines (diagnostics) */
} core_error;

/* Every failing function sets *err and returns -1, so callers can write
 * `return core_error_set(err, ...)`. *err must be NULL on entry (asserted): a caller that
 * goes on after an error frees it first (core_error_freep) or hands it on. */
int core_error_set(core_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes context to an existing error: "reading 'x': <old message>". */
int core_error_wrap(core_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void core_error_free(core_error *err);
void core_error_freep(core_error **err);

/* Prints "prog: error: message" to stderr. */
void core_error_print(const char *prog, const core_error *err);

/* Adapters, one per dependency: each reads the library's own error report. Those of
 * libraries only corec links are beside their users: linker/error_zstd.h, compiler/sources/error_curl.h. */
struct archive;
int core_error_archive(core_error **err, struct archive *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int core_error_openssl(core_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cleanup_error __attribute__((cleanup(core_error_freep)))

#endif
