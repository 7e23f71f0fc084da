/* SPDX-License-Identifier: MIT */
/*
 * printk.h - formatted output without malloc or stdio, for diagnostics and the
 * /proc-style views (the kernel's lib/vsprintf.c and seq_file, in small).
 *
 * Conversions: %d %i %u %x %c %s %p %% with the length modifiers l, ll, z, and
 * the flags '-' and '0' with a field width.  Output that does not fit is cut.
 */
#ifndef KMM_LIB_PRINTK_H
#define KMM_LIB_PRINTK_H

#include <stdarg.h>

#include "compiler.h"

/* Format into @buf (always NUL-terminated when @size > 0).  Return: length written. */
size_t kmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t kmm_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/*
 * A buffered writer to a file descriptor, kept on the caller's stack (the
 * kernel's seq_file).  @err keeps the first write error; later output is dropped.
 */
struct kmm_seq {
	int fd;
	int err;
	size_t len;
	char buf[2048];
};

void kmm_seq_init(struct kmm_seq *m, int fd);
void kmm_seq_printf(struct kmm_seq *m, const char *fmt, ...) __printf(2, 3);
void kmm_seq_puts(struct kmm_seq *m, const char *s);
/* Write out what is buffered.  Return: 0 or -errno of the first failed write. */
int kmm_seq_flush(struct kmm_seq *m);

/* Write all of @len bytes to @fd, retrying on EINTR.  Return: 0 or -errno. */
int kmm_write_all(int fd, const char *buf, size_t len);

#endif /* KMM_LIB_PRINTK_H */
