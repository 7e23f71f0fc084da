// SPDX-License-Identifier: MIT
/* ready.c - the flag of lib/ready.h, here so that no layer has to reach start-up for it. */
#include "ready.h"

bool kmm_initialized;
