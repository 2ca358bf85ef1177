/* coreinit, the guest's PID 1: sets the machine up, runs the app (onboot steps, services,
 * main command), shuts it down, reports how it ended and powers off. The whole sequence
 * is in init_boot and main below; spec/init.md describes it. */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "init.h"

/* Every step up to the onboot steps. On failure err says what went wrong. */
static int init_boot(init_conf *conf, init_supervisor *sup, init_error *err) {
  if (init_mounts_setup(err) < 0) return -1;
  if (init_console_open(err) < 0) return -1;
  if (init_conf_load(conf, err) < 0) return -1;
  /* As early as the status device is known: the host may be waiting for this to decide
   * whether its accelerator can run a guest at all. */
  init_report_alive(conf->status_device);
  for (size_t i = 0; i < conf->warnings.n; i++)
    fprintf(stderr, "coreinit: warning: %s\n", conf->warnings.v[i]);
  if (conf->hostname && init_hostname_set(conf->hostname, err) < 0) return -1;
  /* Only a warning: most programs never touch loopback, and all of them are better off
   * running than not. */
  if (init_loopback_up(err) < 0)
    fprintf(stderr, "coreinit: %s (continuing without it)\n", err->msg);
  /* Sysctls around the modules: before, so that net.*.default.* settings reach the
   * interfaces a driver creates; after, for the keys a module adds. */
  if (init_sysctls_apply(&conf->sysctls, false, err) < 0) return -1;
  if (init_modules_load(&conf->modules, err) < 0) return -1;
  init_power_button_watch();
  if (init_sysctls_apply(&conf->sysctls, true, err) < 0) return -1;
  if (init_ifaces_setup(conf, err) < 0) return -1;
  if (init_app_mount(conf, err) < 0) return -1;
  if (init_roots_prepare(conf, err) < 0) return -1;
  sup->c = conf;
  return init_boot_steps(sup, err);
}

int main(void) {
  /* Each message leaves in one write(2): unbuffered, musl's stdio writes a line longer than
   * 80 bytes in pieces, and the services' own output on the same console lands between them. */
  static char stderr_buffer[4096];
  setvbuf(stderr, stderr_buffer, _IOLBF, sizeof stderr_buffer);
  /* Run anywhere else, the shutdown would SIGKILL every process the user owns. */
  if (getpid() != 1) {
    fprintf(stderr, "coreinit: must run as PID 1 (it is the init of a core VM)\n");
    return 1;
  }
  /* First, so that no shutdown request is lost, however early it comes. Ctrl-Alt-Del
   * then becomes SIGINT to init instead of an immediate reboot. */
  init_signals_setup();
  reboot(RB_DISABLE_CAD);

  init_conf conf = INIT_CONF_INIT;
  init_supervisor sup = {0};
  init_result res;
  init_error err;
  if (init_boot(&conf, &sup, &err) < 0 || init_supervise(&sup, &res, &err) < 0) {
    fprintf(stderr, "coreinit: %s\n", err.msg);
    res = (init_result){INIT_STATUS_FAILED, 0, 0};
  }
  init_services_stop(&sup);
  init_shutdown_steps(&sup);
  init_processes_stop();
  init_app_unmount();
  init_report(&res, conf.status_device);
}
