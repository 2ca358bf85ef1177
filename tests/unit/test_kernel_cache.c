/* Unit tests for cmd/corec_kernel_cache.c, linker/kernel_index.c and the lazy module index of linker/kernel.c: the index
 * round trip, hostile indexes, damaged cache entries (each a miss, never used), and the
 * example kernel package read once from its archive, then from the cache with the same result. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "tmpdir.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "kernel.h"
#include "corec_kernel_cache.h"
#include "kernel_index.h"
#include "store.h"
#include "store_admin.h"

#define SRC "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define PACK "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static core_digest digest_of(const char *s) {
  core_digest d;
  snprintf(d.str, sizeof d.str, "%s", s);
  return d;
}

/* A small kernel index: two modules in a 100-byte pack, one with known dependencies. */
static void small_kernel(core_kernel *k) {
  memset(k, 0, sizeof *k);
  k->version = strdup("6.1.0-test");
  k->modules_version = strdup("6.1.0-test");
  k->image_offset = 0;
  k->image_size = 40;
  k->n_mods = 2;
  k->mods = calloc(2, sizeof *k->mods);
  k->mods[0] = (core_kmod){.name = strdup("virtio_net"), .path = strdup("lib/modules/6.1.0-test/kernel/virtio_net.ko"),
                           .offset = 40, .size = 30};
  k->mods[0].depends = calloc(1, sizeof(char *));
  k->mods[0].depends[0] = strdup("failover");
  k->mods[0].n_depends = 1;
  k->mods[0].depends_known = 1;
  k->mods[1] = (core_kmod){.name = strdup("failover"), .path = strdup("lib/modules/6.1.0-test/kernel/failover.ko"),
                           .offset = 70, .size = 30};
  k->builtin = calloc(1, sizeof(char *));
  k->builtin[0] = strdup("ext4");
  k->n_builtin = 1;
}

static void index_round_trip(void **state) {
  (void)state;
  cleanup_kernel core_kernel k, back = {0};
  small_kernel(&k);
  core_digest src = digest_of(SRC), pack = digest_of(PACK), got_pack;
  uint64_t pack_size = 0;
  cleanup_buf core_buf text = CORE_BUF_INIT;
  core_error *err = NULL;
  assert_int_equal(core_kernel_index_dump(&k, &src, &pack, 100, &text, &err), 0);
  assert_int_equal(core_kernel_index_parse(text.data, text.len, &src, &back, &got_pack, &pack_size, &err), 0);
  assert_null(err);
  assert_string_equal(got_pack.str, PACK);
  assert_int_equal(pack_size, 100);
  assert_string_equal(back.version, "6.1.0-test");
  assert_int_equal(back.image_size, 40);
  assert_int_equal(back.n_mods, 2);
  assert_string_equal(back.mods[0].name, "virtio_net");
  assert_int_equal(back.mods[0].offset, 40);
  assert_true(back.mods[0].depends_known);
  assert_string_equal(back.mods[0].depends[0], "failover");
  assert_false(back.mods[1].depends_known); /* not known yet: read from .modinfo when needed */
  assert_int_equal(back.n_builtin, 1);
  assert_true(core_kernel_is_builtin(&back, "ext4"));
  /* Another package's digest is refused even with a well-formed index. */
  core_kernel other = {0};
  core_digest src2 = digest_of(PACK);
  assert_int_equal(core_kernel_index_parse(text.data, text.len, &src2, &other, &got_pack, &pack_size, &err), -1);
  assert_non_null(strstr(err->msg, "another package"));
  core_error_free(err);
}

/* Each is refused with an error, nothing allocated left behind (the sanitizer build checks). */
static void hostile_indexes(void **state) {
  (void)state;
#define HEAD "{\"format\":1,\"source\":\"" SRC "\",\"pack\":\"" PACK "\",\"pack_size\":100,\"version\":\"v\","
  static const char *const bad[] = {
      "",
      "[]",
      "{\"format\":2}",
      "{\"format\":1,\"source\":\"" SRC "\"}",
      HEAD "\"image\":[0,101],\"modules\":[],\"builtin\":[]}",              /* image past the pack */
      HEAD "\"image\":[-1,1],\"modules\":[],\"builtin\":[]}",               /* negative offset */
      HEAD "\"image\":[0],\"modules\":[],\"builtin\":[]}",                  /* not a pair */
      HEAD "\"image\":[9223372036854775807,9223372036854775807],\"modules\":[],\"builtin\":[]}", /* overflow */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"lib/modules/v/a.ko\",99,2,null]],\"builtin\":[]}", /* module past the end */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"lib/modules/v/../../etc/a.ko\",0,1,null]],\"builtin\":[]}", /* .. */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"etc/a.ko\",0,1,null]],\"builtin\":[]}",             /* not lib/modules */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"lib/modules/v//a.ko\",0,1,null]],\"builtin\":[]}",  /* empty component */
      HEAD "\"image\":[0,1],\"modules\":[[\"a/b\",\"lib/modules/v/a.ko\",0,1,null]],\"builtin\":[]}", /* name with / */
      HEAD "\"image\":[0,1],\"modules\":[[\"\",\"lib/modules/v/a.ko\",0,1,null]],\"builtin\":[]}",    /* empty name */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"lib/modules/v/a.ko\",0,1,[\"x y\"]]],\"builtin\":[]}", /* bad dep */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"lib/modules/v/a.ko\",0,1]],\"builtin\":[]}",        /* 4 fields */
      HEAD "\"image\":[0,1],\"modules\":[[\"a\",\"lib/modules/v/a.ko\",0,1,7]],\"builtin\":[]}",      /* deps not a list */
      HEAD "\"image\":[0,1],\"modules\":{},\"builtin\":[]}",
      HEAD "\"image\":[0,1],\"modules\":[],\"builtin\":[1]}",
      HEAD "\"image\":[0,1],\"modules\":[]}", /* no builtin list */
      "{\"format\":1,\"source\":\"" SRC "\",\"pack\":\"sha256:12\",\"pack_size\":100,\"image\":[0,1],\"modules\":[],\"builtin\":[]}",
      "{\"format\":1,\"source\":\"" SRC "\",\"pack\":\"" PACK "\",\"pack_size\":-5,\"image\":[0,1],\"modules\":[],\"builtin\":[]}",
      "{\"format\":1,\"source\":\"" SRC "\",\"pack\":\"" PACK "\",\"pack_size\":100,\"version\":\"../x\",\"image\":[0,1],\"modules\":[],\"builtin\":[]}",
      "{\"format\":1,\"format\":1}", /* duplicate key */
  };
  core_digest src = digest_of(SRC), pack;
  uint64_t size;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    core_kernel k = {0};
    core_error *err = NULL;
    if (core_kernel_index_parse(bad[i], strlen(bad[i]), &src, &k, &pack, &size, &err) != -1)
      fail_msg("index %zu was accepted: %s", i, bad[i]);
    assert_non_null(err);
    assert_null(k.mods); /* released on failure */
    core_error_free(err);
  }
  /* A count over the limit is refused before anything is allocated for it: the length check
   * comes first for a text over the byte limit, too. */
  core_kernel k = {0};
  core_error *err = NULL;
  assert_int_equal(core_kernel_index_parse("{}", (size_t)CORE_KERNEL_INDEX_MAX_BYTES + 1, &src, &k, &pack, &size, &err), -1);
  assert_non_null(strstr(err->msg, "over the limit"));
  core_error_free(err);
}

static core_store *open_store(void) {
  core_store *s = NULL;
  core_error *err = NULL;
  assert_int_equal(core_store_open("store", &s, &err), 0);
  return s;
}

static char *ref_file(void) {
  char *p = NULL;
  assert_true(asprintf(&p, "store/cache/kernel/%s", SRC + 7) > 0);
  return p;
}

/* A pack of 100 known bytes stored as a blob, and an entry for it. */
static void save_small(core_store *s, core_digest *pack) {
  uint8_t bytes[100];
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)i;
  core_error *err = NULL;
  assert_int_equal(core_store_put(s, bytes, sizeof bytes, pack, &err), 0);
  cleanup_kernel core_kernel k;
  small_kernel(&k);
  core_digest src = digest_of(SRC);
  assert_int_equal(core_kernel_cache_save(s, &src, pack, 100, &k, &err), 0);
  assert_null(err);
}

static void cache_hit_and_damage(void **state) {
  (void)state;
  cleanup_store core_store *s = open_store();
  core_digest pack, src = digest_of(SRC);
  core_error *err = NULL;
  save_small(s, &pack);
  {
    cleanup_kernel core_kernel k = {0};
    assert_int_equal(core_kernel_cache_load(s, &src, &k, &err), 1);
    assert_int_equal(k.pack_len, 100);
    assert_int_equal(k.n_mods, 2);
    assert_int_equal(core_kernel_module_read(&k, &k.mods[0], &err), 0);
    assert_int_equal(k.mods[0].data.len, 30);
    assert_int_equal(k.mods[0].data.data[0], 40); /* its bytes, from offset 40 of the pack */
  }
  cleanup_free char *ref = ref_file();
  cleanup_free char *pack_path = core_store_blob_path(s, &pack);

  /* A pack whose bytes changed: refused (re-hashed), the reference and the blob removed. */
  chmod(pack_path, 0644);
  {
    int fd = open(pack_path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 50), 1);
    close(fd);
    cleanup_kernel core_kernel k = {0};
    assert_int_equal(core_kernel_cache_load(s, &src, &k, &err), 0);
    assert_null(k.mods);
    assert_int_equal(access(ref, F_OK), -1);
    assert_int_equal(access(pack_path, F_OK), -1);
  }

  /* A truncated pack. */
  save_small(s, &pack);
  chmod(pack_path, 0644);
  assert_int_equal(truncate(pack_path, 60), 0);
  {
    cleanup_kernel core_kernel k = {0};
    assert_int_equal(core_kernel_cache_load(s, &src, &k, &err), 0);
    assert_int_equal(access(ref, F_OK), -1);
  }

  /* References that are not one: truncated, garbage, naming a missing index, a link. */
  static const char *const refs[] = {"sha256:12\n", "not a digest at all, but of the right length ........ ok\n",
                                     "sha256:3333333333333333333333333333333333333333333333333333333333333333\n"};
  for (size_t i = 0; i < 3; i++) {
    save_small(s, &pack);
    assert_int_equal(core_write_file_atomic(ref, refs[i], strlen(refs[i]), 0644, &err), 0);
    cleanup_kernel core_kernel k = {0};
    assert_int_equal(core_kernel_cache_load(s, &src, &k, &err), 0);
    assert_null(err);
    assert_int_equal(access(ref, F_OK), -1);
  }
  save_small(s, &pack);
  unlink(ref);
  assert_int_equal(symlink("/dev/zero", ref), 0);
  {
    cleanup_kernel core_kernel k = {0};
    assert_int_equal(core_kernel_cache_load(s, &src, &k, &err), 0);
    struct stat st;
    assert_int_equal(lstat(ref, &st), -1); /* removed, not followed */
  }

  /* An index blob whose bytes changed. */
  save_small(s, &pack);
  cleanup_buf core_buf text = CORE_BUF_INIT;
  assert_int_equal(core_read_file(ref, &text, &err), 0);
  text.data[CORE_DIGEST_STRLEN] = 0;
  core_digest index = digest_of((char *)text.data);
  cleanup_free char *index_path = core_store_blob_path(s, &index);
  chmod(index_path, 0644);
  assert_int_equal(truncate(index_path, 10), 0);
  {
    cleanup_kernel core_kernel k = {0};
    assert_int_equal(core_kernel_cache_load(s, &src, &k, &err), 0);
    assert_int_equal(access(ref, F_OK), -1);
  }

  /* gc's part: a reference whose pack is gone is pruned. */
  save_small(s, &pack);
  size_t n = 0;
  assert_int_equal(core_kernel_cache_count(s, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(core_kernel_cache_prune(s, &n, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(core_store_remove(s, &pack, &err), 0);
  assert_int_equal(core_kernel_cache_prune(s, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(access(ref, F_OK), -1);
}

/* The example kernel package: read from its archive once, then from the cache, with the same
 * image, the same closure and the same module bytes; a missing module refused as before. */
static void example_package_cached(void **state) {
  (void)state;
  cleanup_free char *deb = NULL;
  assert_true(asprintf(&deb, "%s/examples/debs/linux-image-cloud-amd64.deb", tmpdir_old_cwd) > 0);
  if (access(deb, R_OK) != 0) fail_msg("%s is missing: run 'make deps'", deb);
  corec_kernel_cache_install("store");
  core_error *err = NULL;
  unsigned long reads = core_kernel_archive_reads();
  cleanup_kernel core_kernel cold = {0}, warm = {0};
  assert_int_equal(core_kernel_load(deb, &cold, &err), 0);
  assert_int_equal(core_kernel_archive_reads(), reads + 1);
  assert_int_equal(core_kernel_load(deb, &warm, &err), 0);
  assert_int_equal(core_kernel_archive_reads(), reads + 1); /* not decompressed again */
  assert_null(err);
  assert_int_equal(cold.image.len, warm.image.len);
  assert_memory_equal(cold.image.data, warm.image.data, cold.image.len);
  assert_string_equal(cold.version, warm.version);
  assert_int_equal(cold.n_mods, warm.n_mods);
  assert_true(cold.n_mods > 1000);
  char *wanted[] = {"virtio_net", "ext4"};
  cleanup_free const core_kmod **a = NULL, **b = NULL;
  size_t na = 0, nb = 0;
  long missing;
  assert_int_equal(core_kernel_module_closure(&cold, wanted, 2, &a, &na, &missing, &err), 0);
  assert_int_equal(core_kernel_module_closure(&warm, wanted, 2, &b, &nb, &missing, &err), 0);
  assert_int_equal(na, nb);
  assert_true(na >= 3); /* failover, net_failover, virtio_net; ext4 is built in */
  assert_string_equal(a[na - 1]->name, "virtio_net");
  for (size_t i = 0; i < na; i++) {
    assert_string_equal(a[i]->name, b[i]->name);
    assert_int_equal(a[i]->data.len, b[i]->data.len);
    assert_true(a[i]->data.len > 0);
    assert_memory_equal(a[i]->data.data, b[i]->data.data, a[i]->data.len);
  }
  /* Only what a closure needed was read: every other module is still just an index entry. */
  size_t read = 0;
  for (size_t i = 0; i < warm.n_mods; i++) read += warm.mods[i].data.len > 0;
  assert_int_equal(read, nb);
  char *bad[] = {"virtio_nett"};
  cleanup_free const core_kmod **c = NULL;
  size_t nc = 0;
  assert_int_equal(core_kernel_module_closure(&warm, bad, 1, &c, &nc, &missing, &err), -1);
  assert_int_equal(missing, 0);
  assert_non_null(strstr(err->msg, "kernel module 'virtio_nett' is neither in the kernel package nor built into the kernel"));
  core_error_free(err);
  core_kernel_cache_set(NULL);
}

/* A small kernel package made with ar, tar and xz or gzip: a fake bzImage, two modules and
 * modules.dep saying a needs b. COMPRESS is "xz" or "gzip"; EXTRA is one more tar entry. */
static void make_deb(const char *name, const char *compress, const char *extra) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "set -e; rm -rf pkg && mkdir -p pkg/boot pkg/lib/modules/1/kernel/x && "
           "python3 -c 'import sys; b=bytearray(4096); b[0x202:0x206]=b\"HdrS\"; sys.stdout.buffer.write(b)' "
           ">pkg/boot/vmlinuz-1 && printf 'module a bytes' >pkg/lib/modules/1/kernel/x/a.ko && "
           "printf 'module b' >pkg/lib/modules/1/kernel/x/b-b.ko && "
           "printf 'kernel/x/a.ko: kernel/x/b-b.ko\\nkernel/x/b-b.ko:\\n' >pkg/lib/modules/1/modules.dep && "
           "printf 'kernel/fs/ext4/ext4.ko\\n' >pkg/lib/modules/1/modules.builtin && "
           "tar -C pkg -cf data.tar ./boot ./lib %s && %s -f data.tar && echo 2.0 >debian-binary && "
           "tar -cf control.tar --files-from /dev/null && xz -f control.tar && rm -f %s && "
           "ar rc %s debian-binary control.tar.xz data.tar.%s",
           extra, compress, name, name, strcmp(compress, "xz") == 0 ? "xz" : "gz");
  if (system(cmd) != 0) fail_msg("making %s failed (needs ar, tar, xz, gzip, python3)", name);
}

static void small_packages(void **state) {
  (void)state;
  core_kernel_cache_set(NULL);
  const char *const kinds[] = {"xz", "gzip"};
  for (size_t i = 0; i < 2; i++) {
    make_deb("k.deb", kinds[i], "");
    cleanup_kernel core_kernel k = {0};
    core_error *err = NULL;
    if (core_kernel_load("k.deb", &k, &err) < 0) fail_msg("%s: %s", kinds[i], err->msg);
    assert_string_equal(k.version, "1");
    assert_int_equal(k.image.len, 4096);
    assert_int_equal(k.n_mods, 2);
    assert_true(core_kernel_is_builtin(&k, "ext4"));
    char *wanted[] = {"a"};
    cleanup_free const core_kmod **order = NULL;
    size_t n = 0;
    long missing;
    /* modules.dep names the dependency: no .modinfo is read (these are not ELF files). */
    assert_int_equal(core_kernel_module_closure(&k, wanted, 1, &order, &n, &missing, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(order[0]->name, "b_b");
    assert_string_equal(order[1]->name, "a");
    assert_int_equal(order[1]->data.len, 14);
    assert_memory_equal(order[1]->data.data, "module a bytes", 14);
  }
  /* Hostile packages: an entry that climbs out with "..", damaged xz. Refused, not crashed. */
  make_deb("k.deb", "xz", "--transform=s,^./lib/modules/1/modules.builtin,../../escape, ./lib/modules/1/modules.builtin");
  {
    cleanup_kernel core_kernel k = {0};
    core_error *err = NULL;
    assert_int_equal(core_kernel_load("k.deb", &k, &err), -1);
    assert_non_null(strstr(err->msg, "escapes the root"));
    core_error_free(err);
  }
  make_deb("k.deb", "xz", "");
  /* Damage the middle of data.tar.xz (the ar member starts after the small ones). */
  assert_int_equal(system("python3 -c \"import os; f=open('k.deb','r+b'); n=os.path.getsize('k.deb'); "
                          "f.seek(n-200); f.write(b'\\x00'*100)\""), 0);
  {
    cleanup_kernel core_kernel k = {0};
    core_error *err = NULL;
    assert_int_equal(core_kernel_load("k.deb", &k, &err), -1);
    assert_non_null(err);
    core_error_free(err);
  }
  /* Not a package with a kernel. */
  assert_int_equal(system("rm -rf pkg2 && mkdir -p pkg2/usr && printf x >pkg2/usr/f && tar -C pkg2 -cf data.tar ./usr && "
                          "xz -f data.tar && rm -f n.deb && ar rc n.deb debian-binary control.tar.xz data.tar.xz"), 0);
  {
    cleanup_kernel core_kernel k = {0};
    core_error *err = NULL;
    assert_int_equal(core_kernel_load("n.deb", &k, &err), -1);
    assert_non_null(strstr(err->msg, "without a kernel"));
    core_error_free(err);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(index_round_trip),
      cmocka_unit_test(hostile_indexes),
      cmocka_unit_test_setup_teardown(cache_hit_and_damage, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(example_package_cached, enter_tmpdir, leave_tmpdir),
      cmocka_unit_test_setup_teardown(small_packages, enter_tmpdir, leave_tmpdir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
