#pragma once
// HEARTH_CHECK is for bugs (broken invariants inside Hearth), never for bad outside input:
// that raises hearth::Error instead.

#include <cstdio>
#include <cstdlib>

#define HEARTH_CHECK(cond)                                                               \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: HEARTH_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
