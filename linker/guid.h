/* GUIDs in the on-disk byte order of GPT and UEFI (the first three fields little-endian, the
 * rest as written), parsed from and formatted as text, and derived from a seed so that disk
 * images are reproducible. */
#ifndef CORE_GUID_H
#define CORE_GUID_H

#include <stdint.h>

#include "digest.h"
#include "error.h"

#define CORE_GUID_STRLEN 36

/* "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" (either case) -> on-disk bytes. */
int core_guid_parse(const char *text, uint8_t out[16], core_error **err);
/* On-disk bytes -> upper-case text, as sgdisk and the UEFI specification write it. */
void core_guid_format(const uint8_t guid[16], char out[CORE_GUID_STRLEN + 1]);
/* A version-4, variant-1 GUID from the first 16 bytes of SHA-256("core-guid\0" SEED "\0" LABEL),
 * the version and variant bits then set: it looks like any random GUID, but the same seed and
 * label always give the same one. */
int core_guid_derive(const core_digest *seed, const char *label, uint8_t out[16], core_error **err);

#endif
