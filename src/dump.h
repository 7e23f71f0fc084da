/* SPDX-License-Identifier: MIT */
/*
 * dump.h - the views (dump.c), for kmm_dump() in src/api.c.
 */
#ifndef KMM_DUMP_H
#define KMM_DUMP_H

#include "lib/compiler.h"

/* Is there a view named @what? */
bool dump_has_view(const char *what);

/*
 * dump_view() - write the view named @what to @fd; libkmm is up.
 * Return: 0, -EINVAL if there is no such view, or the write's -errno.
 */
int dump_view(int fd, const char *what);

/* Write the views named in @list ("slabinfo,meminfo") to @fd; warn about unknown names. */
void kmm_dump_list(int fd, const char *list);

#endif /* KMM_DUMP_H */
