/* The canonical ustar header of a TIM entry. Every byte is a function of (name, type, size),
 * so the writer and the reader share this one function and cannot drift apart. */
#include "tim_format.h"

#include <stdio.h>
#include <string.h>

/* Field offsets and widths of the POSIX ustar header. */
static const struct {
  const char *name;
  size_t at, len;
} fields[] = {
    {"name", 0, 100},     {"mode", 100, 8},    {"uid", 108, 8},       {"gid", 116, 8},
    {"size", 124, 12},    {"mtime", 136, 12},  {"checksum", 148, 8},  {"type", 156, 1},
    {"linkname", 157, 100}, {"magic", 257, 6}, {"version", 263, 2},   {"uname", 265, 32},
    {"gname", 297, 32},   {"devmajor", 329, 8}, {"devminor", 337, 8}, {"prefix", 345, 155},
    {"padding", 500, 12},
};

const char *core_tar_field_name(size_t at) {
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    if (at >= fields[i].at && at < fields[i].at + fields[i].len) return fields[i].name;
  return "?";
}

/* Writes value as `digits` octal digits and a space, the way libarchive's ustar writer did
 * when corec used it, so every TIM built before keeps its bytes. The rest stays NUL. */
static void octal(uint8_t *field, size_t digits, uint64_t value) {
  char tmp[24];
  snprintf(tmp, sizeof tmp, "%0*llo", (int)digits, (unsigned long long)value);
  memcpy(field, tmp, digits);
  field[digits] = ' ';
}

int core_tar_header(uint8_t hdr[CORE_TAR_BLOCK], const char *name, core_tar_type type, uint64_t size,
                    core_error **err) {
  size_t name_len = strlen(name);
  if (name_len == 0 || name_len > 100)
    return core_error_set(err, 0, "tar entry name '%s' does not fit in a ustar name field (1 to 100 bytes)", name);
  if (type != CORE_TAR_FILE && type != CORE_TAR_DIR)
    return core_error_set(err, 0, "tar entry '%s': a TIM holds only regular files and directories", name);
  if (type == CORE_TAR_DIR && size != 0) return core_error_set(err, 0, "tar directory '%s' cannot have data", name);
  if (size > CORE_TAR_MAX_SIZE)
    return core_error_set(err, 0, "tar entry '%s' has %llu bytes, more than ustar can hold (%llu)", name,
                          (unsigned long long)size, (unsigned long long)CORE_TAR_MAX_SIZE);
  memset(hdr, 0, CORE_TAR_BLOCK);
  memcpy(hdr, name, name_len);
  octal(hdr + 100, 6, type == CORE_TAR_DIR ? 0755 : 0644);
  octal(hdr + 108, 6, 0);
  octal(hdr + 116, 6, 0);
  octal(hdr + 124, 11, size);
  octal(hdr + 136, 11, 0);
  hdr[156] = (uint8_t)type;
  memcpy(hdr + 257, "ustar\0" "00", 8);
  octal(hdr + 329, 6, 0);
  octal(hdr + 337, 6, 0);
  /* The checksum is the sum of all bytes with its own field read as spaces. */
  memset(hdr + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < CORE_TAR_BLOCK; i++) sum += hdr[i];
  octal(hdr + 148, 6, sum);
  hdr[154] = 0; /* the checksum alone ends in NUL then space */
  hdr[155] = ' ';
  return 0;
}
