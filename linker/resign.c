/* Re-signing: read an artifact with the strict reader, check it is whole, add signatures
 * around its unchanged app manifest, and write it again (a TIM whole; a disk form by copying
 * the file and rewriting only its metadata region). */
#include "resign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "dsse.h"
#include "json.h"
#include "oci.h"
#include "qcow2_read.h"
#include "seal.h"
#include "tim_read.h"
#include "tim_write.h"

#define CHUNK (1u << 20)

struct core_resign {
  char *path;
  int fd;
  core_form form;
  uint64_t file_size;
  unsigned mode;
  core_tim *tim;
  /* Disk forms: where the region is in the file, its signed length, the old tar's length. */
  uint64_t meta_at, meta_size, tar_len;
  core_digest manifest;
  uint64_t manifest_size;
  char *name;
  core_digest top;      /* the old top index: replaced when a signature is added */
  json_t *entries;      /* the top index's manifests, new signatures appended */
  core_buf *envelopes;  /* of the existing signatures of this manifest, to spot a key that signed */
  size_t n_envelopes;
  core_blob_set added;  /* the new signatures' blobs */
  char (*new_ids)[CORE_KEYID_LEN + 1];
  size_t n_new;
};

void core_resign_free(core_resign *r) {
  if (r == NULL) return;
  free(r->path);
  if (r->fd >= 0) close(r->fd);
  core_tim_free(r->tim);
  free(r->name);
  json_decref(r->entries);
  for (size_t i = 0; i < r->n_envelopes; i++) core_buf_release(&r->envelopes[i]);
  free(r->envelopes);
  core_blob_set_release(&r->added);
  free(r->new_ids);
  free(r);
}

void core_resign_freep(core_resign **r) {
  core_resign_free(*r);
  *r = NULL;
}

const core_digest *core_resign_digest(const core_resign *r) { return &r->manifest; }
core_form core_resign_form(const core_resign *r) { return r->form; }
size_t core_resign_added(const core_resign *r) { return r->n_new; }
unsigned core_resign_mode(const core_resign *r) { return r->mode; }

/* A JSON blob of the artifact, loaded by its descriptor (present, and of the size it claims). */
static int load_json(core_resign *r, const json_t *desc, core_digest *digest, json_t **out, core_error **err) {
  core_digest d;
  uint64_t size;
  if (core_oci_descriptor_parse(desc, NULL, &d, &size, err) < 0) return -1;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  if (core_tim_blob_load(r->tim, &d, size, &text, err) < 0 || core_json_parse(text.data, text.len, out, err) < 0)
    return core_error_wrap(err, "blob %s", d.str);
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return core_error_set(err, 0, "blob %s is not a JSON object", d.str);
  }
  if (digest) *digest = d;
  return 0;
}

/* Where a disk form's metadata tar starts in the file (as corerun finds it). */
static int region_offset(core_resign *r, core_error **err) {
  if (r->form == CORE_FORM_RAW) r->meta_at = CORE_DISK_META_OFFSET;
  if (r->form == CORE_FORM_ISO) r->meta_at = CORE_ISO_META_OFFSET;
  if (r->form != CORE_FORM_QCOW2) return 0;
  cleanup_qcow2 core_qcow2 *q = NULL;
  if (core_qcow2_open(r->fd, r->path, &q, err) < 0 || core_qcow2_map(q, CORE_DISK_META_OFFSET, &r->meta_at, err) < 0)
    return -1;
  if (r->meta_at == 0) return core_error_set(err, 0, "'%s' is a qcow2 disk without core's signed metadata", r->path);
  return 0;
}

/* The region must be one run of file bytes: the new tar is written there with pwrite, and a
 * qcow2 that stored it otherwise would hand the guest and the verifier different bytes. */
static int check_region_contiguous(core_resign *r, core_error **err) {
  if (r->meta_at + r->meta_size > r->file_size || r->meta_size < r->tar_len)
    return core_error_set(err, 0, "'%s': its metadata region (byte %" PRIu64 ", %" PRIu64 " bytes) does not fit the file",
                          r->path, r->meta_at, r->meta_size);
  if (r->form != CORE_FORM_QCOW2) return 0;
  cleanup_qcow2 core_qcow2 *q = NULL;
  if (core_qcow2_open(r->fd, r->path, &q, err) < 0) return -1;
  for (uint64_t off = 0; off < r->meta_size; off += 512) {
    uint64_t at;
    if (core_qcow2_map(q, CORE_DISK_META_OFFSET + off, &at, err) < 0) return -1;
    if (at != r->meta_at + off)
      return core_error_set(err, 0, "'%s': its metadata region is not stored in one piece; rebuild it with corec build",
                            r->path);
  }
  return 0;
}

/* A decimal annotation of the manifest, as corec writes them. */
static int ann_number(const json_t *manifest, const char *key, uint64_t *out, core_error **err) {
  const char *s = json_string_value(json_object_get(json_object_get(manifest, "annotations"), key));
  char *end = NULL;
  errno = 0;
  unsigned long long v = s ? strtoull(s, &end, 10) : 0;
  if (s == NULL || *s < '0' || *s > '9' || *end || errno) return core_error_set(err, 0, "the manifest's '%s' is not a number", key);
  *out = v;
  return 0;
}

/* A disk form's manifest says where its region is and how long: the new tar must fit. */
static int check_disk_manifest(core_resign *r, const json_t *manifest, core_error **err) {
  const char *format = json_string_value(json_object_get(json_object_get(manifest, "annotations"), CORE_ANN_IMAGE_FORMAT));
  const char *want = r->form == CORE_FORM_ISO ? CORE_FORMAT_ISO : CORE_FORMAT_DISK;
  if (format == NULL || strcmp(format, want) != 0)
    return core_error_set(err, 0, "'%s' is a %s file, but its manifest describes %s", r->path, core_form_name(r->form),
                          format ? format : "a TIM");
  uint64_t offset;
  if (ann_number(manifest, CORE_ANN_META_OFFSET, &offset, err) < 0 || ann_number(manifest, CORE_ANN_META_SIZE, &r->meta_size, err) < 0)
    return core_error_wrap(err, "'%s'", r->path);
  uint64_t expected = r->form == CORE_FORM_QCOW2 ? CORE_DISK_META_OFFSET : r->meta_at;
  if (offset != expected) return core_error_set(err, 0, "'%s': its metadata is not where its manifest says", r->path);
  return check_region_contiguous(r, err);
}

/* The blobs the app manifest names must be here with their sizes, except those a disk form
 * keeps outside its metadata (they carry an offset, and the disk's signed digest covers them). */
static int check_manifest_blobs(core_resign *r, const json_t *manifest, core_error **err) {
  json_t *layers = json_object_get(manifest, "layers");
  if (!json_is_array(layers)) return core_error_set(err, 0, "the app manifest lists no layers");
  json_t *descs = json_array();
  if (descs == NULL) return core_error_set(err, ENOMEM, "allocating");
  json_array_append(descs, json_object_get(manifest, "config"));
  json_array_extend(descs, layers);
  size_t i;
  json_t *desc;
  int rc = 0;
  json_array_foreach(descs, i, desc) {
    core_digest d;
    uint64_t size;
    if (core_oci_descriptor_parse(desc, NULL, &d, &size, err) < 0) {
      rc = -1;
      break;
    }
    if (r->form != CORE_FORM_TIM && json_object_get(json_object_get(desc, "annotations"), CORE_ANN_BLOB_OFFSET)) continue;
    core_tim_blob *b = core_tim_find(r->tim, &d);
    if (b == NULL || b->size != size) {
      rc = core_error_set(err, 0, "blob %s named by the app manifest is %s", d.str, b ? "of the wrong size" : "missing");
      break;
    }
  }
  json_decref(descs);
  return rc;
}

/* One signature entry of the top index: its manifest and envelope must be here. Envelopes of
 * this app manifest are kept, to tell whether a key already signed. */
static int check_signature(core_resign *r, const json_t *desc, core_error **err) {
  cleanup_json json_t *sig = NULL;
  if (load_json(r, desc, NULL, &sig, err) < 0) return -1;
  json_t *layers = json_object_get(sig, "layers");
  if (!json_is_array(layers) || json_array_size(layers) != 1)
    return core_error_set(err, 0, "a signature manifest must have exactly one layer");
  core_digest d, subject;
  uint64_t size, subject_size;
  core_buf envelope = CORE_BUF_INIT;
  if (core_oci_descriptor_parse(json_array_get(layers, 0), NULL, &d, &size, err) < 0 ||
      core_tim_blob_load(r->tim, &d, size, &envelope, err) < 0)
    return core_error_wrap(err, "signature envelope");
  json_t *subj = json_object_get(sig, "subject");
  if (subj == NULL || core_oci_descriptor_parse(subj, NULL, &subject, &subject_size, err) < 0 ||
      strcmp(subject.str, r->manifest.str) != 0) {
    core_error_freep(err); /* a signature of something else: kept as it is, not ours to judge */
    core_buf_release(&envelope);
    return 0;
  }
  core_buf *grown = realloc(r->envelopes, (r->n_envelopes + 1) * sizeof *grown);
  if (grown == NULL) {
    core_buf_release(&envelope);
    return core_error_set(err, ENOMEM, "allocating");
  }
  r->envelopes = grown;
  r->envelopes[r->n_envelopes++] = envelope;
  return 0;
}

/* index.json -> top index -> one app manifest and its signatures, all present. */
static int check_layout(core_resign *r, core_error **err) {
  cleanup_json json_t *index = NULL, *top = NULL, *manifest = NULL;
  if (core_json_parse(r->tim->index_json.data, r->tim->index_json.len, &index, err) < 0)
    return core_error_wrap(err, "index.json");
  json_t *list = json_object_get(index, "manifests");
  if (!json_is_array(list) || json_array_size(list) != 1)
    return core_error_set(err, 0, "index.json must list exactly one image index (this is not a TIM artifact)");
  json_t *top_desc = json_array_get(list, 0);
  const char *name = json_string_value(json_object_get(json_object_get(top_desc, "annotations"), OCI_ANN_REF_NAME));
  if (name == NULL) return core_error_set(err, 0, "index.json does not name the app (%s)", OCI_ANN_REF_NAME);
  if ((r->name = strdup(name)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (load_json(r, top_desc, &r->top, &top, err) < 0) return core_error_wrap(err, "the top index");
  json_t *entries = json_object_get(top, "manifests");
  if (!json_is_array(entries)) return core_error_set(err, 0, "the top index has no manifests array");
  r->entries = json_deep_copy(entries);
  if (r->entries == NULL) return core_error_set(err, ENOMEM, "allocating");

  const json_t *app_desc = NULL;
  size_t i;
  json_t *desc;
  json_array_foreach(entries, i, desc) {
    const char *at = json_string_value(json_object_get(desc, "artifactType"));
    if (at && strcmp(at, TIM_ARTIFACT_TYPE) == 0) {
      if (app_desc) return core_error_set(err, 0, "the top index lists more than one app manifest");
      app_desc = desc;
    }
  }
  if (app_desc == NULL) return core_error_set(err, 0, "the top index lists no core app manifest");
  if (core_oci_descriptor_parse(app_desc, NULL, &r->manifest, &r->manifest_size, err) < 0 ||
      load_json(r, app_desc, NULL, &manifest, err) < 0)
    return core_error_wrap(err, "the app manifest");
  if (check_manifest_blobs(r, manifest, err) < 0) return -1;
  if (r->form != CORE_FORM_TIM && check_disk_manifest(r, manifest, err) < 0) return -1;
  json_array_foreach(entries, i, desc) {
    const char *at = json_string_value(json_object_get(desc, "artifactType"));
    if (at && strcmp(at, CORE_DSSE_MEDIA_TYPE) == 0 && check_signature(r, desc, err) < 0) return -1;
  }
  return 0;
}

static int read_artifact(core_resign *r, core_error **err) {
  struct stat st;
  if (fstat(r->fd, &st) < 0) return core_error_set(err, errno, "reading '%s'", r->path);
  if (!S_ISREG(st.st_mode)) return core_error_set(err, 0, "'%s' is not a regular file", r->path);
  r->file_size = (uint64_t)st.st_size;
  r->mode = st.st_mode & 0777;
  if (core_form_detect(r->fd, &r->form, err) < 0) return -1;
  if (r->form == CORE_FORM_TIM) return core_tim_read(r->path, &r->tim, err);
  if (region_offset(r, err) < 0) return -1;
  return core_tim_read_region(r->path, r->fd, r->meta_at, CORE_DISK_META_MAX, &r->tim, &r->tar_len, err);
}

int core_resign_open(const char *path, core_resign **out, core_error **err) {
  cleanup_resign core_resign *r = calloc(1, sizeof *r);
  if (r == NULL) return core_error_set(err, ENOMEM, "allocating");
  r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (r->fd < 0) return core_error_set(err, errno, "opening '%s'", path);
  if ((r->path = strdup(path)) == NULL) return core_error_set(err, ENOMEM, "allocating");
  if (read_artifact(r, err) < 0 || check_layout(r, err) < 0)
    return core_error_wrap(err, "'%s' is damaged, so it is not signed (get it again from its publisher)", path);
  *out = TAKE_PTR(r);
  return 0;
}

/* Whether ENVELOPE is KEY's signature of a statement naming this manifest. */
static int signed_by(core_resign *r, const core_buf *envelope, EVP_PKEY *key, const char *id, core_error **err) {
  core_trusted_key only = {.key = key, .origin = (char *)"--key"};
  memcpy(only.id, id, sizeof only.id);
  cleanup_buf core_buf payload = CORE_BUF_INIT;
  char signer[CORE_KEYID_LEN + 1];
  core_dsse_result result;
  if (core_dsse_verify(envelope->data, envelope->len, CORE_INTOTO_PAYLOAD_TYPE, &only, 1, &payload, signer, &result,
                       err) < 0) {
    core_error_freep(err); /* a malformed envelope is nobody's signature */
    return 0;
  }
  if (result != CORE_DSSE_VERIFIED) return 0;
  cleanup_json json_t *st = NULL;
  if (core_json_parse(payload.data, payload.len, &st, err) < 0) {
    core_error_freep(err);
    return 0;
  }
  json_t *subject = json_array_get(json_object_get(st, "subject"), 0);
  const char *hex = json_string_value(json_object_get(json_object_get(subject, "digest"), "sha256"));
  return hex && strcmp(hex, core_digest_hex(&r->manifest)) == 0;
}

int core_resign_add(core_resign *r, EVP_PKEY *key, core_error **err) {
  char id[CORE_KEYID_LEN + 1];
  if (core_key_id(key, id, err) < 0) return -1;
  for (size_t i = 0; i < r->n_new; i++)
    if (strcmp(r->new_ids[i], id) == 0) return 0;
  for (size_t i = 0; i < r->n_envelopes; i++) {
    int s = signed_by(r, &r->envelopes[i], key, id, err);
    if (s != 0) return s < 0 ? -1 : 0;
  }
  char (*grown)[CORE_KEYID_LEN + 1] = realloc(r->new_ids, (r->n_new + 1) * sizeof *grown);
  if (grown == NULL) return core_error_set(err, ENOMEM, "allocating");
  r->new_ids = grown;
  json_t *desc = NULL;
  if (core_seal_signature(&r->added, r->name, &r->manifest, r->manifest_size, key, &desc, err) < 0) return -1;
  if (json_array_append_new(r->entries, desc) < 0) return core_error_set(err, ENOMEM, "allocating");
  memcpy(r->new_ids[r->n_new++], id, sizeof id);
  return 1;
}

/* Every blob of the new layout: the artifact's (but the old top index) and the new ones. */
static int gather_blobs(core_resign *r, core_blob_set *all, core_buf *index_json, core_error **err) {
  for (size_t i = 0; i < r->tim->n_blobs; i++) {
    core_tim_blob *b = &r->tim->blobs[i];
    if (strcmp(b->digest.str, r->top.str) == 0) continue;
    /* The verified bytes stay in their file: an initramfs is never read into memory here. */
    int fd = dup(b->fd);
    if (fd < 0) return core_error_set(err, errno, "reading blob %s", b->digest.str);
    if (core_blob_set_add_fd(all, fd, b->size, &b->digest, err) < 0) return -1;
  }
  for (size_t i = 0; i < r->added.n; i++) {
    core_buf data = CORE_BUF_INIT;
    if (core_blob_read(&r->added.blobs[i], &data, err) < 0 || core_blob_set_add(all, &data, NULL, err) < 0) {
      core_buf_release(&data);
      return -1;
    }
  }
  return core_seal_index(all, r->name, r->entries, index_json, err);
}

/* Copies the file's bytes; holes stay holes, so a sparse disk stays sparse. */
static int copy_sparse(int in, int out, uint64_t size, core_error **err) {
  cleanup_free uint8_t *buf = malloc(CHUNK);
  if (buf == NULL) return core_error_set(err, ENOMEM, "allocating");
  uint64_t at = 0;
  while (at < size) {
    off_t data = lseek(in, (off_t)at, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;
    if (data < 0) return core_error_set(err, errno, "reading the artifact");
    off_t hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0) return core_error_set(err, errno, "reading the artifact");
    for (at = (uint64_t)data; at < (uint64_t)hole && at < size;) {
      size_t n = (uint64_t)hole - at < CHUNK ? (size_t)((uint64_t)hole - at) : CHUNK;
      if (core_pread_exact(in, buf, n, at, "the artifact", err) < 0 || core_pwrite_all(out, buf, n, at, err) < 0) return -1;
      at += n;
    }
  }
  if (ftruncate(out, (off_t)size) < 0) return core_error_set(err, errno, "sizing the copy");
  return 0;
}

/* The new metadata tar, in memory: it is small (the kernel and initramfs are elsewhere). */
static int build_tar(const core_buf *index_json, const core_blob_set *blobs, core_buf *out, core_error **err) {
  cleanup_close int fd = memfd_create("core-meta", MFD_CLOEXEC);
  if (fd < 0) return core_error_set(err, errno, "creating a memfd");
  if (core_tim_write_fd(fd, index_json, blobs, err) < 0) return -1;
  off_t len = lseek(fd, 0, SEEK_CUR);
  if (len < 0) return core_error_set(err, errno, "reading the metadata");
  if (core_buf_reserve(out, (size_t)len, err) < 0 || core_pread_exact(fd, out->data, (size_t)len, 0, "the metadata", err) < 0)
    return -1;
  out->len = (size_t)len;
  return 0;
}

static int write_region(core_resign *r, const core_buf *index_json, const core_blob_set *all, int out, core_error **err) {
  cleanup_buf core_buf tar = CORE_BUF_INIT;
  if (build_tar(index_json, all, &tar, err) < 0) return -1;
  if (tar.len > r->meta_size)
    return core_error_set(err, 0,
                          "the metadata with the new signatures (%zu bytes) does not fit the %" PRIu64 " bytes its disk "
                          "reserves for it: too many signatures for this artifact; rebuild it with all its keys "
                          "(corec build --sign-key K --sign-key K2 ...)", tar.len, r->meta_size);
  if (core_pwrite_all(out, tar.data, tar.len, r->meta_at, err) < 0) return -1;
  /* The region outside the tar must be zeros: the verifier requires it, the digest assumes it. */
  if (r->tar_len > tar.len) {
    cleanup_free uint8_t *zeros = calloc(1, r->tar_len - tar.len);
    if (zeros == NULL) return core_error_set(err, ENOMEM, "allocating");
    if (core_pwrite_all(out, zeros, r->tar_len - tar.len, r->meta_at + tar.len, err) < 0) return -1;
  }
  return 0;
}

int core_resign_write(core_resign *r, core_atomic_file *f, core_error **err) {
  if (fchmod(f->fd, r->mode) < 0) return core_error_set(err, errno, "setting the mode of '%s'", f->path);
  if (r->n_new == 0) return copy_sparse(r->fd, f->fd, r->file_size, err); /* nothing to add: the same bytes */
  cleanup_blob_set core_blob_set all = {0};
  cleanup_buf core_buf index_json = CORE_BUF_INIT;
  if (gather_blobs(r, &all, &index_json, err) < 0) return -1;
  if (r->form == CORE_FORM_TIM) return core_tim_write_fd(f->fd, &index_json, &all, err);
  if (copy_sparse(r->fd, f->fd, r->file_size, err) < 0) return -1;
  return write_region(r, &index_json, &all, f->fd, err);
}
