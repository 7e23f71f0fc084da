// SPDX-License-Identifier: MIT
/* ready.c - the flags of lib/ready.h, here so that no layer has to reach start-up for them. */
#include "ready.h"

bool kmm_initialized;
struct kmm_fastpath kmm_fast;
