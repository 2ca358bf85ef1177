/* ctr_spawn: the caller prepares what the child must not do for itself (runtime.mkdir,
 * cgroups and limits, the pid namespace the child is born into), forks, and talks to the
 * child over two pipes: the child waits for "go" twice (after it is moved into its cgroup;
 * after its interfaces are moved and its namespaces bound) and reports either a failed
 * step (an error record naming the field) or nothing (the report pipe is close-on-exec:
 * end of file means the exec happened). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/close_range.h>

#include "internal.h"

static const int ctr_ns_flags[CTR_NS_COUNT] = {CLONE_NEWNS,  CLONE_NEWPID, CLONE_NEWNET,
                                               CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP};

/* What the child sends: 'N' when its namespaces are in place, 'E' + a ctr_error. */
typedef struct ctr_record {
  char tag;
  ctr_error err;
} ctr_record;

static ssize_t ctr_read_full(int fd, void *buf, size_t len) {
  size_t n = 0;
  while (n < len) {
    ssize_t r = read(fd, (char *)buf + n, len - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    n += (size_t)r;
  }
  return (ssize_t)n;
}

static void ctr_write_full(int fd, const void *buf, size_t len) {
  size_t n = 0;
  while (n < len) {
    ssize_t w = write(fd, (const char *)buf + n, len - n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    n += (size_t)w;
  }
}

/* ---- the child ---- */

static _Noreturn void ctr_child_fail(int report, const ctr_error *err) {
  ctr_record rec = {.tag = 'E', .err = *err};
  ctr_write_full(report, &rec, sizeof rec);
  _exit(127);
}

static int ctr_wait_go(int sync, ctr_error *err) {
  char c;
  if (ctr_read_full(sync, &c, 1) != 1) return ctr_error_set(err, 0, "the caller went away");
  return 0;
}

static int ctr_sysctl_write(const ctr_sysctl *s, ctr_error *err) {
  char path[CTR_PATH_MAX];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", s->key);
  if (n < 0 || (size_t)n >= sizeof path) return ctr_error_set(err, ENAMETOOLONG, "sysctl '%s'", s->key);
  /* net.ipv4.ip_forward -> net/ipv4/ip_forward; a key with slashes is taken as it is. */
  if (!strchr(s->key, '/'))
    for (char *p = path + 10; *p; p++)
      if (*p == '.') *p = '/';
  if (ctr_write_file(path, s->value, err) < 0) return ctr_error_prefix(err, "sysctl '%s'", s->key);
  return 0;
}

/* execvpe with the container's PATH (execvp would search the caller's). */
static int ctr_execvpe(const ctr_spec *spec, ctr_error *err) {
  char *const empty[] = {NULL};
  char *const *env = spec->env ? spec->env : empty;
  const char *prog = spec->argv[0];
  if (strchr(prog, '/')) {
    execve(prog, spec->argv, env);
    return ctr_error_set(err, errno, "cannot run '%s'", prog);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char *const *e = env; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  int best = ENOENT;
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    char full[CTR_PATH_MAX];
    if (snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? p : ".", prog) < (int)sizeof full) {
      execve(full, spec->argv, env);
      if (errno != ENOENT && errno != ENOTDIR) best = errno;
    }
    if (!colon) break;
    p = colon + 1;
  }
  return ctr_error_set(err, best, "cannot run '%s' (searched PATH '%s')", prog, path);
}

/* The caller's handlers and blocked signals are not the entry's. */
static void ctr_signals_reset(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
}

/* Joins the namespaces given by path (the mount namespace last: it changes the root the
 * other paths are in), then makes the new ones; the pid namespace is not among them. */
static int ctr_namespaces_enter(const ctr_spec *spec, const int ns_fds[], ctr_error *err) {
  static const int join_order[] = {CTR_NS_NET, CTR_NS_IPC, CTR_NS_UTS, CTR_NS_CGROUP, CTR_NS_MNT};
  for (size_t i = 0; i < sizeof join_order / sizeof join_order[0]; i++) {
    int k = join_order[i];
    if (ns_fds[k] >= 0 && setns(ns_fds[k], ctr_ns_flags[k]) < 0)
      return ctr_error_set(err, errno, "namespaces.%s: joining '%s'", ctr_ns_name((ctr_ns_kind)k),
                           spec->ns[k].path);
  }
  int flags = 0;
  for (int k = 0; k < CTR_NS_COUNT; k++)
    if (k != CTR_NS_PID && spec->ns[k].mode == CTR_NS_NEW) flags |= ctr_ns_flags[k];
  if (flags && unshare(flags) < 0) return ctr_error_set(err, errno, "namespaces: unshare");
  return 0;
}

/* Everything after the namespaces, up to and including the exec (steps 9 to 14 of
 * spec/container.md); returns only on failure. */
static int ctr_setup_and_exec(const ctr_spec *spec, ctr_error *err) {
  if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
    return ctr_error_set(err, errno, "hostname '%s'", spec->hostname);
  /* Through the caller's /proc: /proc/sys shows the namespaces of the process writing. */
  for (size_t i = 0; i < spec->n_sysctls; i++)
    if (ctr_sysctl_write(&spec->sysctls[i], err) < 0) return -1;
  if (spec->oom_score_adj_set) {
    char v[16];
    snprintf(v, sizeof v, "%d", spec->oom_score_adj);
    if (ctr_write_file("/proc/self/oom_score_adj", v, err) < 0)
      return ctr_error_prefix(err, "oomScoreAdj");
  }
  if (spec->ns[CTR_NS_MNT].mode == CTR_NS_NEW && ctr_fs_setup(spec, err) < 0) return -1;
  ctr_ids ids;
  if (ctr_ids_resolve(spec, &ids, err) < 0) return -1;
  /* Limits last before the user switch: raising a hard one needs CAP_SYS_RESOURCE, and a
   * low RLIMIT_NOFILE must not hinder the setup. */
  for (size_t i = 0; i < spec->n_rlimits; i++) {
    const ctr_rlimit *r = &spec->rlimits[i];
    struct rlimit rl = {.rlim_cur = (rlim_t)r->soft, .rlim_max = (rlim_t)r->hard};
    if (setrlimit(r->resource, &rl) < 0)
      return ctr_error_set(err, errno, "rlimits[%zu] (resource %d)", i, r->resource);
  }
  if (ctr_identity_apply(spec, &ids, err) < 0) return -1;
  const char *cwd = spec->cwd ? spec->cwd : "/";
  if (chdir(cwd) < 0) return ctr_error_set(err, errno, "cwd '%s'", cwd);
  if (spec->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return ctr_error_set(err, errno, "noNewPrivileges");
  /* The entry is not bound to its starter's life (PR_SET_PDEATHSIG would survive exec). */
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  return ctr_execvpe(spec, err);
}

/* Marks every descriptor from 3 + pass_fds on close-on-exec: the caller's open files are
 * not the entry's business. The report pipe stays usable until the exec. */
static int ctr_fds_cloexec(const ctr_spec *spec, ctr_error *err) {
  unsigned first = 3 + spec->pass_fds;
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  /* Kernels before 5.11: one by one, up to the limit of open files. */
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1 << 20) max = 1 << 20;
  for (long fd = first; fd < max; fd++) {
    int flags = fcntl((int)fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC) && fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC) < 0)
      return ctr_error_set(err, errno, "closing the caller's descriptor %ld", fd);
  }
  return 0;
}

static int ctr_child_setup(const ctr_spec *spec, const int ns_fds[], int sync, int report,
                           ctr_error *err) {
  ctr_signals_reset();
  /* If the caller dies, so does a child still being set up. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (spec->child_hook && spec->child_hook(spec->child_hook_arg, err) < 0) return -1;
  if (ctr_fds_cloexec(spec, err) < 0) return -1;
  if (ctr_wait_go(sync, err) < 0) return -1;
  if (ctr_namespaces_enter(spec, ns_fds, err) < 0) return -1;
  ctr_write_full(report, "N", 1);
  if (ctr_wait_go(sync, err) < 0) return -1;
  return ctr_setup_and_exec(spec, err);
}

/* ---- the caller ---- */

typedef struct ctr_fds {
  int ns[CTR_NS_COUNT];
  int self_pid;
  int sync[2], report[2];
} ctr_fds;

static void ctr_fds_close(ctr_fds *f) {
  for (int k = 0; k < CTR_NS_COUNT; k++)
    if (f->ns[k] >= 0) close(f->ns[k]);
  int *all[] = {&f->self_pid, &f->sync[0], &f->sync[1], &f->report[0], &f->report[1]};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (*all[i] >= 0) {
      close(*all[i]);
      *all[i] = -1;
    }
}

/* Binds the child's namespace file of kind to path (made as an empty file if missing). */
static int ctr_ns_bind(pid_t pid, int kind, const char *path, const char *field, ctr_error *err) {
  char src[64];
  snprintf(src, sizeof src, "/proc/%ld/ns/%s", (long)pid, ctr_ns_name((ctr_ns_kind)kind));
  int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0444);
  if (fd < 0) return ctr_error_set(err, errno, "%s: creating '%s'", field, path);
  close(fd);
  if (mount(src, path, NULL, MS_BIND, NULL) < 0)
    return ctr_error_set(err, errno, "%s: binding %s to '%s'", field, src, path);
  return 0;
}

/* runtime.interfaces, bindNS and namespace: what the caller does to the namespaces of the
 * process pid once it has them. */
static int ctr_runtime_attach(const ctr_spec *spec, pid_t pid, ctr_error *err) {
  for (size_t i = 0; i < spec->runtime.n_interfaces; i++) {
    const ctr_iface *in = &spec->runtime.interfaces[i];
    if (ctr_iface_setup(in, pid, err) < 0) return -1;
  }
  for (int k = 0; k < CTR_NS_COUNT; k++)
    if (spec->runtime.bind_ns[k]) {
      char field[64];
      snprintf(field, sizeof field, "runtime.bindNS.%s", ctr_ns_name((ctr_ns_kind)k));
      if (ctr_ns_bind(pid, k, spec->runtime.bind_ns[k], field, err) < 0) return -1;
    }
  if (spec->runtime.namespace_path &&
      ctr_ns_bind(pid, CTR_NS_NET, spec->runtime.namespace_path, "runtime.namespace", err) < 0)
    return -1;
  return 0;
}

static int ctr_parent_steps(const ctr_spec *spec, pid_t pid, ctr_fds *f, ctr_error *err) {
  if (ctr_cgroup_enter(spec, pid, err) < 0) return -1;
  ctr_write_full(f->sync[1], "g", 1);
  ctr_record rec;
  ssize_t n = ctr_read_full(f->report[0], &rec, 1);
  if (n == 1 && rec.tag == 'E') goto child_error;
  if (n != 1 || rec.tag != 'N')
    return ctr_error_set(err, 0, "the container's process ended during its setup");
  if (ctr_runtime_attach(spec, pid, err) < 0) return -1;
  ctr_write_full(f->sync[1], "g", 1);
  n = ctr_read_full(f->report[0], &rec, 1);
  if (n == 0) return 0; /* end of file: the exec closed the pipe */
  if (n == 1 && rec.tag == 'E') goto child_error;
  return ctr_error_set(err, EPROTO, "reading the container's setup report");
child_error:
  if (ctr_read_full(f->report[0], (char *)&rec + 1, sizeof rec - 1) != (ssize_t)(sizeof rec - 1))
    return ctr_error_set(err, EPROTO, "reading the container's setup report");
  rec.err.msg[sizeof rec.err.msg - 1] = '\0';
  *err = rec.err;
  return -1;
}

/* Opens the namespace files given by path (-1 for the others), so a wrong path fails
 * before anything starts. */
static int ctr_ns_open(const ctr_spec *spec, int fds[CTR_NS_COUNT], ctr_error *err) {
  for (int k = 0; k < CTR_NS_COUNT; k++) fds[k] = -1;
  for (int k = 0; k < CTR_NS_COUNT; k++)
    if (spec->ns[k].mode == CTR_NS_PATH && (fds[k] = open(spec->ns[k].path, O_RDONLY | O_CLOEXEC)) < 0) {
      int e = errno;
      for (int j = 0; j < k; j++)
        if (fds[j] >= 0) close(fds[j]);
      return ctr_error_set(err, e, "namespaces.%s '%s'", ctr_ns_name((ctr_ns_kind)k), spec->ns[k].path);
    }
  return 0;
}

/* runtime.mkdir, runtime.cgroups, and the container's cgroup with its limits. */
static int ctr_prepare(const ctr_spec *spec, ctr_error *err) {
  if (ctr_spec_check(spec, err) < 0) return -1;
  for (const char *const *d = spec->runtime.mkdir; d && *d; d++)
    if (ctr_mkdir_p(*d, 0755, err) < 0) return ctr_error_prefix(err, "runtime.mkdir '%s'", *d);
  return ctr_runtime_cgroups(spec, err) < 0 || ctr_cgroup_create(spec, err) < 0 ? -1 : 0;
}

int ctr_exec(const ctr_spec *spec, ctr_error *err) {
  if (spec->ns[CTR_NS_PID].mode != CTR_NS_HOST)
    return ctr_error_set(err, 0, "namespaces.pid: a running process cannot change its own pid "
                                 "namespace (use ctr_spawn)");
  if (ctr_prepare(spec, err) < 0 || ctr_cgroup_enter(spec, getpid(), err) < 0) return -1;
  int fds[CTR_NS_COUNT];
  if (ctr_ns_open(spec, fds, err) < 0) return -1;
  ctr_signals_reset();
  int r = spec->child_hook ? spec->child_hook(spec->child_hook_arg, err) : 0;
  if (r == 0) r = ctr_fds_cloexec(spec, err);
  if (r == 0) r = ctr_namespaces_enter(spec, fds, err);
  for (int k = 0; k < CTR_NS_COUNT; k++)
    if (fds[k] >= 0) close(fds[k]);
  if (r < 0 || ctr_runtime_attach(spec, getpid(), err) < 0) return -1;
  return ctr_setup_and_exec(spec, err);
}

int ctr_spawn(const ctr_spec *spec, pid_t *pid_out, ctr_error *err) {
  if (ctr_prepare(spec, err) < 0) return -1;
  ctr_fds f = {.self_pid = -1, .sync = {-1, -1}, .report = {-1, -1}};
  if (ctr_ns_open(spec, f.ns, err) < 0) return -1;
  if (pipe2(f.sync, O_CLOEXEC) < 0 || pipe2(f.report, O_CLOEXEC) < 0) {
    int e = errno;
    ctr_fds_close(&f);
    return ctr_error_set(err, e, "starting the container: pipe");
  }
  /* The pid namespace is that of the caller's next child: switch it for this one fork. */
  const ctr_ns *pidns = &spec->ns[CTR_NS_PID];
  if (pidns->mode != CTR_NS_HOST) {
    f.self_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    int r = f.self_pid < 0 ? -1
            : pidns->mode == CTR_NS_NEW ? unshare(CLONE_NEWPID)
                                        : setns(f.ns[CTR_NS_PID], CLONE_NEWPID);
    if (r < 0) {
      int e = errno;
      ctr_fds_close(&f);
      return ctr_error_set(err, e, "namespaces.pid%s%s", pidns->path ? " " : "",
                           pidns->path ? pidns->path : "");
    }
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(f.sync[1]);
    close(f.report[0]);
    ctr_error cerr = {0};
    ctr_child_setup(spec, f.ns, f.sync[0], f.report[1], &cerr);
    ctr_child_fail(f.report[1], &cerr);
  }
  int fork_errno = errno;
  if (f.self_pid >= 0 && setns(f.self_pid, CLONE_NEWPID) < 0) {
    /* Cannot happen as root; if it did, the caller's next children would be misplaced. */
    int e = errno;
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
    }
    ctr_fds_close(&f);
    return ctr_error_set(err, e, "namespaces.pid: returning to the caller's pid namespace");
  }
  if (pid < 0) {
    ctr_fds_close(&f);
    return ctr_error_set(err, fork_errno, "starting the container: fork");
  }
  close(f.sync[0]);
  close(f.report[1]);
  f.sync[0] = f.report[1] = -1;
  if (ctr_parent_steps(spec, pid, &f, err) < 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    ctr_fds_close(&f);
    return -1;
  }
  ctr_fds_close(&f);
  *pid_out = pid;
  return 0;
}
