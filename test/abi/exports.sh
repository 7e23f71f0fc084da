#!/bin/sh
# libkmm.so exports the kmm_ API and nothing else of its own (STYLE.md: every
# internal symbol is hidden).  Later layers add the malloc family here.
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
# The malloc family, glibc's aliases and introspection, and C++ new/delete.
std='malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc'
std="$std|malloc_usable_size|free_sized|free_aligned_sized|cfree|mallopt|malloc_trim|mallinfo"
std="$std|mallinfo2|malloc_stats|malloc_info|__libc_(malloc|free|calloc|realloc|memalign|valloc|pvalloc)"
std="$std|__posix_memalign|_Zn[wa]m.*|_Zd[la]Pv.*"
bad=$(printf '%s\n' "$syms" | grep -v -E "^(kmm_[a-z0-9_]+|$std)\$" || true)
if [ -n "$bad" ]; then
	echo "unexpected exported symbols:"; echo "$bad"; exit 1
fi
for want in kmm_init kmm_dump kmm_alloc_pages kmm_alloc_pages_node kmm_free_pages \
	kmm_get_free_pages kmm_free_pages_va kmm_page_address kmm_virt_to_page kmm_drain_all_pages \
	kmm_cache_create kmm_cache_alloc kmm_cache_free kmm_cache_destroy kmm_kmalloc kmm_kfree \
	malloc free calloc realloc posix_memalign aligned_alloc malloc_usable_size _Znwm _ZdlPv \
	_ZdlPvmSt11align_val_t __libc_malloc mallinfo2 kmm_vmalloc kmm_vzalloc kmm_vfree kmm_vrealloc \
	kmm_vmap kmm_vunmap kmm_vmalloc_to_page kmm_is_vmalloc_addr kmm_kvmalloc kmm_kvfree kmm_reclaim \
	kmm_mempool_create kmm_mempool_alloc kmm_mempool_free kmm_mempool_resize kmm_mempool_destroy \
	kmm_numa_nr_node_ids kmm_node_online kmm_numa_node_id kmm_cpu_to_node kmm_page_to_nid \
	kmm_addr_to_nid kmm_kmalloc_node kmm_cache_alloc_node kmm_vmalloc_node; do
	printf '%s\n' "$syms" | grep -qx "$want" || { echo "missing export: $want"; exit 1; }
done
echo "$(printf '%s\n' "$syms" | wc -l) exported symbols: the kmm_ API and the allocation API"
