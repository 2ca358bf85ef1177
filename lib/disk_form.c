/* Names and recognition of the artifact forms. */
#include "disk_form.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *name;
  core_form form;
} names[] = {{"tim", CORE_FORM_TIM}, {"raw", CORE_FORM_RAW}, {"img", CORE_FORM_RAW}, {"qcow2", CORE_FORM_QCOW2}, {"iso", CORE_FORM_ISO}};

const char *core_form_name(core_form form) {
  switch (form) {
    case CORE_FORM_TIM: return "tim";
    case CORE_FORM_RAW: return "raw";
    case CORE_FORM_QCOW2: return "qcow2";
    case CORE_FORM_ISO: return "iso";
  }
  return "?";
}

int core_form_parse(const char *name, core_form *out, core_error **err) {
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i].name) == 0) return *out = names[i].form, 0;
  return core_error_set(err, 0, "unknown artifact format '%s'; the formats are " CORE_FORM_LIST, name);
}

int core_form_from_path(const char *path, core_form *out, core_error **err) {
  const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
  if (dot && (!slash || dot > slash) && dot[1]) {
    if (strcmp(dot + 1, "raw") == 0) return *out = CORE_FORM_RAW, 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      if (strcmp(dot + 1, names[i].name) == 0) return *out = names[i].form, 0;
  }
  return core_error_set(err, 0,
                        "cannot tell the artifact format from the name '%s'; end it in one of " CORE_FORM_LIST
                        ", or pass --format", path);
}

static int read_at(int fd, void *buf, size_t len, uint64_t at) {
  ssize_t n = pread(fd, buf, len, (off_t)at);
  return n == (ssize_t)len;
}

int core_form_detect(int fd, core_form *out, core_error **err) {
  (void)err;
  unsigned char b[8];
  *out = CORE_FORM_TIM;
  if (read_at(fd, b, 4, 0) && memcmp(b, "QFI\xfb", 4) == 0) return *out = CORE_FORM_QCOW2, 0;
  if (read_at(fd, b, 5, 16 * 2048 + 1) && memcmp(b, "CD001", 5) == 0) return *out = CORE_FORM_ISO, 0;
  if (read_at(fd, b, 8, 512) && memcmp(b, "EFI PART", 8) == 0) return *out = CORE_FORM_RAW, 0;
  return 0;
}
