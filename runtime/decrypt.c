/* The encrypted initramfs into plaintext corerun can give QEMU, or nothing at all. */
#include "decrypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

int core_decrypt_keys_add_file(core_decrypt_keys *k, const char *path, core_error **err) {
  core_age_identity *ids = NULL;
  size_t n = 0;
  if (core_age_identities_load(path, &ids, &n, err) < 0) return core_error_wrap(err, "identity file '%s'", path);
  core_age_identity *grown = malloc((k->n_ids + n) * sizeof *grown);
  if (grown == NULL) {
    core_age_identities_free(ids, n);
    return core_error_set(err, ENOMEM, "allocating");
  }
  if (k->n_ids) memcpy(grown, k->ids, k->n_ids * sizeof *grown);
  memcpy(grown + k->n_ids, ids, n * sizeof *grown);
  core_age_identities_free(k->ids, k->n_ids); /* wipes the old copy */
  core_age_identities_free(ids, n);
  k->ids = grown;
  k->n_ids += n;
  return 0;
}

void core_decrypt_keys_release(core_decrypt_keys *k) {
  core_age_identities_free(k->ids, k->n_ids);
  k->ids = NULL;
  k->n_ids = 0;
  core_passphrase_wipe(k->passphrase, sizeof k->passphrase);
}

int core_decrypt_keys_given(const core_decrypt_keys *k) { return k->n_ids > 0 || k->passphrase_file != NULL; }

/* Whether the age file's first stanza is scrypt: then a passphrase is what decrypts it. The
 * real parser judges the header; this only decides whether asking makes sense. */
static int wants_passphrase(int fd) {
  static const char head[] = "age-encryption.org/v1\n-> scrypt ";
  char buf[sizeof head - 1];
  return pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf && memcmp(buf, head, sizeof buf) == 0;
}

static int get_passphrase(const char *path, const core_verified_app *app, core_decrypt_keys *k, core_error **err) {
  if (k->have_passphrase) return 0;
  if (k->passphrase_file) {
    if (core_passphrase_from_file(k->passphrase_file, k->passphrase, sizeof k->passphrase, err) < 0)
      return core_error_wrap(err, "--passphrase-file");
  } else {
    if (k->n_ids > 0 || !wants_passphrase(app->initramfs->fd)) return 0;
    char hint[1024];
    snprintf(hint, sizeof hint, "'%s' is encrypted with a passphrase and there is no terminal to ask for it: pass "
             "--passphrase-file FILE", path);
    if (core_passphrase_from_tty(app->name ? app->name : path, hint, k->passphrase, sizeof k->passphrase, err) < 0)
      return -1;
  }
  k->have_passphrase = 1;
  return 0;
}

/* core_digest_copy's source: the age reader, which hands out plaintext in order. */
static int read_plaintext(void *ctx, uint64_t at, void *buf, size_t len, core_error **err) {
  (void)at; /* core_digest_copy reads in order, from 0, exactly the size it was given */
  return core_age_reader_read(ctx, buf, len, err);
}

/* Re-points the app's blob pointers after the blob array grew (realloc may have moved it). */
/* The digests of the blobs the app points at, taken before the blob array grows (and may move). */
typedef struct held_blobs {
  core_digest kernel, sbom, provenance;
  int has_sbom, has_provenance;
} held_blobs;

static held_blobs hold(const core_verified_app *app) {
  held_blobs h = {.kernel = app->kernel->digest, .has_sbom = app->sbom != NULL, .has_provenance = app->provenance != NULL};
  if (app->sbom) h.sbom = app->sbom->digest;
  if (app->provenance) h.provenance = app->provenance->digest;
  return h;
}

/* Points the app at its blobs again, the initramfs now being the plaintext. */
static void refind(core_verified_app *app, const held_blobs *h) {
  app->kernel = core_tim_find(app->tim, &h->kernel);
  app->initramfs = core_tim_find(app->tim, &app->plain_digest);
  app->sbom = h->has_sbom ? core_tim_find(app->tim, &h->sbom) : NULL;
  app->provenance = h->has_provenance ? core_tim_find(app->tim, &h->provenance) : NULL;
}

int core_app_decrypt(core_verified_app *app, const char *path, core_decrypt_keys *k, core_error **err) {
  if (!app->encrypted || app->decrypted) return 0;
  if (get_passphrase(path, app, k, err) < 0) return -1;
  if (k->n_ids == 0 && !k->have_passphrase)
    return core_error_set(err, 0,
                          "'%s' is encrypted (its initramfs %s is an age file) and no key to decrypt it was given: pass "
                          "--identity FILE (the age identity it was encrypted to, as age-keygen wrote it; or set "
                          "CORE_IDENTITY_FILE), or --passphrase-file FILE if it was encrypted to a passphrase",
                          path, app->initramfs->digest.str);
  cleanup_close int mfd = memfd_create("core-initramfs", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return core_error_set(err, errno, "creating a memfd");
  core_age_reader *reader = NULL;
  if (core_age_reader_open(app->initramfs->fd, app->initramfs->size, k->ids, k->n_ids,
                           k->have_passphrase ? k->passphrase : NULL, 0, &reader, err) < 0)
    return core_error_wrap(err, "'%s': cannot decrypt its initramfs (%s)", path, app->initramfs->digest.str);
  /* Exactly the signed plaintext size, decrypted and written on one thread while this one
   * hashes (core_digest_copy); then the stream must end there. Whatever a failure leaves in
   * the memfd is closed with it, never used. */
  core_digest got;
  int rc = core_digest_copy(read_plaintext, reader, app->plain_size, mfd, &got, err);
  if (rc == 0) rc = core_age_reader_end(reader, err);
  core_age_reader_free(reader);
  if (rc < 0) return core_error_wrap(err, "'%s': cannot decrypt its initramfs (%s)", path, app->initramfs->digest.str);
  /* The ciphertext's digest was signed and checked, so this holds unless the signer itself
   * encrypted other content than it named: refused all the same. */
  if (strcmp(got.str, app->plain_digest.str) != 0)
    return core_error_set(err, 0,
                          "'%s': the decrypted initramfs (%s) is not the plaintext its signed manifest names (%s): "
                          "refused; the artifact was built wrongly or tampered with by its signer",
                          path, got.str, app->plain_digest.str);
  if (core_memfd_seal(mfd, err) < 0) return -1;
  held_blobs held = hold(app);
  if (core_tim_add_blob(app->tim, &app->plain_digest, app->plain_size, TAKE_FD(mfd), err) < 0) return -1;
  refind(app, &held);
  app->decrypted = 1;
  return 0;
}
