#include "config/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace prez {

void assert_fail(const char* expression, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expression);
  std::fflush(stderr);
  std::abort();
}

} // namespace prez
