/* For the tests of the merged tree (test_rootfs, test_oci_layer): every test runs twice, file
 * data in memory and then in a spool (what corec uses), and reads a node's bytes through the
 * one reader. Include after cmocka.h. */
#ifndef CORE_TEST_ROOTFS_FIXTURE_H
#define CORE_TEST_ROOTFS_FIXTURE_H

#include "buf.h"
#include "rootfs.h"

/* 0: file data in memory; 1: spooled. The test's main sets it between its two runs. */
static int spool_mode;

static core_rootfs fresh_fs(void) {
  core_rootfs fs = CORE_ROOTFS_INIT;
  core_error *err = NULL;
  if (spool_mode && core_rootfs_use_spool(&fs, &err) < 0) fail_msg("%s", err->msg);
  return fs;
}

/* A file node's bytes, through the one reader, as a NUL-terminated string the caller frees. */
static char *node_text(const core_rootfs *fs, const core_node *n) {
  core_error *err = NULL;
  core_buf b = CORE_BUF_INIT;
  if (core_rootfs_node_read(fs, n, &b, &err) < 0 || core_buf_append(&b, "", 1, &err) < 0) fail_msg("%s", err->msg);
  return (char *)b.data;
}

#endif
