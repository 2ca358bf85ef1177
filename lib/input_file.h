/* Reading a file a user names as input (app.yml, its includes, app.lock): regular files only,
 * never more than a cap, so a device, a FIFO or a huge file is refused before any work. */
#ifndef CORE_INPUT_FILE_H
#define CORE_INPUT_FILE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* The cap on one text input (app.yml, an included file, app.lock): far above any real one,
 * small enough that reading it never strains the machine. spec/composition.md, spec/lock.md. */
#define CORE_INPUT_MAX_BYTES (8u << 20)

/* Reads path (symlinks followed) into *out, NUL-terminated, when it is a regular file of at
 * most max bytes. Opening never blocks (a FIFO is refused, not waited on) and never reads
 * more than max + 1 bytes, whatever the file claims. Errors name the path and the problem;
 * errnum is the errno (ENOENT for a missing file), EISDIR or EINVAL for a file that is not a
 * regular file, EFBIG for one over max. */
int core_read_input_file(const char *path, size_t max, core_buf *out, core_error **err);

/* What a stat mode is, for messages ("a directory", "a FIFO", "a character device"...). */
const char *core_file_type_name(unsigned mode);

#endif
