// prez-sim: runs the deterministic cluster simulator (docs/architecture.md §9) for one or more
// seeds.
//   prez-sim --seed N [--seeds COUNT] [--nodes 3|5] [--steps S] [--voters K] [--membership]
//   [--min-voters M] [-v]
// Prints "seed=N ok" or the broken invariant with its seed; `prez-sim --seed N` (with the same
// --nodes and --steps) replays a run bit for bit. Exits non-zero on any failure.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/sim/sim_cluster.hpp"

namespace {

// The seed being run, printed if a PREZ_ASSERT aborts the process mid-run.
volatile std::sig_atomic_t current_seed = 0;

extern "C" void on_abort(int) {
  char line[64];
  const int n =
      std::snprintf(line, sizeof line, "seed=%lld aborted\n", static_cast<long long>(current_seed));
  if (n > 0) std::fwrite(line, 1, static_cast<std::size_t>(n), stderr);
}

int usage() {
  std::cerr << "usage: prez-sim --seed N [--seeds COUNT] [--nodes 3|5] [--steps S] [--voters K] "
               "[--membership] [--min-voters M] [-v]\n"
               "  --voters K      only the first K nodes are bootstrap voters; the others join\n"
               "  --membership    add and remove nodes and transfer leadership during the faults\n"
               "  --min-voters M  remove no voter when M or fewer are left (default 2)\n";
  return 2;
}

bool parse_number(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end != text && *end == '\0';
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  std::uint64_t count = 1;
  std::uint64_t nodes = 3;
  std::uint64_t steps = prez::sim::sim_options{}.steps;
  std::uint64_t voters = 0;
  bool membership = false;
  std::uint64_t min_voters = prez::sim::sim_options{}.min_voters;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "-v") {
      verbose = true;
    } else if (arg == "--seed" && has_value) {
      if (!parse_number(argv[++i], seed)) return usage();
    } else if (arg == "--seeds" && has_value) {
      if (!parse_number(argv[++i], count) || count == 0) return usage();
    } else if (arg == "--nodes" && has_value) {
      if (!parse_number(argv[++i], nodes) || (nodes != 3 && nodes != 5)) return usage();
    } else if (arg == "--steps" && has_value) {
      if (!parse_number(argv[++i], steps)) return usage();
    } else if (arg == "--voters" && has_value) {
      if (!parse_number(argv[++i], voters)) return usage();
    } else if (arg == "--min-voters" && has_value) {
      if (!parse_number(argv[++i], min_voters) || min_voters == 0) return usage();
    } else if (arg == "--membership") {
      membership = true;
    } else {
      return usage();
    }
  }
  if (voters > nodes) return usage();
  std::signal(SIGABRT, on_abort);
  int failures = 0;
  for (auto s = seed; s < seed + count; ++s) {
    current_seed = static_cast<std::sig_atomic_t>(s);
    prez::sim::sim_options options;
    options.seed = s;
    options.nodes = nodes;
    options.steps = steps;
    options.voters = voters;
    options.membership_changes = membership;
    options.min_voters = min_voters;
    options.trace = verbose ? &std::cout : nullptr;
    const auto result = prez::sim::run_simulation(options);
    std::cout << prez::sim::describe(s, result) << std::endl;
    if (!result.ok) ++failures;
  }
  if (count > 1)
    std::cout << (count - static_cast<std::uint64_t>(failures)) << "/" << count << " seeds ok"
              << std::endl;
  return failures == 0 ? 0 : 1;
}
