/* Standard base64 (RFC 4648 section 4) through OpenSSL. */
#ifndef CORE_BASE64_H
#define CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Returns a NUL-terminated string the caller frees. */
int core_base64_encode(const void *data, size_t len, char **out, core_error **err);
/* Decodes padded standard base64; anything else is an error. */
int core_base64_decode(const char *text, core_buf *out, core_error **err);

#endif
