/* /etc/passwd and /etc/group for the app's declared users and groups, merged over what
 * the layers already put there. */
#ifndef CORE_USERS_H
#define CORE_USERS_H

#include "app_config.h"
#include "error.h"
#include "rootfs.h"

/* Adds or replaces etc/passwd and etc/group in fs when the app declares users or groups. */
int core_link_users(const core_app_config *cfg, core_rootfs *fs, core_error **err);

#endif
