/* Writes /etc/core/init.conf, coreinit's instructions (spec/init.md), from the app. */
#ifndef CORE_INIT_CONFIG_H
#define CORE_INIT_CONFIG_H

#include "app_config.h"
#include "buf.h"
#include "error.h"

/* Everything but the module lines, which the linker adds as it resolves them (they must
 * come before the blocks, so this is called in two halves). */
int core_init_config_head(const core_app_config *cfg, core_buf *out, core_error **err);
/* One module line (link.c adds them between the halves, in load order). */
int core_init_config_module(const char *guest_path, core_buf *out, core_error **err);
int core_init_config_body(const core_app_config *cfg, core_buf *out, core_error **err);

#endif
