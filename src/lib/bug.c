// SPDX-License-Identifier: MIT
/*
 * bug.c - kmm_panic() (see bug.h).
 */
#include "bug.h"

#include <stdarg.h>
#include <stdlib.h>

#include "printk.h"

void kmm_panic(const char *fmt, ...)
{
	char msg[512];
	size_t n;
	va_list ap;

	n = kmm_snprintf(msg, sizeof(msg), "libkmm: ");
	va_start(ap, fmt);
	n += kmm_vsnprintf(msg + n, sizeof(msg) - n - 1, fmt, ap);
	va_end(ap);
	msg[n++] = '\n';
	kmm_write_all(2, msg, n);
	abort();
}
