/* The libzstd adapter of the project's error type, apart from lib/error.c: only the linker
 * compresses with zstd, so only corec links libzstd (corerun reads zstd through libarchive). */
#ifndef CORE_ERROR_ZSTD_H
#define CORE_ERROR_ZSTD_H

#include <stddef.h>

#include "error.h"

/* Sets *err to "<fmt ...>: <ZSTD_getErrorName(code)>" and returns -1. */
int core_error_zstd(core_error **err, size_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
