/* Choosing inside index documents: a layout's tag, or an image index's linux/amd64 entry. */
#include "oci_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cleanup.h"
#include "oci.h"

const char *core_oci_media_type(const json_t *doc, const char *content_type) {
  const char *mt = json_string_value(json_object_get(doc, "mediaType"));
  if (mt) return mt;
  if (content_type && *content_type && strncmp(content_type, "application/json", 16) != 0) return content_type;
  return json_is_array(json_object_get(doc, "manifests")) ? OCI_MT_INDEX : OCI_MT_MANIFEST;
}

int core_oci_is_index(const char *media_type) {
  return strcmp(media_type, OCI_MT_INDEX) == 0 || strcmp(media_type, DOCKER_MT_LIST) == 0;
}

/* "a, b, c" from each entry's text (NULL texts skipped), for error messages. */
static char *join_list(const json_t *manifests, const char *(*text)(const json_t *d, char *scratch, size_t n)) {
  core_buf b = CORE_BUF_INIT;
  core_error *ignored = NULL;
  size_t i;
  json_t *d;
  json_array_foreach(manifests, i, d) {
    char scratch[256];
    const char *t = text(d, scratch, sizeof scratch);
    if (t == NULL) continue;
    if ((b.len && core_buf_append(&b, ", ", 2, &ignored) < 0) || core_buf_append(&b, t, strlen(t), &ignored) < 0) break;
  }
  core_error_free(ignored);
  if (core_buf_append(&b, "", 1, &ignored) < 0) {
    core_error_free(ignored);
    core_buf_release(&b);
    return strdup("?");
  }
  return (char *)b.data;
}

static const char *ref_name(const json_t *d, char *scratch, size_t n) {
  (void)scratch, (void)n;
  return json_string_value(json_object_get(json_object_get(d, "annotations"), OCI_ANN_REF_NAME));
}

static const char *platform_name(const json_t *d, char *scratch, size_t n) {
  const json_t *p = json_object_get(d, "platform");
  const char *os = json_string_value(json_object_get(p, "os"));
  const char *arch = json_string_value(json_object_get(p, "architecture"));
  const char *variant = json_string_value(json_object_get(p, "variant"));
  snprintf(scratch, n, "%s/%s%s%s", os ? os : "?", arch ? arch : "?", variant ? "/" : "", variant ? variant : "");
  return scratch;
}

int core_oci_layout_select(const json_t *index, const char *tag, const char *what, core_digest *out,
                           core_error **err) {
  const json_t *manifests = json_object_get(index, "manifests");
  if (!json_is_array(manifests)) return core_error_set(err, 0, "'%s': index.json has no \"manifests\" list", what);
  const json_t *found = NULL;
  size_t i;
  json_t *d;
  json_array_foreach(manifests, i, d) {
    const char *name = ref_name(d, NULL, 0);
    if (tag ? (name && strcmp(name, tag) == 0) : json_array_size(manifests) == 1) found = d;
  }
  if (found == NULL) {
    cleanup_free char *tags = join_list(manifests, ref_name);
    if (tag) return core_error_set(err, 0, "'%s' has no image tagged '%s' (tags there: %s)", what, tag, *tags ? tags : "none");
    return core_error_set(err, 0, "'%s' holds %zu images; name one with ':TAG' (tags there: %s)", what,
                          json_array_size(manifests), *tags ? tags : "none");
  }
  uint64_t size;
  if (core_oci_descriptor_parse(found, NULL, out, &size, err) < 0) return core_error_wrap(err, "'%s': index.json", what);
  return 0;
}

int core_oci_select_platform(const json_t *index, const char *what, const json_t **out, core_error **err) {
  const json_t *manifests = json_object_get(index, "manifests");
  if (!json_is_array(manifests)) return core_error_set(err, 0, "'%s': the image index has no \"manifests\" list", what);
  size_t i;
  json_t *d;
  json_array_foreach(manifests, i, d) {
    const json_t *p = json_object_get(d, "platform");
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    if (os && arch && strcmp(os, "linux") == 0 && strcmp(arch, "amd64") == 0) {
      *out = d;
      return 0;
    }
  }
  cleanup_free char *platforms = join_list(manifests, platform_name);
  return core_error_set(err, 0, "'%s' has no linux/amd64 image (platforms there: %s); core builds amd64 guests", what,
                        *platforms ? platforms : "none");
}
