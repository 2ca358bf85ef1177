/* corec: the compiler and linker of core. Table-driven subcommands; errors printed here only. */
#include "corec.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  corec_command_fn fn;
  const char *summary;
  int error_status; /* the exit status when the command fails */
} commands[] = {
    {"build", corec_build, "compile app.yml into a signed artifact (.tim, disk, ISO)", 1},
    {"check", corec_check, "validate app.yml without building", 1},
    {"plan", corec_plan, "print the resolved link plan", 1},
    {"sign", corec_sign, "add signatures to a built artifact (its digest unchanged)", 1},
    {"verify", corec_verify, "verify an artifact as corerun does, without booting it", 1},
    {"inspect", corec_inspect, "verify an artifact, then show its signatures, blobs and config", 1},
    {"ls", corec_ls, "verify an artifact, then list its root file system (like tar tv)", 1},
    /* diff(1)'s convention: 0 the same, 1 different, so an error must be 2. */
    {"diff", corec_diff, "verify two artifacts, then compare config, kernel, modules, files, sources, packages", 2},
    {"sbom", corec_sbom, "verify an artifact, then print its SBOM (SPDX 2.3 JSON)", 1},
    {"provenance", corec_provenance, "verify an artifact, then print its provenance (SLSA v1)", 1},
    {"keygen", corec_keygen, "create an Ed25519 signing key pair", 1},
    {"lock", corec_lock, "pin every remote source in app.lock", 1},
    {"cache", corec_cache, "list, clean or verify the content store", 1},
    {"init", corec_init, "write a starter app.yml from stdlib templates", 1},
    {"templates", corec_templates, "list the stdlib templates", 1},
};

static void usage(FILE *out) {
  fprintf(out, "usage: corec COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\nRun 'corec COMMAND --help' for the options of one command.\n"
          "Environment: CORE_HOME (default ~/.core) holds keys/, trust.d/ and store/; CORE_CONFIG_DIR\n"
          "overrides where keys/ and trust.d/ are, CORE_STORE_DIR where the content store is;\n"
          "CORE_STDLIB_DIR where stdlib: templates are found; SOURCE_DATE_EPOCH sets the one\n"
          "timestamp written into artifacts (default 0).\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("corec %s\n", COREC_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) != 0) continue;
    core_error *err = NULL;
    int rc = commands[i].fn(argc - 1, argv + 1, &err);
    if (rc < 0) {
      core_error_print("corec", err);
      core_error_free(err);
      return commands[i].error_status;
    }
    return rc;
  }
  fprintf(stderr, "corec: error: unknown command '%s'; run 'corec --help' for the list\n", argv[1]);
  return 2;
}
