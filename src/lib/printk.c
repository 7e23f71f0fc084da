// SPDX-License-Identifier: MIT
/*
 * printk.c - a small vsnprintf and a buffered fd writer (see printk.h).
 * Nothing here allocates, takes a lock, or touches errno except write(2).
 */
#include "printk.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_field(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	size_t fill = width > 0 && (size_t)width > n ? (size_t)width - n : 0;

	if (!left) {
		/* A '-' sign goes before zero padding. */
		if (pad == '0' && n && s[0] == '-') {
			out_char(o, '-');
			s++;
			n--;
		}
		while (fill--)
			out_char(o, pad);
	}
	while (n--)
		out_char(o, *s++);
	if (left)
		while (fill--)
			out_char(o, ' ');
}

/* Digits of @v in base @base, into the end of @tmp.  Return: first digit. */
static char *utoa(char *end, unsigned long long v, unsigned int base)
{
	char *p = end;

	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return p;
}

size_t kmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		char tmp[24], *end = tmp + sizeof(tmp), *p;
		bool left = false, neg = false;
		char pad = ' ';
		int width = 0, lng = 0;
		unsigned long long v;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = 1;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long s = lng >= 2 ? va_arg(ap, long long)
				      : lng    ? va_arg(ap, long)
					       : va_arg(ap, int);
			neg = s < 0;
			v = neg ? 0ULL - (unsigned long long)s : (unsigned long long)s;
			p = utoa(end, v, 10);
			if (neg)
				*--p = '-';
			out_field(&o, p, (size_t)(end - p), width, left, pad);
			break;
		}
		case 'u':
		case 'x':
			v = lng >= 2 ? va_arg(ap, unsigned long long)
			    : lng    ? va_arg(ap, unsigned long)
				     : va_arg(ap, unsigned int);
			p = utoa(end, v, *fmt == 'x' ? 16 : 10);
			out_field(&o, p, (size_t)(end - p), width, left, pad);
			break;
		case 'p':
			v = (uintptr_t)va_arg(ap, void *);
			p = utoa(end, v, 16);
			*--p = 'x';
			*--p = '0';
			out_field(&o, p, (size_t)(end - p), width, left, ' ');
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			out_field(&o, tmp, 1, width, left, ' ');
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			out_field(&o, s, strlen(s), width, left, ' ');
			break;
		}
		case '%': out_char(&o, '%'); break;
		default: /* unknown conversion: show it rather than guess */
			out_char(&o, '%');
			if (!*fmt)
				goto done;
			out_char(&o, *fmt);
			break;
		}
	}
done:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len < size ? o.len : (size ? size - 1 : 0);
}

size_t kmm_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = kmm_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int kmm_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

void kmm_seq_init(struct kmm_seq *m, int fd)
{
	m->fd = fd;
	m->err = 0;
	m->len = 0;
}

int kmm_seq_flush(struct kmm_seq *m)
{
	if (m->len && !m->err)
		m->err = kmm_write_all(m->fd, m->buf, m->len);
	m->len = 0;
	return m->err;
}

void kmm_seq_puts(struct kmm_seq *m, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		size_t room = sizeof(m->buf) - m->len, k = n < room ? n : room;

		memcpy(m->buf + m->len, s, k);
		m->len += k;
		s += k;
		n -= k;
		if (m->len == sizeof(m->buf))
			kmm_seq_flush(m);
	}
}

void kmm_seq_printf(struct kmm_seq *m, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	kmm_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	kmm_seq_puts(m, line);
}
