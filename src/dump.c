// SPDX-License-Identifier: MIT
/*
 * dump.c - kmm_dump(): the kernel's /proc views of libkmm, by name.
 * Each view writes through a struct kmm_seq on this stack frame: no malloc,
 * no stdio, safe from any context that may call write(2).
 */
#include <errno.h>
#include <string.h>

#include <kmm/kmm.h>

#include "init.h"
#include "lib/printk.h"
#include "page/internal.h"
#include "slab/slab.h"

static const struct {
	const char *name;
	void (*show)(struct kmm_seq *m);
} views[] = {
	{ "buddyinfo", show_buddyinfo },
	{ "zoneinfo", show_zoneinfo },
	{ "slabinfo", show_slabinfo },
};

__export int kmm_dump(int fd, const char *what)
{
	struct kmm_seq m;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(views); i++) {
		if (!what || strcmp(what, views[i].name))
			continue;
		if (!kmm_ready()) {
			errno = ENOMEM;
			return -1;
		}
		kmm_seq_init(&m, fd);
		views[i].show(&m);
		ret = kmm_seq_flush(&m);
		if (ret) {
			errno = -ret;
			return -1;
		}
		return 0;
	}
	errno = EINVAL;
	return -1;
}
