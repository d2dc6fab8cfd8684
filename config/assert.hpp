#pragma once
// PREZ_ASSERT, the one check for our own bugs (docs/architecture.md §7, kind 1): a broken
// invariant prints "file:line: assertion failed: condition" to stderr and aborts. It is on in
// every build type, so keep each check cheap. Never use it for bad input from a client or a peer,
// which is rejected and counted instead. Pure: usable from any file, with or without CAF.

namespace prez {

/// Prints "file:line: assertion failed: expression" to stderr and aborts. Never compiled out.
[[noreturn]] void assert_fail(const char* expression, const char* file, int line);

} // namespace prez

/// Checks one invariant of our own code: on in every build type.
#define PREZ_ASSERT(condition)                                                                     \
  ((condition) ? static_cast<void>(0) : ::prez::assert_fail(#condition, __FILE__, __LINE__))
