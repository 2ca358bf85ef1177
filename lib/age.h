/* Encryption at rest in the age v1 format (https://age-encryption.org/v1): X25519 recipients
 * and scrypt passphrases, interoperable with the age tool. Only OpenSSL does cryptography;
 * this module reads and writes the format around it. spec/age.md says what is accepted. */
#ifndef CORE_AGE_H
#define CORE_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "digest.h"
#include "error.h"

/* Limits on what a file may ask of the reader; all refusals past them are errors. */
#define CORE_AGE_MAX_HEADER (64 * 1024) /* bytes, version line to the MAC line's newline */
#define CORE_AGE_MAX_STANZAS 64
#define CORE_AGE_MAX_STANZA_ARGS 8
#define CORE_AGE_MAX_BODY 4096           /* decoded bytes of one stanza body */
#define CORE_AGE_DEFAULT_SCRYPT_LOG2_N 18 /* what age uses when encrypting */
#define CORE_AGE_MAX_SCRYPT_LOG2_N 30     /* the ceiling of any caller's bound: 2^30 * 1 KiB of memory */

typedef struct core_age_recipient {
  uint8_t x25519[32];
} core_age_recipient;

typedef struct core_age_identity {
  uint8_t secret[32];
} core_age_identity;

/* "age1..." (lowercase bech32, 32 bytes). */
int core_age_recipient_parse(const char *age1_text, core_age_recipient *out, core_error **err);
/* Writes "age1..." into OUT. */
int core_age_recipient_format(const core_age_recipient *r, char out[128], core_error **err);
/* "AGE-SECRET-KEY-1..." (upper-case bech32, 32 bytes). */
int core_age_identity_parse(const char *text, core_age_identity *out, core_error **err);
/* The recipient an identity decrypts for (its X25519 public key). */
int core_age_identity_to_recipient(const core_age_identity *id, core_age_recipient *out, core_error **err);

/* Identity files as age-keygen writes them: '#' comments, blank lines, AGE-SECRET-KEY-1 lines.
 * *OUT is freed with core_age_identities_free, which wipes it. At least one key is required. */
int core_age_identities_load(const char *path, core_age_identity **out, size_t *n, core_error **err);
void core_age_identities_free(core_age_identity *ids, size_t n);

/* Recipient files: one age1... per line, '#' comments and blank lines (as age -R reads them).
 * At least one recipient is required. *OUT is freed with free(). */
int core_age_recipients_load(const char *path, core_age_recipient **out, size_t *n, core_error **err);

/* Encrypts PLAIN to every recipient (one X25519 stanza each) or to PASSPHRASE (one scrypt
 * stanza with work factor 2^SCRYPT_LOG2_N; 0 means the default). age allows an scrypt stanza only
 * alone, so both at once is an error, as is neither. OUT (appended to) gets a complete binary
 * (not armored) age v1 file. */
int core_age_encrypt(const void *plain, size_t len, const core_age_recipient *r, size_t n_r, const char *passphrase,
                     int scrypt_log2_n, core_buf *out, core_error **err);

/* The same, streamed: the LEN bytes of plaintext at the start of IN_FD (pread) become an age
 * file written to OUT_FD from its current position, one 64 KiB chunk in memory at a time.
 * OUT_HASH (may be NULL) is fed every byte written. On failure OUT_FD holds a partial file. */
int core_age_encrypt_fd(int in_fd, uint64_t len, const core_age_recipient *r, size_t n_r, const char *passphrase,
                        int scrypt_log2_n, int out_fd, core_hasher *out_hash, core_error **err);

/* Decrypts the age v1 file of SIZE bytes in IN_FD (read with pread from offset 0) into OUT_FD
 * (written sequentially from its current position), in bounded memory, with the identities
 * and/or PASSPHRASE. The header MAC is checked before any payload is decrypted, and each
 * 64 KiB chunk is written only after it authenticates. But a failure can come after earlier
 * chunks were written (a later chunk corrupted, the file truncated): ON ANY FAILURE THE
 * CALLER MUST DISCARD EVERYTHING WRITTEN TO OUT_FD. MAX_SCRYPT_LOG2_N bounds the work (2^N)
 * and memory (2^N KiB) a passphrase-encrypted file may demand; 0 means the default (18),
 * values above CORE_AGE_MAX_SCRYPT_LOG2_N are clamped to it. PLAIN_HASH (may be NULL) is fed
 * every plaintext byte written, in order: the caller gets the plaintext's digest without
 * reading OUT_FD again. */
int core_age_decrypt_fd(int in_fd, uint64_t size, const core_age_identity *ids, size_t n_ids, const char *passphrase,
                        int max_scrypt_log2_n, int out_fd, core_hasher *plain_hash, core_error **err);

/* The same file read incrementally: open checks the header (file key, MAC) before any payload;
 * read hands out exactly LEN bytes of plaintext, each chunk only after it authenticated (too
 * few: an error); end says whether the plaintext ended exactly there (the chunk marked last
 * read, nothing after). Free wipes the keys and buffers. */
typedef struct core_age_reader core_age_reader;
int core_age_reader_open(int in_fd, uint64_t size, const core_age_identity *ids, size_t n_ids, const char *passphrase,
                         int max_scrypt_log2_n, core_age_reader **out, core_error **err);
int core_age_reader_read(core_age_reader *r, void *buf, size_t len, core_error **err);
int core_age_reader_end(core_age_reader *r, core_error **err);
void core_age_reader_free(core_age_reader *r);

#endif
