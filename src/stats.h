/* SPDX-License-Identifier: MIT */
/*
 * stats.h - libkmm's views on demand while the program runs (KMM_STATS_SIGNAL).
 */
#ifndef KMM_STATS_H
#define KMM_STATS_H

/*
 * KMM_STATS_SIGNAL: install the handler and start the thread that writes the
 * views.  Called once, after start-up, with no lock held (it creates a thread).
 */
void stats_signal_start(void);

#endif /* KMM_STATS_H */
