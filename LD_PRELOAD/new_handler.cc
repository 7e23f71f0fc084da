// SPDX-License-Identifier: MIT
/*
 * new_handler.cc - the one piece of the C++ boundary C cannot write: a call
 * of the program's new_handler that catches what it throws.  The nothrow
 * operator new forms (malloc.c) run the handler loop like the throwing forms
 * and return nullptr when the handler throws bad_alloc.
 *
 * libkmm.so needs no libstdc++: the C++ runtime symbols this code refers to
 * (the personality routine and the catch calls) are weak.  It only runs when
 * the program has a new_handler, which only a loaded libstdc++ can give it.
 */
typedef void (*kmm_new_handler_t)(void);

extern "C" bool cxx_call_new_handler(kmm_new_handler_t handler) noexcept;

asm(".weak __gxx_personality_v0\n\t"
    ".weak __cxa_begin_catch\n\t"
    ".weak __cxa_end_catch\n\t"
    ".weak _ZSt9terminatev");

/* Run @handler.  Return: false if it threw (bad_alloc, by the standard). */
bool cxx_call_new_handler(kmm_new_handler_t handler) noexcept
{
	try {
		handler();
	} catch (...) {
		return false;
	}
	return true;
}
