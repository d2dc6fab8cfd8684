// The state machine's audit log hook and the audit log actor under the test_coordinator: only
// commands applied with verdict "apply" are listed (not no-ops, clock entries, duplicates or
// commands that overtook their connection's earlier one), a snapshot installed from the leader
// is a comment, and a restarted state machine that applies the same entries again adds nothing.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "actors/caf_messages.hpp"
#include "actors/state_machine/state_machine_actor.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/audit_log.hpp"
#include "actors/storage/audit_log_actor.hpp"
#include "messages/wire_codec.hpp"
#include "tests/actors/coordinator_fixture.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;

namespace {

struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-audit-actor") {}
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

client_command command(std::uint64_t client_id, std::uint64_t seq, std::vector<std::string> argv) {
  client_command c;
  c.client_id = client_id;
  c.seq = seq;
  c.time_ms = 5000 + seq;
  c.argv = std::move(argv);
  c.through_log = true;
  return c;
}

log_entry entry(std::uint64_t index, const client_command& c) {
  log_entry e;
  e.index = index;
  e.term = 2;
  e.type = static_cast<std::uint8_t>(entry_type::command);
  e.data = encode_command(c);
  return e;
}

struct audit_fixture : testing::coordinator_fixture {
  temp_dir dir;
  std::string path = dir.path + "/audit.log";

  caf::actor spawn_machine() {
    state_machine_settings settings;
    settings.snapshots = spawn_sink();
    settings.audit = spawn_audit_log_actor(*system, {path, 0, 5}, false);
    return spawn_state_machine(*system, spawn_sink(), std::move(settings));
  }

  /// Entries 1..7: a no-op, a clock entry, a SET, the same SET again (a duplicate), a
  /// transaction, a command that overtook an unapplied one, an INCR.
  std::vector<log_entry> entries() const {
    std::vector<log_entry> out;
    log_entry noop;
    noop.index = 1;
    noop.term = 2;
    out.push_back(noop);
    out.push_back(entry(2, make_clock_entry(4000)));
    out.push_back(entry(3, command(1, 1, {"SET", "k", "v\n1"})));
    out.push_back(entry(4, command(1, 1, {"SET", "k", "v\n1"})));
    client_command txn = command(1, 2, {"EXEC"});
    txn.transaction = {{"SET", "a", "1"}, {"INCR", "a"}};
    out.push_back(entry(5, txn));
    client_command overtaking = command(2, 5, {"SET", "x", "y"});
    overtaking.after_seq = 4;
    out.push_back(entry(6, overtaking));
    out.push_back(entry(7, command(1, 3, {"INCR", "n"})));
    return out;
  }

  std::string expected() const {
    client_command txn = command(1, 2, {"EXEC"});
    txn.transaction = {{"SET", "a", "1"}, {"INCR", "a"}};
    return audit::entry_lines(3, 2, command(1, 1, {"SET", "k", "v\n1"})).text +
           audit::entry_lines(5, 2, txn).text +
           audit::entry_lines(7, 2, command(1, 3, {"INCR", "n"})).text;
  }
};

} // namespace

TEST_CASE_METHOD(audit_fixture, "only commands applied with verdict apply are listed") {
  auto machine = spawn_machine();
  caf::anon_send(machine, apply_atom::value, entries());
  run();
  CHECK(read(path) == expected());
  CHECK(read(path) == "3 2 5001 \"SET\" \"k\" \"v\\n1\"\n"
                      "5 2 5002 \"MULTI\"\n"
                      "5 2 5002 \"SET\" \"a\" \"1\"\n"
                      "5 2 5002 \"INCR\" \"a\"\n"
                      "5 2 5002 \"EXEC\"\n"
                      "7 2 5003 \"INCR\" \"n\"\n");
}

TEST_CASE_METHOD(audit_fixture,
                 "a state machine that applies the same entries again adds nothing") {
  caf::anon_send(spawn_machine(), apply_atom::value, entries());
  run();
  // A restart from scratch: a new state machine and audit log actor apply 1..7 again, then 8.
  auto machine = spawn_machine();
  auto again = entries();
  again.push_back(entry(8, command(1, 4, {"DEL", "k"})));
  caf::anon_send(machine, apply_atom::value, again);
  run();
  CHECK(read(path) == expected() + audit::entry_lines(8, 2, command(1, 4, {"DEL", "k"})).text);
}

TEST_CASE_METHOD(audit_fixture, "a snapshot installed from the leader is a comment") {
  auto machine = spawn_machine();
  caf::anon_send(machine, apply_atom::value, entries());
  run();
  caf::anon_send(machine, restore_atom::value, raft::snapshot_ref{100, 3, 10},
                 std::make_shared<restored_state>());
  caf::anon_send(machine, apply_atom::value,
                 std::vector<log_entry>{entry(101, command(9, 1, {"SET", "after", "jump"}))});
  run();
  CHECK(read(path) ==
        expected() +
            "# snapshot installed at index 100 term 3: entries up to 100 are not listed\n" +
            audit::entry_lines(101, 2, command(9, 1, {"SET", "after", "jump"})).text);
}
