/* The libcurl adapter of the project's error type, apart from lib/error.c so that only
 * code that links libcurl pulls in its header. */
#ifndef CORE_ERROR_CURL_H
#define CORE_ERROR_CURL_H

#include <curl/curl.h>

#include "error.h"

/* Sets *err to "<fmt ...>: <cause>" and returns -1. The cause is errbuf (the handle's
 * CURLOPT_ERRORBUFFER) when it holds text, because it names the host, the timeout and so
 * on; else libcurl's fixed text for code. errbuf may be NULL. */
int core_error_curl(core_error **err, CURLcode code, const char *errbuf, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
