/* Sniffs a source's kind without libarchive: the resolve stage only needs the first bytes. */
#include "layer_kind.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

const char *core_layer_kind_name(core_layer_kind kind) {
  switch (kind) {
    case CORE_LAYER_DIR: return "dir";
    case CORE_LAYER_TAR: return "tar";
    case CORE_LAYER_DEB: return "deb";
  }
  return "?";
}

int core_layer_kind_of(const char *path, core_layer_kind *kind, core_error **err) {
  struct stat st;
  if (stat(path, &st) < 0) return core_error_set(err, errno, "'%s'", path);
  if (S_ISDIR(st.st_mode)) {
    *kind = CORE_LAYER_DIR;
    return 0;
  }
  if (!S_ISREG(st.st_mode)) return core_error_set(err, 0, "'%s' is neither a file nor a directory", path);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  char magic[8] = {0};
  if (read(fd, magic, sizeof magic) < 0) return core_error_set(err, errno, "reading '%s'", path);
  *kind = memcmp(magic, "!<arch>\n", 8) == 0 ? CORE_LAYER_DEB : CORE_LAYER_TAR;
  return 0;
}
