/* Built by `make all` with musl and -static against container-musl.a: proves that every
 * member of the container library links into a static musl program, as in coreinit. Run
 * with no arguments it only prints the known capability count (it starts nothing). */
#include <stdio.h>
#include <sys/wait.h>

#include "container.h"

int main(int argc, char **argv) {
  ctr_error err;
  if (argc > 1) {
    /* container-musl-link CMD...: runs CMD in new namespaces, for a manual check. */
    ctr_spec spec = {.argv = argv + 1};
    spec.ns[CTR_NS_PID].mode = spec.ns[CTR_NS_MNT].mode = spec.ns[CTR_NS_UTS].mode = CTR_NS_NEW;
    pid_t pid;
    if (ctr_spawn(&spec, &pid, &err) < 0) {
      fprintf(stderr, "container-musl-link: %s\n", err.msg);
      return 1;
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  printf("%d capabilities known\n", __builtin_popcountll(ctr_caps_all()));
  return 0;
}
