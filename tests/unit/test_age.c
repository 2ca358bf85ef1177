/* Unit tests for lib/age*.c and lib/bech32.c: interoperability both ways with the real age
 * and age-keygen (required: the tests fail loudly without them), and hostile files of every
 * shape we can make, each refused without a crash and without unauthenticated output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"
#include "age_internal.h"
#include "bech32.h"
#include "fsutil.h"
#include "tmpdir.h"

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void require_age_tools(void) {
  if (sh("command -v age >/dev/null && command -v age-keygen >/dev/null") != 0)
    fail_msg("the age and age-keygen binaries are required (apt-get install age, or make deps)");
}

static uint8_t *pattern(size_t len, unsigned seed) {
  uint8_t *p = malloc(len ? len : 1);
  assert_non_null(p);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245u + 12345u;
    p[i] = (uint8_t)(x >> 16);
  }
  return p;
}

static void write_file(const char *path, const void *data, size_t len) {
  core_error *err = NULL;
  if (core_write_file_atomic(path, data, len, 0600, &err) < 0) fail_msg("%s", err->msg);
}

static void read_file(const char *path, core_buf *out) {
  core_error *err = NULL;
  if (core_read_file(path, out, &err) < 0) fail_msg("%s", err->msg);
}

/* Decrypts DATA through memfds, as the artifact reader does. OUT gets whatever was written to
 * the output descriptor, even on failure, so tests can check nothing unauthenticated got out.
 * On success the digest the decryptor computed on the way must be that of OUT. */
static int decrypt(const void *data, size_t len, const core_age_identity *ids, size_t n_ids, const char *pass,
                   int max_log2_n, core_buf *out, core_error **err) {
  int in = memfd_create("age-in", MFD_CLOEXEC), o = memfd_create("age-out", MFD_CLOEXEC);
  assert_true(in >= 0 && o >= 0);
  core_error *werr = NULL;
  assert_int_equal(core_write_all(in, data, len, &werr), 0);
  core_hasher *h = NULL;
  assert_int_equal(core_hasher_new(&h, &werr), 0);
  int rc = core_age_decrypt_fd(in, len, ids, n_ids, pass, max_log2_n, o, h, err);
  if (rc == 0) assert_null(*err);
  else assert_non_null(*err);
  struct stat st;
  assert_int_equal(fstat(o, &st), 0);
  out->len = 0;
  assert_int_equal(core_buf_reserve(out, (size_t)st.st_size + 1, &werr), 0);
  assert_int_equal(pread(o, out->data, (size_t)st.st_size, 0), st.st_size);
  out->len = (size_t)st.st_size;
  if (rc == 0) {
    core_digest streamed, whole;
    assert_int_equal(core_hasher_final(h, &streamed, &werr), 0);
    assert_int_equal(core_digest_bytes(out->data, out->len, &whole, &werr), 0);
    assert_string_equal(streamed.str, whole.str);
  }
  core_hasher_free(h);
  close(in);
  close(o);
  return rc;
}

static void keygen(const char *path, core_age_identity **ids, size_t *n, core_age_recipient *r) {
  require_age_tools();
  assert_int_equal(sh("age-keygen -o %s 2>/dev/null", path), 0);
  core_error *err = NULL;
  assert_int_equal(core_age_identities_load(path, ids, n, &err), 0);
  assert_int_equal(*n, 1);
  /* Our public half of the identity equals age-keygen's. */
  char cmd[512], theirs[128] = "", ours[128];
  snprintf(cmd, sizeof cmd, "age-keygen -y %s", path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  assert_non_null(fgets(theirs, sizeof theirs, p));
  pclose(p);
  theirs[strcspn(theirs, "\n")] = 0;
  assert_int_equal(core_age_identity_to_recipient(&(*ids)[0], r, &err), 0);
  assert_int_equal(core_age_recipient_format(r, ours, &err), 0);
  assert_string_equal(ours, theirs);
  core_age_recipient parsed;
  assert_int_equal(core_age_recipient_parse(theirs, &parsed, &err), 0);
  assert_memory_equal(parsed.x25519, r->x25519, 32);
}

static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536, 3 * 1024 * 1024 + 5};

static void test_ours_to_age(void **state) {
  (void)state;
  core_age_identity *ids;
  size_t n;
  core_age_recipient r;
  keygen("key.txt", &ids, &n, &r);
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    uint8_t *plain = pattern(sizes[i], (unsigned)i);
    core_buf enc = CORE_BUF_INIT, back = CORE_BUF_INIT;
    core_error *err = NULL;
    assert_int_equal(core_age_encrypt(plain, sizes[i], &r, 1, NULL, 0, &enc, &err), 0);
    write_file("x.age", enc.data, enc.len);
    /* age creates its output only when it first writes, so an empty plaintext leaves none. */
    assert_int_equal(sh("rm -f x.out && age -d -i key.txt -o x.out x.age && touch x.out"), 0);
    read_file("x.out", &back);
    assert_int_equal(back.len, sizes[i]);
    if (sizes[i]) assert_memory_equal(back.data, plain, sizes[i]);
    core_buf_release(&enc);
    core_buf_release(&back);
    free(plain);
  }
  core_age_identities_free(ids, n);
}

/* Streamed encryption, file to file: age decrypts it, our reader too, and the hash fed on the
 * way is that of the file written. Every chunk boundary, and the empty plaintext. */
static void test_encrypt_fd(void **state) {
  (void)state;
  core_age_identity *ids;
  size_t n;
  core_age_recipient r;
  keygen("key.txt", &ids, &n, &r);
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    uint8_t *plain = pattern(sizes[i], (unsigned)i + 7);
    core_error *err = NULL;
    int in = memfd_create("plain", MFD_CLOEXEC), out = open("y.age", O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(in >= 0 && out >= 0);
    assert_int_equal(core_write_all(in, plain, sizes[i], &err), 0);
    assert_int_equal(core_write_all(out, "junk", 4, &err), 0); /* written from the current position */
    core_hasher *h = NULL;
    assert_int_equal(core_hasher_new(&h, &err), 0);
    assert_int_equal(core_age_encrypt_fd(in, sizes[i], &r, 1, NULL, 0, out, h, &err), 0);
    close(out);
    assert_int_equal(sh("tail -c +5 y.age >z.age && rm -f z.out && age -d -i key.txt -o z.out z.age && touch z.out"), 0);
    core_buf back = CORE_BUF_INIT, file = CORE_BUF_INIT;
    read_file("z.out", &back);
    assert_int_equal(back.len, sizes[i]);
    if (sizes[i]) assert_memory_equal(back.data, plain, sizes[i]);
    read_file("z.age", &file);
    core_digest streamed, whole;
    assert_int_equal(core_hasher_final(h, &streamed, &err), 0);
    assert_int_equal(core_digest_bytes(file.data, file.len, &whole, &err), 0);
    assert_string_equal(streamed.str, whole.str);
    core_buf mine = CORE_BUF_INIT;
    assert_int_equal(decrypt(file.data, file.len, ids, n, NULL, 0, &mine, &err), 0);
    assert_int_equal(mine.len, sizes[i]);
    if (sizes[i]) assert_memory_equal(mine.data, plain, sizes[i]);
    /* A plaintext shorter than it is said to be is an error, not zeros. */
    assert_int_equal(core_age_encrypt_fd(in, sizes[i] + 1, &r, 1, NULL, 0, open("/dev/null", O_WRONLY | O_CLOEXEC), NULL, &err), -1);
    core_error_freep(&err);
    core_hasher_free(h);
    core_buf_release(&back);
    core_buf_release(&file);
    core_buf_release(&mine);
    close(in);
    free(plain);
  }
  core_age_identities_free(ids, n);
}

static void test_age_to_ours(void **state) {
  (void)state;
  core_age_identity *ids;
  size_t n;
  core_age_recipient r;
  char rtext[128];
  core_error *err = NULL;
  keygen("key.txt", &ids, &n, &r);
  assert_int_equal(core_age_recipient_format(&r, rtext, &err), 0);
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    uint8_t *plain = pattern(sizes[i], (unsigned)i + 100);
    write_file("plain", plain, sizes[i]);
    assert_int_equal(sh("age -r %s -o x.age plain", rtext), 0);
    core_buf enc = CORE_BUF_INIT, out = CORE_BUF_INIT;
    read_file("x.age", &enc);
    assert_int_equal(decrypt(enc.data, enc.len, ids, n, NULL, 0, &out, &err), 0);
    assert_int_equal(out.len, sizes[i]);
    if (sizes[i]) assert_memory_equal(out.data, plain, sizes[i]);
    core_buf_release(&enc);
    core_buf_release(&out);
    free(plain);
  }
  core_age_identities_free(ids, n);
}

/* The incremental reader: exactly the plaintext, and neither less nor more. */
static int reader_reads(const core_buf *enc, const core_age_recipient *r, const core_age_identity *ids, size_t n,
                        size_t want, uint8_t *out, core_error **err) {
  (void)r;
  int fd = memfd_create("age-in", MFD_CLOEXEC);
  core_error *werr = NULL;
  assert_int_equal(core_write_all(fd, enc->data, enc->len, &werr), 0);
  core_age_reader *rd = NULL;
  int rc = core_age_reader_open(fd, enc->len, ids, n, NULL, 0, &rd, err);
  if (rc == 0) {
    /* In uneven pieces, across chunk boundaries. */
    for (size_t at = 0; rc == 0 && at < want; at += 40000)
      rc = core_age_reader_read(rd, out + at, want - at < 40000 ? want - at : 40000, err);
    if (rc == 0) rc = core_age_reader_end(rd, err);
  }
  core_age_reader_free(rd);
  close(fd);
  return rc;
}

static void test_reader(void **state) {
  (void)state;
  core_age_identity *ids;
  size_t n;
  core_age_recipient r;
  keygen("key.txt", &ids, &n, &r);
  static const size_t lens[] = {0, 1, 65536, 70000, 2 * 65536};
  for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
    size_t len = lens[i];
    uint8_t *plain = pattern(len, (unsigned)i + 7), *out = malloc(len + 2);
    core_buf enc = CORE_BUF_INIT;
    core_error *err = NULL;
    assert_int_equal(core_age_encrypt(plain, len, &r, 1, NULL, 0, &enc, &err), 0);
    assert_int_equal(reader_reads(&enc, &r, ids, n, len, out, &err), 0);
    if (len) assert_memory_equal(out, plain, len);
    if (len) {
      assert_int_equal(reader_reads(&enc, &r, ids, n, len - 1, out, &err), -1);
      assert_non_null(strstr(err->msg, "more than"));
      core_error_free(err);
      err = NULL;
    }
    assert_int_equal(reader_reads(&enc, &r, ids, n, len + 1, out, &err), -1);
    assert_non_null(strstr(err->msg, "fewer than expected"));
    core_error_free(err);
    core_buf_release(&enc);
    free(plain);
    free(out);
  }
  core_age_identities_free(ids, n);
}

static void test_several_recipients(void **state) {
  (void)state;
  core_age_identity *ids[3];
  size_t n[3];
  core_age_recipient r[3];
  char path[3][16], rtext[3][128];
  core_error *err = NULL;
  for (int k = 0; k < 3; k++) {
    snprintf(path[k], sizeof path[k], "key%d.txt", k);
    keygen(path[k], &ids[k], &n[k], &r[k]);
    assert_int_equal(core_age_recipient_format(&r[k], rtext[k], &err), 0);
  }
  uint8_t *plain = pattern(100000, 7);
  /* Ours to three; age opens it with each key alone. */
  core_buf enc = CORE_BUF_INIT, out = CORE_BUF_INIT, back = CORE_BUF_INIT;
  assert_int_equal(core_age_encrypt(plain, 100000, r, 3, NULL, 0, &enc, &err), 0);
  write_file("x.age", enc.data, enc.len);
  for (int k = 0; k < 3; k++) {
    assert_int_equal(sh("age -d -i %s -o x.out x.age && rm -f x.out.keep", path[k]), 0);
    read_file("x.out", &back);
    assert_int_equal(back.len, 100000);
    assert_memory_equal(back.data, plain, 100000);
    core_buf_release(&back);
    unlink("x.out");
  }
  core_buf_release(&enc);
  /* age to three, through a recipients file; we open it with each key alone. */
  char rfile[512];
  snprintf(rfile, sizeof rfile, "# team\n%s\n\n# ops\n%s\n%s\n", rtext[0], rtext[1], rtext[2]);
  write_file("recipients.txt", rfile, strlen(rfile));
  core_age_recipient *loaded;
  size_t n_loaded;
  assert_int_equal(core_age_recipients_load("recipients.txt", &loaded, &n_loaded, &err), 0);
  assert_int_equal(n_loaded, 3);
  for (int k = 0; k < 3; k++) assert_memory_equal(loaded[k].x25519, r[k].x25519, 32);
  free(loaded);
  write_file("plain", plain, 100000);
  assert_int_equal(sh("age -R recipients.txt -o y.age plain"), 0);
  read_file("y.age", &enc);
  for (int k = 0; k < 3; k++) {
    assert_int_equal(decrypt(enc.data, enc.len, ids[k], n[k], NULL, 0, &out, &err), 0);
    assert_int_equal(out.len, 100000);
    assert_memory_equal(out.data, plain, 100000);
  }
  /* A key that is none of them: its own message. */
  core_age_identity *other;
  size_t n_other;
  core_age_recipient r_other;
  keygen("other.txt", &other, &n_other, &r_other);
  assert_int_equal(decrypt(enc.data, enc.len, other, n_other, NULL, 0, &out, &err), -1);
  assert_non_null(strstr(err->msg, "no identity matches"));
  assert_int_equal(out.len, 0);
  core_error_freep(&err);
  /* No key at all: another. */
  assert_int_equal(decrypt(enc.data, enc.len, NULL, 0, NULL, 0, &out, &err), -1);
  assert_non_null(strstr(err->msg, "pass the age identity file"));
  core_error_freep(&err);
  core_age_identities_free(other, n_other);
  core_buf_release(&enc);
  core_buf_release(&out);
  for (int k = 0; k < 3; k++) core_age_identities_free(ids[k], n[k]);
  free(plain);
}

static void test_identity_file_with_comments(void **state) {
  (void)state;
  core_age_identity *a, *b;
  size_t na, nb;
  core_age_recipient ra, rb;
  keygen("a.txt", &a, &na, &ra);
  keygen("b.txt", &b, &nb, &rb);
  /* Both keys in one file with age-keygen's comments, blank lines and a CRLF line. */
  assert_int_equal(sh("{ cat a.txt; echo; echo '# second key'; sed 's/$/\\r/' b.txt; } > both.txt"), 0);
  core_age_identity *ids;
  size_t n;
  core_error *err = NULL;
  assert_int_equal(core_age_identities_load("both.txt", &ids, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_memory_equal(ids[0].secret, a[0].secret, 32);
  assert_memory_equal(ids[1].secret, b[0].secret, 32);
  assert_int_equal(sh("echo hello | age -r $(age-keygen -y b.txt) | age -d -i both.txt | grep -qx hello"), 0);
  /* age reads the same file; a file for the second key opens with it. */
  core_buf enc = CORE_BUF_INIT, out = CORE_BUF_INIT;
  assert_int_equal(core_age_encrypt("hi", 2, &rb, 1, NULL, 0, &enc, &err), 0);
  assert_int_equal(decrypt(enc.data, enc.len, ids, n, NULL, 0, &out, &err), 0);
  assert_int_equal(out.len, 2);
  core_buf_release(&enc);
  core_buf_release(&out);
  /* Bad identity files, each refused with a line number or a reason. */
  static const char *bad[] = {
      "", "# only a comment\n", "AGE-SECRET-KEY-1QQQQ\n", "age1qqqq\n", "age-encryption.org/v1\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    write_file("bad.txt", bad[i], strlen(bad[i]));
    core_age_identity *x = NULL;
    size_t nx = 0;
    assert_int_equal(core_age_identities_load("bad.txt", &x, &nx, &err), -1);
    assert_null(x);
    core_error_freep(&err);
  }
  /* One changed character breaks the checksum. */
  core_buf text = CORE_BUF_INIT;
  read_file("a.txt", &text);
  char *key = strstr((char *)text.data, "AGE-SECRET-KEY-1");
  assert_non_null(key);
  key[30] = key[30] == 'Q' ? 'P' : 'Q';
  write_file("bad.txt", text.data, text.len);
  core_age_identity *none = NULL;
  size_t n_none = 0;
  assert_int_equal(core_age_identities_load("bad.txt", &none, &n_none, &err), -1);
  assert_null(none);
  assert_non_null(strstr(err->msg, "bad.txt:3"));
  assert_null(strstr(err->msg, key)); /* the secret is never echoed */
  core_error_freep(&err);
  core_buf_release(&text);
  core_age_identities_free(ids, n);
  core_age_identities_free(a, na);
  core_age_identities_free(b, nb);
}

static void test_passphrase(void **state) {
  (void)state;
  uint8_t *plain = pattern(70000, 3);
  core_buf enc = CORE_BUF_INIT, out = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_age_encrypt(plain, 70000, NULL, 0, "correct horse", 10, &enc, &err), 0);
  assert_non_null(memmem(enc.data, enc.len, "-> scrypt ", 10));
  assert_int_equal(decrypt(enc.data, enc.len, NULL, 0, "correct horse", 10, &out, &err), 0);
  assert_int_equal(out.len, 70000);
  assert_memory_equal(out.data, plain, 70000);
  assert_int_equal(decrypt(enc.data, enc.len, NULL, 0, "wrong horse", 10, &out, &err), -1);
  assert_non_null(strstr(err->msg, "wrong passphrase"));
  assert_int_equal(out.len, 0);
  core_error_freep(&err);
  assert_int_equal(decrypt(enc.data, enc.len, NULL, 0, NULL, 10, &out, &err), -1);
  assert_non_null(strstr(err->msg, "pass the passphrase"));
  core_error_freep(&err);
  /* The caller's bound on work wins over what the file asks for. */
  assert_int_equal(decrypt(enc.data, enc.len, NULL, 0, "correct horse", 9, &out, &err), -1);
  assert_non_null(strstr(err->msg, "over the limit"));
  core_error_freep(&err);
  /* Recipients and a passphrase together: age forbids it, so do we. */
  core_age_recipient r = {{9}};
  core_buf none = CORE_BUF_INIT;
  assert_int_equal(core_age_encrypt("x", 1, &r, 1, "pw", 10, &none, &err), -1);
  assert_null(none.data);
  core_error_freep(&err);
  assert_int_equal(core_age_encrypt("x", 1, NULL, 0, NULL, 10, &none, &err), -1);
  core_error_freep(&err);
  core_buf_release(&enc);
  core_buf_release(&out);
  free(plain);
}

/* age reads passphrases only from a terminal: a pty driven by python3 answers its prompts. */
static const char pty_driver[] =
    "import os, pty, sys, time\n"
    "pw = sys.argv[1].encode() + b'\\n'\n"
    "pid, fd = pty.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "buf = b''\n"
    "answered = 0\n"
    "want = 2 if '-p' in sys.argv[3:] else 1\n"
    "while True:\n"
    "    try:\n"
    "        d = os.read(fd, 1024)\n"
    "    except OSError:\n"
    "        break\n"
    "    if not d:\n"
    "        break\n"
    "    buf += d\n"
    "    while answered < want and buf.lower().count(b'passphrase') > answered:\n"
    "        time.sleep(0.1)\n"
    "        os.write(fd, pw)\n"
    "        answered += 1\n"
    "_, st = os.waitpid(pid, 0)\n"
    "sys.exit(os.waitstatus_to_exitcode(st))\n";

static void test_passphrase_interop_pty(void **state) {
  (void)state;
  require_age_tools();
  if (sh("command -v python3 >/dev/null") != 0) fail_msg("python3 is required to drive age's passphrase prompt");
  write_file("drive_pty.py", pty_driver, strlen(pty_driver));
  uint8_t *plain = pattern(65537, 11);
  write_file("plain", plain, 65537);
  /* age -p to ours (age uses work factor 2^18). */
  assert_int_equal(sh("python3 drive_pty.py 'tr0ub4dor&3' age -p -o p.age plain >/dev/null 2>&1"), 0);
  core_buf enc = CORE_BUF_INIT, out = CORE_BUF_INIT, back = CORE_BUF_INIT;
  core_error *err = NULL;
  read_file("p.age", &enc);
  assert_int_equal(decrypt(enc.data, enc.len, NULL, 0, "tr0ub4dor&3", 18, &out, &err), 0);
  assert_int_equal(out.len, 65537);
  assert_memory_equal(out.data, plain, 65537);
  core_buf_release(&enc);
  /* Ours to age -d. */
  assert_int_equal(core_age_encrypt(plain, 65537, NULL, 0, "tr0ub4dor&3", 12, &enc, &err), 0);
  write_file("q.age", enc.data, enc.len);
  assert_int_equal(sh("python3 drive_pty.py 'tr0ub4dor&3' age -d -o q.out q.age >/dev/null 2>&1"), 0);
  read_file("q.out", &back);
  assert_int_equal(back.len, 65537);
  assert_memory_equal(back.data, plain, 65537);
  core_buf_release(&enc);
  core_buf_release(&out);
  core_buf_release(&back);
  free(plain);
}

static void test_keys_text(void **state) {
  (void)state;
  core_error *err = NULL;
  core_age_recipient r;
  static const char *bad[] = {
      "", "age1", "age1qqqqqqqq", "AGE1QQQQ", "ssh-ed25519 AAAA", "AGE-SECRET-KEY-1QQQ", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(core_age_recipient_parse(bad[i], &r, &err), -1);
    core_error_freep(&err);
  }
  /* Round trip, then every single-character change is caught by the checksum. */
  memset(r.x25519, 0x5a, 32);
  char text[128];
  assert_int_equal(core_age_recipient_format(&r, text, &err), 0);
  assert_int_equal(strncmp(text, "age1", 4), 0);
  core_age_recipient back;
  assert_int_equal(core_age_recipient_parse(text, &back, &err), 0);
  assert_memory_equal(back.x25519, r.x25519, 32);
  for (size_t i = 4; text[i]; i++) {
    char saved = text[i];
    text[i] = saved == 'q' ? 'p' : 'q';
    assert_int_equal(core_age_recipient_parse(text, &back, &err), -1);
    core_error_freep(&err);
    text[i] = saved;
  }
  /* BIP 173's own valid examples decode; its invalid ones do not. */
  char hrp[100];
  uint8_t data[100];
  size_t n;
  static const char *valid[] = {"A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                                "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"};
  for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
    if (core_bech32_decode(valid[i], hrp, sizeof hrp, data, sizeof data, &n, &err) < 0) {
      /* Those whose data are not whole bytes fail the 8-bit conversion, which age needs too. */
      assert_null(strstr(err->msg, "checksum"));
      core_error_freep(&err);
    }
  }
  static const char *invalid[] = {"pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8",
                                  "1qzzfhee", "a12UEL5L"};
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    assert_int_equal(core_bech32_decode(invalid[i], hrp, sizeof hrp, data, sizeof data, &n, &err), -1);
    core_error_freep(&err);
  }
}

static void test_base64_canonical(void **state) {
  (void)state;
  uint8_t out[64];
  assert_int_equal(age_b64_decode("", 0, out, sizeof out), 0);
  assert_int_equal(age_b64_decode("AA", 2, out, sizeof out), 1);
  assert_int_equal(age_b64_decode("AB", 2, out, sizeof out), -1); /* non-zero trailing bits */
  assert_int_equal(age_b64_decode("AAA", 3, out, sizeof out), 2);
  assert_int_equal(age_b64_decode("AAB", 3, out, sizeof out), -1);
  assert_int_equal(age_b64_decode("AA==", 4, out, sizeof out), -1); /* padding */
  assert_int_equal(age_b64_decode("A", 1, out, sizeof out), -1);
  assert_int_equal(age_b64_decode("A-_A", 4, out, sizeof out), -1); /* URL-safe alphabet */
  assert_int_equal(age_b64_decode("AA A", 4, out, sizeof out), -1);
  for (size_t n = 0; n < 50; n++) {
    uint8_t in[50];
    char text[80];
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)(i * 37 + n);
    age_b64_encode(in, n, text);
    size_t len = age_b64_encoded_len(n);
    assert_int_equal(age_b64_decode(text, len, out, sizeof out), (long)n);
    if (n) assert_memory_equal(out, in, n);
  }
}

/* ---- hostile files ---- */

static const uint8_t fixed_secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                         17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static core_age_identity fixed_identity(void) {
  core_age_identity id;
  memcpy(id.secret, fixed_secret, 32);
  return id;
}

typedef struct chunk_spec {
  size_t len;
  int last;
  uint64_t counter;
} chunk_spec;

/* Builds a file the way a misbehaving encoder would: the header with EXTRA stanza text after
 * a real X25519 stanza, a correct MAC, then the chunks exactly as given. This is the test's own
 * composition of the library's primitives, so what it makes is authentic but malformed. */
static void craft(const char *extra, const chunk_spec *chunks, size_t n_chunks, core_buf *out) {
  core_error *err = NULL;
  uint8_t file_key[16], eph[32] = {7}, share[32], shared[32], salt[64], wrap[32], body[32], mac_key[32], mac[32];
  memset(file_key, 0x42, sizeof file_key);
  core_age_identity id = fixed_identity();
  core_age_recipient r;
  assert_int_equal(core_age_identity_to_recipient(&id, &r, &err), 0);
  assert_int_equal(age_x25519_public(eph, share, &err), 0);
  assert_int_equal(age_x25519(eph, r.x25519, shared, &err), 0);
  memcpy(salt, share, 32);
  memcpy(salt + 32, r.x25519, 32);
  static const uint8_t zero[12];
  assert_int_equal(age_hkdf(salt, 64, shared, 32, "age-encryption.org/v1/X25519", wrap, 32, &err), 0);
  assert_int_equal(age_aead_seal(wrap, zero, file_key, 16, body, &err), 0);
  char share_b64[44] = "";
  age_b64_encode(share, 32, share_b64);
  const char *args[] = {"X25519", share_b64};
  out->len = 0;
  assert_int_equal(core_buf_append(out, "age-encryption.org/v1\n", 22, &err), 0);
  assert_int_equal(age_stanza_write(out, args, 2, body, 32, &err), 0);
  assert_int_equal(core_buf_appendf(out, &err, "%s---", extra), 0);
  assert_int_equal(age_hkdf(NULL, 0, file_key, 16, "header", mac_key, 32, &err), 0);
  assert_int_equal(age_hmac(mac_key, out->data, out->len, mac, &err), 0);
  char line[46] = " ";
  age_b64_encode(mac, 32, line + 1);
  line[44] = '\n';
  assert_int_equal(core_buf_append(out, line, 45, &err), 0);
  uint8_t nonce[16], key[32];
  memset(nonce, 0x17, sizeof nonce);
  assert_int_equal(core_buf_append(out, nonce, 16, &err), 0);
  assert_int_equal(age_hkdf(nonce, 16, file_key, 16, "payload", key, 32, &err), 0);
  for (size_t i = 0; i < n_chunks; i++) {
    uint8_t *plain = pattern(chunks[i].len, (unsigned)i), cn[12] = {0};
    for (int b = 0; b < 8; b++) cn[10 - b] = (uint8_t)(chunks[i].counter >> (8 * b));
    cn[11] = (uint8_t)chunks[i].last;
    assert_int_equal(core_buf_reserve(out, chunks[i].len + 16, &err), 0);
    assert_int_equal(age_aead_seal(key, cn, plain, chunks[i].len, out->data + out->len, &err), 0);
    out->len += chunks[i].len + 16;
    free(plain);
  }
}

/* Expects refusal with a message containing WANT (if given); returns the output length. */
#define expect_refused(d, l, w) expect_refused_at(__LINE__, d, l, w)
static size_t expect_refused_at(int line, const void *data, size_t len, const char *want) {
  core_age_identity id = fixed_identity();
  core_buf out = CORE_BUF_INIT;
  core_error *err = NULL;
  /* A key and a passphrase both: the file must fail on its own faults, not for lack of either. */
  int rc = decrypt(data, len, &id, 1, "pass", 10, &out, &err);
  if (rc == 0) fail_msg("line %d: accepted a hostile file (%zu bytes) that should be refused with '%s'", line, len, want ? want : "");
  if (want && strstr(err->msg, want) == NULL) fail_msg("line %d: message '%s' does not say '%s'", line, err->msg, want);
  size_t n = out.len;
  core_error_freep(&err);
  core_buf_release(&out);
  return n;
}

static void test_crafted_streams(void **state) {
  (void)state;
  core_age_identity id = fixed_identity();
  core_buf f = CORE_BUF_INIT, out = CORE_BUF_INIT;
  core_error *err = NULL;
  /* The crafter itself is right: well-formed files open, including a full-size last chunk. */
  const chunk_spec good[] = {{65536, 0, 0}, {65536, 1, 1}};
  craft("", good, 2, &f);
  assert_int_equal(decrypt(f.data, f.len, &id, 1, NULL, 0, &out, &err), 0);
  assert_int_equal(out.len, 2 * 65536);
  const chunk_spec empty[] = {{0, 1, 0}};
  craft("", empty, 1, &f);
  assert_int_equal(decrypt(f.data, f.len, &id, 1, NULL, 0, &out, &err), 0);
  assert_int_equal(out.len, 0);
  /* Unknown stanza types are skipped, as the spec says. */
  craft("-> grease-x y z\nAAAA\n", good, 2, &f);
  assert_int_equal(decrypt(f.data, f.len, &id, 1, NULL, 0, &out, &err), 0);

  const chunk_spec last_in_middle[] = {{65536, 1, 0}, {100, 1, 1}};
  craft("", last_in_middle, 2, &f);
  assert_int_equal(expect_refused(f.data, f.len, "marked last"), 0);
  const chunk_spec empty_after_full[] = {{65536, 0, 0}, {0, 1, 1}};
  craft("", empty_after_full, 2, &f);
  expect_refused(f.data, f.len, "empty chunk");
  const chunk_spec short_middle[] = {{100, 0, 0}, {100, 1, 1}};
  craft("", short_middle, 2, &f);
  assert_int_equal(expect_refused(f.data, f.len, "does not authenticate"), 0);
  const chunk_spec swapped[] = {{65536, 0, 1}, {65536, 0, 0}, {5, 1, 2}};
  craft("", swapped, 3, &f);
  assert_int_equal(expect_refused(f.data, f.len, "does not authenticate"), 0);
  const chunk_spec after_last[] = {{65536, 0, 0}, {65536, 1, 1}, {10, 1, 2}};
  craft("", after_last, 3, &f);
  assert_int_equal(expect_refused(f.data, f.len, "marked last"), 65536);
  const chunk_spec no_last[] = {{65536, 0, 0}, {65536, 0, 1}};
  craft("", no_last, 2, &f);
  assert_int_equal(expect_refused(f.data, f.len, "truncated"), 65536);
  const chunk_spec none[] = {{0, 0, 0}};
  craft("", none, 0, &f);
  expect_refused(f.data, f.len, "truncated");
  /* An scrypt stanza beside an X25519 one, with a valid MAC: still refused. */
  craft("-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", good, 2, &f);
  expect_refused(f.data, f.len, "only stanza");
  /* A malformed X25519 stanza is refused, not skipped. */
  craft("-> X25519 AAAA\nAAAA\n", good, 2, &f);
  expect_refused(f.data, f.len, "malformed X25519");
  core_buf_release(&f);
  core_buf_release(&out);
}

static void test_hostile_headers(void **state) {
  (void)state;
  static const char b43[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  char big[CORE_AGE_MAX_HEADER + 200];
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"", "not an age file"},
      {"age-encryption.org/v1", "truncated"},
      {"age-encryption.org/v2\n-> X25519 a\n\n--- x\n", "unsupported age format version"},
      {"age-encryption.org/v1 \n", "unsupported"},
      {"-----BEGIN AGE ENCRYPTED FILE-----\n", "armored"},
      {"age-encryption.org/v1\r\n-> X25519 a\r\n", "unsupported"},
      {"age-encryption.org/v1\n--- AAAA\n", "MAC line"},
      {"age-encryption.org/v1\n-> \n\n", "stanza without a type"},
      {"age-encryption.org/v1\n->  X25519\n\n", "empty stanza argument"},
      {"age-encryption.org/v1\n-> X25519 a \n\n", "stanza line ends with a space"},
      {"age-encryption.org/v1\n-> X25519\ta\n\n", "invalid character"},
      {"age-encryption.org/v1\n-> a b c d e f g h i\n\n", "more than"},
      {"age-encryption.org/v1\n-> X25519 a\nAA==\n", "base64"},
      {"age-encryption.org/v1\n-> X25519 a\nAB\n", "base64"},
      {"age-encryption.org/v1\n-> X25519 a\nA\n", "base64"},
      {"age-encryption.org/v1\n-> X25519 a\n"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "longer than 64"},
      {"age-encryption.org/v1\n-> X25519 a\n"
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n--- x\n", "base64"},
      {"age-encryption.org/v1\n-> X25519 a\nAAAA\nxx\n", "expected a '-> ' stanza"},
      {"age-encryption.org/v1\n-> X25519 a\nAAAA\n", "truncated"},
      {"age-encryption.org/v1\n-> X25519 a\nAAAA\n---\n", "MAC line"},
      {"age-encryption.org/v1\n-> X25519 a\nAAAA\n--- AAAA\n", "MAC line"},
      {"age-encryption.org/v1\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "no recipient stanzas"},
      {"age-encryption.org/v1\n-> X25519 a\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\n", "MAC is not"},
      {"age-encryption.org/v1\n-> X25519 a\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "malformed X25519"},
      {"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 40\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
       "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "over the limit"},
      {"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 010\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
       "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "leading zeros"},
      {"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 1x\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
       "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "leading zeros"},
      {"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\nAAAA\n"
       "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "malformed scrypt"},
      {"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
       "-> X25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
       "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "only stanza"},
      {"age-encryption.org/v1\n-> mystery\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "no stanza of a type"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    core_buf f = CORE_BUF_INIT;
    core_error *err = NULL;
    assert_int_equal(core_buf_append(&f, cases[i].text, strlen(cases[i].text), &err), 0);
    assert_int_equal(core_buf_append(&f, b43, 40, &err), 0); /* a nonce and a bit: the header is what fails */
    assert_int_equal(expect_refused(f.data, f.len, cases[i].want), 0);
    core_buf_release(&f);
  }
  /* Huge bodies, too many stanzas, a header past the limit. */
  core_buf f = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_buf_appendf(&f, &err, "age-encryption.org/v1\n-> X25519 a\n"), 0);
  for (int i = 0; i < 200; i++) assert_int_equal(core_buf_appendf(&f, &err, "%.64s\n", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0);
  assert_int_equal(core_buf_appendf(&f, &err, "\n--- %s\n", b43), 0);
  expect_refused(f.data, f.len, "stanza body over");
  f.len = 0;
  assert_int_equal(core_buf_appendf(&f, &err, "age-encryption.org/v1\n"), 0);
  for (int i = 0; i < 100; i++) assert_int_equal(core_buf_appendf(&f, &err, "-> grease\n\n"), 0);
  assert_int_equal(core_buf_appendf(&f, &err, "--- %s\n", b43), 0);
  expect_refused(f.data, f.len, "more than 64 stanzas");
  memset(big, 'A', sizeof big);
  memcpy(big, "age-encryption.org/v1\n-> x\n", 27);
  for (size_t i = 27 + 64; i < sizeof big; i += 65) big[i] = '\n';
  expect_refused(big, sizeof big, NULL);
  f.len = 0;
  assert_int_equal(core_buf_appendf(&f, &err, "age-encryption.org/v1\n"), 0);
  for (int i = 0; i < 60; i++) {
    assert_int_equal(core_buf_appendf(&f, &err, "-> g%d", i), 0);
    for (int k = 0; k < 7; k++) assert_int_equal(core_buf_appendf(&f, &err, " %0200d", k), 0);
    assert_int_equal(core_buf_appendf(&f, &err, "\n\n"), 0);
  }
  assert_int_equal(core_buf_appendf(&f, &err, "--- %s\n", b43), 0);
  expect_refused(f.data, f.len, "header longer than");
  core_buf_release(&f);
}

/* Every byte of a real file's header, its nonce, each chunk; truncation at many lengths;
 * data appended: all refused, and no byte of an unauthenticated chunk reaches the output. */
static void test_mutations(void **state) {
  (void)state;
  core_age_identity id = fixed_identity();
  core_age_recipient r;
  core_error *err = NULL;
  assert_int_equal(core_age_identity_to_recipient(&id, &r, &err), 0);
  size_t plain_len = 2 * 65536 + 100;
  uint8_t *plain = pattern(plain_len, 5);
  core_buf f = CORE_BUF_INIT, out = CORE_BUF_INIT;
  assert_int_equal(core_age_encrypt(plain, plain_len, &r, 1, NULL, 0, &f, &err), 0);
  assert_int_equal(decrypt(f.data, f.len, &id, 1, NULL, 0, &out, &err), 0);
  assert_int_equal(out.len, plain_len);
  assert_memory_equal(out.data, plain, plain_len);
  size_t header_len = (size_t)((uint8_t *)memmem(f.data, f.len, "\n--- ", 5) - f.data) + 5 + 44;
  size_t payload = header_len + 16;
  assert_int_equal(f.len, payload + plain_len + 3 * 16);
  for (size_t i = 0; i < header_len; i++)
    for (int bit = 0; bit < 8; bit += 7) {
      f.data[i] ^= (uint8_t)(1 << bit);
      assert_int_equal(expect_refused(f.data, f.len, NULL), 0);
      f.data[i] ^= (uint8_t)(1 << bit);
    }
  for (size_t i = header_len; i < payload; i++) {
    f.data[i] ^= 1;
    assert_int_equal(expect_refused(f.data, f.len, "chunk 0 does not authenticate"), 0);
    f.data[i] ^= 1;
  }
  /* A flip in chunk k: chunks before it were authenticated and written, nothing after. */
  for (size_t k = 0; k < 3; k++) {
    size_t offsets[] = {0, k < 2 ? 1000 : 50, (k < 2 ? 65536 : 100) + 15};
    for (size_t j = 0; j < 3; j++) {
      size_t at = payload + k * (65536 + 16) + offsets[j];
      f.data[at] ^= 0x20;
      assert_int_equal(expect_refused(f.data, f.len, "does not authenticate"), k * 65536);
      f.data[at] ^= 0x20;
    }
  }
  /* Wrong key, no key, the MAC flipped: distinct messages. */
  core_age_identity other = id;
  other.secret[5] ^= 1; /* not byte 0: X25519 clamps its low bits away */
  assert_int_equal(decrypt(f.data, f.len, &other, 1, NULL, 0, &out, &err), -1);
  assert_non_null(strstr(err->msg, "no identity matches"));
  core_error_freep(&err);
  f.data[header_len - 2] ^= 1;
  expect_refused(f.data, f.len, "MAC");
  f.data[header_len - 2] ^= 1;
  /* Truncation everywhere in the header and nonce, then throughout the chunks. */
  for (size_t len = 0; len < f.len; len += len < payload + 64 ? 1 : 997) {
    size_t got = expect_refused(f.data, len, NULL);
    assert_true(got % 65536 == 0 && got <= len);
  }
  expect_refused(f.data, payload + 65536 + 16, "truncated");
  expect_refused(f.data, f.len - 1, "does not authenticate");
  /* Data appended after the last chunk. */
  size_t extra[] = {1, 15, 16, 17, 65552, 70000};
  for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) {
    core_buf g = CORE_BUF_INIT;
    assert_int_equal(core_buf_append(&g, f.data, f.len, &err), 0);
    assert_int_equal(core_buf_reserve(&g, extra[i], &err), 0);
    memset(g.data + g.len, 0, extra[i]);
    g.len += extra[i];
    expect_refused(g.data, g.len, NULL);
    core_buf_release(&g);
  }
  /* Two chunks swapped. */
  uint8_t *tmp = malloc(65552);
  memcpy(tmp, f.data + payload, 65552);
  memmove(f.data + payload, f.data + payload + 65552, 65552);
  memcpy(f.data + payload + 65552, tmp, 65552);
  assert_int_equal(expect_refused(f.data, f.len, "does not authenticate"), 0);
  free(tmp);
  free(plain);
  core_buf_release(&f);
  core_buf_release(&out);
}

/* Bodies of every length around the 48-byte line boundary: written wrapped at 64 columns with
 * a final short (possibly empty) line, and parsed back to the same bytes. */
static void test_stanza_wrapping(void **state) {
  (void)state;
  for (size_t n = 0; n <= 150; n++) {
    uint8_t *body = pattern(n, (unsigned)n);
    core_buf h = CORE_BUF_INIT;
    core_error *err = NULL;
    const char *args[] = {"grease", "a"};
    assert_int_equal(core_buf_appendf(&h, &err, "age-encryption.org/v1\n"), 0);
    assert_int_equal(age_stanza_write(&h, args, 2, body, n, &err), 0);
    size_t lines = 0;
    for (size_t i = 0; i < h.len; i++) lines += h.data[i] == '\n';
    assert_int_equal(lines, 2 + n / 48 + 1); /* version, stanza line, full lines, the short one */
    if (n % 48 == 0) assert_memory_equal(h.data + h.len - 2, "\n\n", 2);
    assert_int_equal(core_buf_appendf(&h, &err, "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), 0);
    age_header parsed;
    assert_int_equal(age_header_parse(h.data, h.len, &parsed, &err), 0);
    assert_int_equal(parsed.n_stanzas, 1);
    assert_int_equal(parsed.stanzas[0].body_len, n);
    if (n) assert_memory_equal(parsed.stanzas[0].body, body, n);
    assert_int_equal(parsed.len, h.len);
    age_header_release(&parsed);
    core_buf_release(&h);
    free(body);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reader, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test(test_base64_canonical),
      cmocka_unit_test(test_stanza_wrapping),
      cmocka_unit_test(test_keys_text),
      cmocka_unit_test(test_crafted_streams),
      cmocka_unit_test(test_hostile_headers),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test_setup_teardown(test_passphrase, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_ours_to_age, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_age_to_ours, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_encrypt_fd, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_several_recipients, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_identity_file_with_comments, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(test_passphrase_interop_pty, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
