/* corec sbom and corec provenance: a verified artifact's SBOM or provenance document, printed
 * as indented JSON with sorted keys (spec/sbom.md). */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "corec.h"
#include "corec_artifact.h"
#include "json.h"

static const char sbom_help[] =
    "usage: corec sbom [--trust FILE ...] [--identity FILE ...] ARTIFACT\n"
    "\n"
    "Verifies ARTIFACT (.tim, raw disk, qcow2 or ISO) exactly as 'corec verify' does, and refuses\n"
    "it with the same message (exit 1) when it does not verify; then prints its SBOM, an SPDX 2.3\n"
    "JSON document (every source with its pin, every image layer, the packages found in them), as\n"
    "indented JSON with sorted keys. spec/sbom.md describes what is in it.\n"
    "\n"
    "  --trust FILE      also trust this Ed25519 public key (PEM); may be repeated (at most 16)\n"
    "  --identity FILE   age identity file for an encrypted artifact (not needed: the SBOM is\n"
    "                    stored in the clear); may be repeated\n"
    "  -h, --help        show this help\n";

static const char provenance_help[] =
    "usage: corec provenance [--trust FILE ...] [--identity FILE ...] ARTIFACT\n"
    "\n"
    "Verifies ARTIFACT (.tim, raw disk, qcow2 or ISO) exactly as 'corec verify' does, and refuses\n"
    "it with the same message (exit 1) when it does not verify; then prints its provenance, an\n"
    "in-toto Statement v1 with an SLSA Provenance v1 predicate (app.yml and its digest, the --var\n"
    "values, SOURCE_DATE_EPOCH, every pinned source), as indented JSON with sorted keys.\n"
    "spec/sbom.md describes what is in it.\n"
    "\n"
    "  --trust FILE      also trust this Ed25519 public key (PEM); may be repeated (at most 16)\n"
    "  --identity FILE   age identity file for an encrypted artifact (not needed: the provenance\n"
    "                    is stored in the clear); may be repeated\n"
    "  -h, --help        show this help\n";

static int print_document(int argc, char **argv, const char *help, const char *what, int provenance, core_error **err) {
  corec_artifact_flags flags = {0};
  int parsed = corec_artifact_args(argc, argv, help, &flags, NULL, err);
  if (parsed != 0) return parsed == 1 ? 0 : parsed;
  if (optind != argc - 1) return core_error_set(err, 0, "%s takes one artifact; see 'corec %s --help'", what, what);
  const char *path = argv[optind];
  cleanup_corec_artifact corec_artifact a = {0};
  cleanup_json json_t *doc = NULL;
  cleanup_buf core_buf out = CORE_BUF_INIT;
  if (corec_artifact_open(path, &flags, 0, &a, err) < 0) return -1;
  if (corec_artifact_document(&a, provenance, &doc, err) < 0) return core_error_wrap(err, "'%s'", path);
  if (doc == NULL)
    return core_error_set(err, 0, "'%s' has no %s: it was built before artifacts carried one; build it again for one",
                          path, provenance ? "provenance" : "SBOM");
  if (core_json_dump_pretty(doc, &out, err) < 0) return -1;
  fwrite(out.data, 1, out.len, stdout);
  return 0;
}

int corec_sbom(int argc, char **argv, core_error **err) {
  return print_document(argc, argv, sbom_help, "sbom", 0, err);
}

int corec_provenance(int argc, char **argv, core_error **err) {
  return print_document(argc, argv, provenance_help, "provenance", 1, err);
}
