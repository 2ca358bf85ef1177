/* coreinit, the guest's PID 1: sets the machine up, runs the main command, reports how it
 * ended and powers off. The whole sequence is in init_run and main below. */
#include <stdio.h>
#include <unistd.h>

#include "init.h"

/* Every step up to the end of the main command. On failure err says what went wrong. */
static int init_run(init_conf *conf, init_result *res, init_error *err) {
  if (init_mounts_setup(err) < 0) return -1;
  if (init_console_open(err) < 0) return -1;
  if (init_conf_load(conf, err) < 0) return -1;
  if (conf->hostname && init_hostname_set(conf->hostname, err) < 0) return -1;
  /* Only a warning: most programs never touch loopback, and all of them are better off
   * running than not. */
  if (init_loopback_up(err) < 0)
    fprintf(stderr, "coreinit: %s (continuing without it)\n", err->msg);
  if (init_modules_load(&conf->modules, err) < 0) return -1;
  return init_supervise(conf, res, err);
}

int main(void) {
  /* Run anywhere else, the shutdown would SIGKILL every process the user owns. */
  if (getpid() != 1) {
    fprintf(stderr, "coreinit: must run as PID 1 (it is the init of a core VM)\n");
    return 1;
  }
  init_conf conf = INIT_CONF_INIT;
  init_result res;
  init_error err;
  if (init_run(&conf, &res, &err) < 0) {
    fprintf(stderr, "coreinit: %s\n", err.msg);
    res = (init_result){INIT_STATUS_FAILED, 0};
  }
  init_processes_stop();
  init_report(&res, conf.status_device);
}
