/* SPDX-License-Identifier: MIT */
/*
 * stats.h - libkmm's views on demand: KMM_STATS at exit, KMM_STATS_SIGNAL
 * while the program runs.
 */
#ifndef KMM_STATS_H
#define KMM_STATS_H

/* Write the views named in @list ("slabinfo,meminfo") to @fd; warn about unknown names. */
void kmm_dump_list(int fd, const char *list);

/*
 * KMM_STATS_SIGNAL: install the handler and start the thread that writes the
 * views.  Called once, after start-up, with no lock held (it creates a thread).
 */
void stats_signal_start(void);

#endif /* KMM_STATS_H */
