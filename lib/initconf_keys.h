/* The words of coreinit's configuration files (spec/init.md), shared by the writers
 * (lib/initconf.c and its callers) and the reader (runtime/init/conf.c). coreinit is built
 * alone with musl from runtime/init/, which includes this file by a relative path, so it
 * holds string literals only and includes nothing. */
#ifndef CORE_INITCONF_KEYS_H
#define CORE_INITCONF_KEYS_H

/* The first line of every file: INITCONF_VERSION " " INITCONF_VERSION_VALUE. */
#define INITCONF_VERSION "version"
#define INITCONF_VERSION_VALUE "1"

/* Top-level directives. */
#define INITCONF_HOSTNAME "hostname"
#define INITCONF_MODULE "module"
#define INITCONF_ENV "env" /* NAME=VALUE */
#define INITCONF_ARG "arg"
#define INITCONF_STATUS_DEVICE "status-device"
#define INITCONF_SYSCTL "sysctl" /* KEY=VALUE */
#define INITCONF_VOLUME "volume" /* NAME DEVICE */
/* ... and those that start a block of indented keys. */
#define INITCONF_INTERFACE "interface"
#define INITCONF_MOUNT "mount"
#define INITCONF_ONBOOT "onboot"
#define INITCONF_SERVICE "service"
#define INITCONF_ONSHUTDOWN "onshutdown"

/* What the writers put before a key inside a block (the reader takes any spaces and tabs). */
#define INITCONF_INDENT "  "

/* Keys of onboot, service and onshutdown blocks (arg and env as at the top level). */
#define INITCONF_KEY_ARG INITCONF_ARG
#define INITCONF_KEY_ENV INITCONF_ENV
#define INITCONF_KEY_ROOT "root"
#define INITCONF_KEY_CWD "cwd"
#define INITCONF_KEY_USER "user"
#define INITCONF_KEY_RESTART "restart"      /* services only */
#define INITCONF_KEY_DEPENDS_ON "depends-on" /* services only */
#define INITCONF_RESTART_ALWAYS "always"
#define INITCONF_RESTART_ON_FAILURE "on-failure"
#define INITCONF_RESTART_NEVER "never"

/* Keys of mount blocks. */
#define INITCONF_KEY_TYPE "type"
#define INITCONF_KEY_SIZE "size"
#define INITCONF_KEY_MODE "mode"
#define INITCONF_KEY_VOLUME "volume"
#define INITCONF_TYPE_TMPFS "tmpfs"
#define INITCONF_TYPE_VOLUME "volume"

/* Keys of interface blocks. */
#define INITCONF_KEY_ADDRESS "address"
#define INITCONF_KEY_GATEWAY "gateway"
#define INITCONF_KEY_DNS "dns"

#endif
