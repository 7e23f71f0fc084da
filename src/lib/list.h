/* SPDX-License-Identifier: MIT */
/*
 * list.h - circular doubly linked lists, after the kernel's include/linux/list.h.
 * An empty list's head points to itself; nodes are embedded in their owners.
 */
#ifndef KMM_LIB_LIST_H
#define KMM_LIB_LIST_H

#include "compiler.h"

struct kmm_list {
	struct kmm_list *next, *prev;
};

static inline void list_init(struct kmm_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool list_empty(const struct kmm_list *head)
{
	return head->next == head;
}

static inline void __list_add(struct kmm_list *n, struct kmm_list *prev, struct kmm_list *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Add @n right after @head (a stack: the newest entry is taken first). */
static inline void list_add(struct kmm_list *n, struct kmm_list *head)
{
	__list_add(n, head, head->next);
}

/* Add @n before @head (a queue). */
static inline void list_add_tail(struct kmm_list *n, struct kmm_list *head)
{
	__list_add(n, head->prev, head);
}

static inline void list_del(struct kmm_list *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	entry->next = entry->prev = NULL;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) list_entry((head)->prev, type, member)
#define list_for_each(pos, head) for (pos = (head)->next; pos != (head); pos = pos->next)

#endif /* KMM_LIB_LIST_H */
