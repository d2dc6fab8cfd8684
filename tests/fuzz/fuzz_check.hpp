#pragma once
// FUZZ_CHECK: a property every fuzz target asserts; a violation traps, so libFuzzer saves the
// input as a crash reproducer.

#include <cstdio>

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition);      \
      __builtin_trap();                                                                            \
    }                                                                                              \
  } while (false)
