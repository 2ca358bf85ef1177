/* The age v1 header as text: the version line, "-> " stanzas with base64 bodies wrapped at 64
 * columns, and the "--- " MAC line (age spec, "Header"). Written for hostile input: every
 * length is bounded by the bytes actually present, and only the canonical form is accepted. */
#include "age_internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t age_b64_encoded_len(size_t n) { return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0); }

void age_b64_encode(const uint8_t *in, size_t n, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    for (int k = 3; k >= 0; k--) out[o++] = b64_chars[(v >> (6 * k)) & 63];
  }
  if (n - i == 1) {
    out[o++] = b64_chars[in[i] >> 2];
    out[o++] = b64_chars[(in[i] & 3) << 4];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
    out[o++] = b64_chars[v >> 10];
    out[o++] = b64_chars[(v >> 4) & 63];
    out[o++] = b64_chars[(v & 15) << 2];
  }
}

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long age_b64_decode(const char *in, size_t n, uint8_t *out, size_t out_size) {
  /* One leftover character cannot encode a byte: no encoder writes it. */
  if (n % 4 == 1) return -1;
  size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
  if (need > out_size) return -1;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64_value(in[i]);
    if (v < 0) return -1; /* padding, whitespace, URL-safe characters: all refused */
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      out[o++] = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
    }
  }
  /* The unused low bits of the last character must be zero, or two texts decode alike. */
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return -1;
  return (long)o;
}

int age_stanza_write(core_buf *out, const char *const *args, size_t n_args, const uint8_t *body, size_t body_len,
                     core_error **err) {
  if (core_buf_append(out, "->", 2, err) < 0) return -1;
  for (size_t i = 0; i < n_args; i++)
    if (core_buf_append(out, " ", 1, err) < 0 || core_buf_append(out, args[i], strlen(args[i]), err) < 0) return -1;
  if (core_buf_append(out, "\n", 1, err) < 0) return -1;
  /* Full lines of 48 bytes (64 columns), then a shorter one, empty when nothing is left: the
   * reader knows the body ended by the short line. */
  size_t i = 0;
  char line[65];
  for (;;) {
    size_t take = body_len - i < 48 ? body_len - i : 48;
    age_b64_encode(body + i, take, line);
    size_t cols = age_b64_encoded_len(take);
    line[cols] = '\n';
    if (core_buf_append(out, line, cols + 1, err) < 0) return -1;
    i += take;
    if (take < 48) return 0;
  }
}

void age_header_release(age_header *h) {
  for (size_t i = 0; i < h->n_stanzas; i++) {
    if (h->stanzas[i].body) OPENSSL_cleanse(h->stanzas[i].body, h->stanzas[i].body_len);
    free(h->stanzas[i].body);
  }
  free(h->text);
  memset(h, 0, sizeof *h);
}

/* A cursor over the header copy, line by line. */
typedef struct cursor {
  char *text;
  size_t len, pos;
  size_t line_no;
} cursor;

/* The next line without its '\n' (replaced by NUL); NULL when no newline follows. */
static char *next_line(cursor *c, size_t *line_len) {
  if (c->pos >= c->len) return NULL;
  char *start = c->text + c->pos;
  char *nl = memchr(start, '\n', c->len - c->pos);
  if (nl == NULL) return NULL;
  *nl = 0;
  *line_len = (size_t)(nl - start);
  c->pos += *line_len + 1;
  c->line_no++;
  return start;
}

/* Arguments are non-empty runs of visible ASCII separated by single spaces (spec, "Header"). */
static int split_args(char *s, size_t len, age_stanza *st, size_t line_no, core_error **err) {
  size_t i = 0;
  while (i < len) {
    if (st->n_args == CORE_AGE_MAX_STANZA_ARGS)
      return core_error_set(err, 0, "header line %zu: more than %d stanza arguments", line_no, CORE_AGE_MAX_STANZA_ARGS);
    st->args[st->n_args++] = s + i;
    size_t start = i;
    while (i < len && s[i] != ' ') {
      if (s[i] < 33 || s[i] > 126)
        return core_error_set(err, 0, "header line %zu: invalid character 0x%02x in a stanza", line_no,
                              (unsigned char)s[i]);
      i++;
    }
    if (i == start) return core_error_set(err, 0, "header line %zu: empty stanza argument (two spaces, or a trailing one)", line_no);
    if (i < len) {
      s[i++] = 0;
      if (i == len) return core_error_set(err, 0, "header line %zu: stanza line ends with a space", line_no);
    }
  }
  if (st->n_args == 0) return core_error_set(err, 0, "header line %zu: stanza without a type", line_no);
  return 0;
}

static int read_body(cursor *c, age_stanza *st, core_error **err) {
  uint8_t tmp[CORE_AGE_MAX_BODY];
  size_t got = 0;
  for (;;) {
    size_t n;
    char *line = next_line(c, &n);
    if (line == NULL)
      return core_error_set(err, 0, "header: stanza '%s' body is cut off (truncated file, or a header over %d bytes)",
                            st->args[0], CORE_AGE_MAX_HEADER);
    if (n > 64) return core_error_set(err, 0, "header line %zu: stanza body line longer than 64 columns", c->line_no);
    if (got + n / 4 * 3 + 3 > sizeof tmp)
      return core_error_set(err, 0, "header line %zu: stanza body over %d bytes", c->line_no, CORE_AGE_MAX_BODY);
    long d = age_b64_decode(line, n, tmp + got, sizeof tmp - got);
    if (d < 0)
      return core_error_set(err, 0, "header line %zu: stanza body is not canonical unpadded base64", c->line_no);
    got += (size_t)d;
    if (n < 64) break; /* the short line ends the body */
  }
  st->body = malloc(got ? got : 1);
  if (st->body == NULL) return core_error_set(err, 12, "out of memory");
  memcpy(st->body, tmp, got);
  st->body_len = got;
  OPENSSL_cleanse(tmp, got);
  return 0;
}

static int check_version(const char *line, size_t n, core_error **err) {
  if (n == strlen(AGE_VERSION_LINE) && memcmp(line, AGE_VERSION_LINE, n) == 0) return 0;
  if (strncmp(line, "age-encryption.org/", 19) == 0)
    return core_error_set(err, 0, "unsupported age format version '%.40s'; only age-encryption.org/v1 is read", line);
  if (strncmp(line, "-----BEGIN AGE ENCRYPTED FILE-----", 34) == 0)
    return core_error_set(err, 0, "armored (PEM) age file; decode it with 'age -d' or encrypt without -a/--armor");
  return core_error_set(err, 0, "not an age file: it does not start with '" AGE_VERSION_LINE "'");
}

static int parse_mac_line(const char *line, size_t n, age_header *h, size_t line_no, core_error **err) {
  if (n != 4 + 43 || line[3] != ' ')
    return core_error_set(err, 0, "header line %zu: malformed MAC line (want '--- ' and 43 base64 characters)", line_no);
  if (age_b64_decode(line + 4, 43, h->mac, sizeof h->mac) != AGE_MAC_LEN)
    return core_error_set(err, 0, "header line %zu: MAC is not canonical base64", line_no);
  return 0;
}

static int parse(const uint8_t *data, size_t len, age_header *h, core_error **err) {
  size_t n = len < CORE_AGE_MAX_HEADER ? len : CORE_AGE_MAX_HEADER;
  /* A copy we may cut into strings; the MAC is computed over the original bytes. */
  h->text = malloc(n + 1);
  if (h->text == NULL) return core_error_set(err, 12, "out of memory");
  memcpy(h->text, data, n);
  h->text[n] = 0;
  cursor c = {.text = h->text, .len = n};
  size_t line_len;
  char *line = next_line(&c, &line_len);
  if (line == NULL) {
    if (n >= strlen(AGE_VERSION_LINE) && memcmp(data, AGE_VERSION_LINE, strlen(AGE_VERSION_LINE)) == 0)
      goto truncated;
    return check_version(h->text, strnlen(h->text, n), err);
  }
  if (check_version(line, line_len, err) < 0) return -1;
  for (;;) {
    size_t start = c.pos;
    line = next_line(&c, &line_len);
    if (line == NULL) goto truncated;
    if (line_len >= 3 && memcmp(line, "---", 3) == 0) {
      h->mac_input_len = start + 3;
      if (parse_mac_line(line, line_len, h, c.line_no, err) < 0) return -1;
      h->len = c.pos;
      break;
    }
    if (line_len < 3 || memcmp(line, "-> ", 3) != 0)
      return core_error_set(err, 0, "header line %zu: expected a '-> ' stanza or the '--- ' MAC line", c.line_no);
    if (h->n_stanzas == CORE_AGE_MAX_STANZAS)
      return core_error_set(err, 0, "header: more than %d stanzas", CORE_AGE_MAX_STANZAS);
    age_stanza *st = &h->stanzas[h->n_stanzas++];
    if (split_args(line + 3, line_len - 3, st, c.line_no, err) < 0 || read_body(&c, st, err) < 0) return -1;
  }
  if (h->n_stanzas == 0) return core_error_set(err, 0, "header has no recipient stanzas");
  return 0;
truncated:
  if (len > CORE_AGE_MAX_HEADER)
    return core_error_set(err, 0, "header longer than %d bytes: refused", CORE_AGE_MAX_HEADER);
  return core_error_set(err, 0, "truncated age file: the header has no '---' MAC line");
}

int age_header_parse(const uint8_t *data, size_t len, age_header *h, core_error **err) {
  memset(h, 0, sizeof *h);
  if (parse(data, len, h, err) == 0) return 0;
  age_header_release(h); /* a refused header hands out nothing */
  return -1;
}
