/* The ACPI power button (QEMU's system_powerdown) as a shutdown request. Linux reports the
 * button only as a key press on an input device, never as a signal to init, so coreinit
 * reads that device itself, as a desktop's login manager would. Needs the modules
 * button (the ACPI driver) and evdev (the /dev/input/event* files). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

/* From <linux/input.h>, which musl does not ship: an event as evdev delivers it (the time
 * is two longs on the 64-bit machines coreinit runs on), and the codes of a power key. */
struct init_input_event {
  long sec, usec;
  unsigned short type, code;
  int value;
};
#define INIT_EV_KEY 1
#define INIT_KEY_POWER 116

int init_power_button_open(void) {
  DIR *d = opendir("/sys/class/input");
  if (!d) return -1;
  int fd = -1;
  struct dirent *e;
  while (fd < 0 && (e = readdir(d))) {
    if (strncmp(e->d_name, "event", 5) != 0) continue;
    char path[300], name[64] = "";
    snprintf(path, sizeof path, "/sys/class/input/%s/device/name", e->d_name);
    int nfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nfd < 0) continue;
    ssize_t n = read(nfd, name, sizeof name - 1);
    close(nfd);
    /* The name the ACPI button driver gives the fixed-feature and the device button. */
    if (n <= 0 || strncmp(name, "Power Button\n", 13) != 0) continue;
    snprintf(path, sizeof path, "/dev/input/%s", e->d_name);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  }
  closedir(d);
  return fd;
}

bool init_power_button_pressed(int fd) {
  struct init_input_event ev[16];
  bool pressed = false;
  ssize_t n;
  while ((n = read(fd, ev, sizeof ev)) > 0)
    for (size_t i = 0; i < (size_t)n / sizeof ev[0]; i++)
      if (ev[i].type == INIT_EV_KEY && ev[i].code == INIT_KEY_POWER && ev[i].value == 1)
        pressed = true;
  return pressed;
}
