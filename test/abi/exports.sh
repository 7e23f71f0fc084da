#!/bin/sh
# libkmm.so exports the kmm_ API and nothing else of its own (STYLE.md: every
# internal symbol is hidden).  Later layers add the malloc family here.
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$syms" | grep -v -E '^(kmm_[a-z0-9_]+)$' || true)
if [ -n "$bad" ]; then
	echo "unexpected exported symbols:"; echo "$bad"; exit 1
fi
for want in kmm_init kmm_dump kmm_alloc_pages kmm_alloc_pages_node kmm_free_pages \
	kmm_get_free_pages kmm_free_pages_va kmm_page_address kmm_virt_to_page kmm_drain_all_pages; do
	printf '%s\n' "$syms" | grep -qx "$want" || { echo "missing export: $want"; exit 1; }
done
echo "$(printf '%s\n' "$syms" | wc -l) exported symbols, all kmm_"
