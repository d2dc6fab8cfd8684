// Restoring a backup into a new data directory (actors/storage/snapshot_restore, D25): what the
// directory holds afterwards, that a node starts from it (recovery plan, configuration, term), and
// that every refusal (non-empty directory, damaged or foreign file) writes nothing.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "actors/raft/recovery.hpp"
#include "actors/state_machine/client_sessions.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "actors/state_machine/state_restore.hpp"
#include "actors/storage/log_store.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "actors/storage/snapshot_load.hpp"
#include "actors/storage/snapshot_restore.hpp"
#include "tests/temp_dir.hpp"

using namespace prez;
using namespace prez::storage;
namespace fs = std::filesystem;

namespace {

struct temp_dir : prez::testing::temp_dir {
  temp_dir() : prez::testing::temp_dir("prez-restore") {}
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

membership three_voters() {
  membership config;
  for (const char* name : {"n1", "n2", "n3"})
    config.members.push_back(
        member_info{name, std::string("127.0.0.1:70") + name[1] + "0", true, false});
  return config;
}

/// A snapshot of `keys` keys at index 42, term 7, of a three-voter cluster, copied to
/// `<dir>/backup.snap` (a backup's name is the operator's choice). Returns the backup's path.
std::string make_backup(const std::string& dir, int keys) {
  kv_state kv;
  client_sessions sessions;
  for (int i = 0; i < keys; ++i)
    kv.apply({"SET", "key:" + std::to_string(i), "value " + std::to_string(i)}, 1000);
  kv.begin_snapshot(sessions);
  std::string body;
  REQUIRE(kv.snapshot_next(body, static_cast<std::size_t>(-1)));
  snapshot_meta meta;
  meta.last_index = 42;
  meta.last_term = 7;
  meta.voters = {"n1", "n2", "n3"};
  meta.config = three_voters();
  const std::string source_dir = dir + "/source";
  auto created = snapshot_writer::create(source_dir, meta);
  REQUIRE(std::holds_alternative<std::unique_ptr<snapshot_writer>>(created));
  auto writer = std::get<std::unique_ptr<snapshot_writer>>(std::move(created));
  REQUIRE_FALSE(writer->append(body));
  auto finished = writer->finish();
  REQUIRE(std::holds_alternative<snapshot_info>(finished));
  const std::string backup = dir + "/backup.snap";
  fs::copy_file(std::get<snapshot_info>(finished).path, backup);
  return backup;
}

restore_target target_in(const std::string& dir) {
  return restore_target{dir + "/data", "n9", "127.0.0.1:7990"};
}

} // namespace

TEST_CASE("a restored data dir starts as a one-voter cluster at the backup's index and term",
          "[snapshot_restore]") {
  temp_dir dir;
  const auto backup = make_backup(dir.path, 100);
  const auto target = target_in(dir.path);
  auto restored = restore_snapshot(backup, target);
  if (auto* error = std::get_if<std::string>(&restored)) FAIL(*error);
  const auto& result = std::get<restore_result>(restored);
  CHECK(result.keys == 100);
  CHECK(result.meta.last_index == 42);
  CHECK(result.meta.last_term == 7);
  CHECK(result.meta.voters == std::vector<std::string>{"n9"});
  CHECK_FALSE(fs::exists(target.dir + ".restoring"));

  // What prez-server does at start: the newest valid snapshot, its state and configuration...
  std::vector<std::string> refused;
  auto newest = newest_valid_snapshot(target.dir, refused);
  REQUIRE(newest);
  CHECK(refused.empty());
  CHECK(newest->path == result.path);
  CHECK(newest->meta.config == single_voter_membership(target));
  snapshot_info info;
  auto loaded = load_snapshot_state(newest->path, &info);
  REQUIRE(std::holds_alternative<std::shared_ptr<restored_state>>(loaded));
  auto state = std::get<std::shared_ptr<restored_state>>(loaded);
  CHECK(state->kv.size() == 100);
  CHECK(state->kv.read({"GET", "key:7"}, 2000) == "$7\r\nvalue 7\r\n");
  CHECK(state->config == single_voter_membership(target));
  // ...then the log and hard state: a log continuing the snapshot, a term not below its term.
  recovered_state recovered;
  auto opened = log_store::open(target.dir, recovered);
  REQUIRE(std::holds_alternative<std::unique_ptr<log_store>>(opened));
  CHECK(recovered.hard.term == 7);
  CHECK(recovered.hard.voted_for.empty());
  CHECK(recovered.first_index == 43);
  CHECK(recovered.entries.empty());
  auto plan = raft::plan_recovery({42, 7, newest->file_bytes}, recovered.first_index, {});
  REQUIRE(std::holds_alternative<raft::recovery_plan>(plan));
  CHECK_FALSE(std::get<raft::recovery_plan>(plan).reset_log);
}

TEST_CASE("the restored snapshot holds the backup's state bytes unchanged", "[snapshot_restore]") {
  temp_dir dir;
  const auto backup = make_backup(dir.path, 10);
  auto restored = restore_snapshot(backup, target_in(dir.path));
  REQUIRE(std::holds_alternative<restore_result>(restored));
  auto body_of = [](const std::string& path, bool any_name) {
    std::string body;
    auto error = read_snapshot_body(
        path,
        [&](std::string_view piece) -> std::optional<std::string> {
          body.append(piece);
          return std::nullopt;
        },
        1 << 20, nullptr, any_name);
    REQUIRE_FALSE(error);
    return body;
  };
  CHECK(body_of(std::get<restore_result>(restored).path, false) == body_of(backup, true));
}

TEST_CASE("an empty existing data dir is restored into; a non-empty one is refused untouched",
          "[snapshot_restore]") {
  temp_dir dir;
  const auto backup = make_backup(dir.path, 3);
  const auto target = target_in(dir.path);
  fs::create_directories(target.dir);
  CHECK_FALSE(check_restore_dir(target.dir));
  REQUIRE(std::holds_alternative<restore_result>(restore_snapshot(backup, target)));

  // Restoring again into the same, now used, directory is refused.
  const auto before = read_bytes(target.dir + "/hard-state");
  auto again = restore_snapshot(backup, target);
  REQUIRE(std::holds_alternative<std::string>(again));
  CHECK_THAT(std::get<std::string>(again), Catch::Contains("is not empty"));
  CHECK(read_bytes(target.dir + "/hard-state") == before);

  // Any file counts, and a plain file is not a directory.
  temp_dir other;
  write_bytes(other.path + "/notes.txt", "mine");
  auto refused = restore_snapshot(backup, {other.path, "n9", "127.0.0.1:7990"});
  REQUIRE(std::holds_alternative<std::string>(refused));
  CHECK_THAT(std::get<std::string>(refused), Catch::Contains("notes.txt"));
  CHECK(read_bytes(other.path + "/notes.txt") == "mine");
  auto not_dir = check_restore_dir(other.path + "/notes.txt");
  REQUIRE(not_dir);
  CHECK_THAT(*not_dir, Catch::Contains("not a directory"));
}

TEST_CASE("a damaged, truncated or foreign backup is refused and nothing is written",
          "[snapshot_restore]") {
  temp_dir dir;
  const auto backup = make_backup(dir.path, 50);
  const auto good = read_bytes(backup);
  const auto target = target_in(dir.path);
  struct damage {
    const char* what;
    std::string bytes;
  };
  std::vector<damage> cases;
  for (std::size_t at : {std::size_t{3}, std::size_t{20}, good.size() / 2, good.size() - 10}) {
    auto flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    cases.push_back({"a flipped byte", flipped});
  }
  cases.push_back({"a truncated file", good.substr(0, good.size() - 1)});
  cases.push_back({"an empty file", ""});
  cases.push_back({"not a snapshot", "*1\r\n$4\r\nPING\r\n"});
  for (const auto& c : cases) {
    INFO(c.what);
    write_bytes(backup, c.bytes);
    auto refused = restore_snapshot(backup, target);
    REQUIRE(std::holds_alternative<std::string>(refused));
    CHECK_THAT(std::get<std::string>(refused), Catch::StartsWith("backup refused: " + backup));
    CHECK_FALSE(fs::exists(target.dir));
    CHECK_FALSE(fs::exists(target.dir + ".restoring"));
  }
  auto missing = restore_snapshot(dir.path + "/no-such-file", target);
  REQUIRE(std::holds_alternative<std::string>(missing));
  CHECK_THAT(std::get<std::string>(missing), Catch::Contains("cannot open"));
  CHECK_FALSE(fs::exists(target.dir));
}

TEST_CASE("the restore target comes from the node's configuration", "[snapshot_restore]") {
  auto single = restore_target_of(default_single_node_config());
  CHECK(single.name == default_single_node_config().name);
  CHECK(single.dir == default_single_node_config().dir);
  CHECK(single.address.empty());

  node_config config;
  config.name = "b";
  config.dir = "/var/lib/prez";
  config.members = {{"a", "10.0.0.1", 7001, 0, false}, {"b", "::1", 7002, 0, false}};
  auto target = restore_target_of(config);
  CHECK(target.address == "[::1]:7002");
  CHECK(target.dir == "/var/lib/prez");
  auto members = single_voter_membership(target);
  REQUIRE(members.members.size() == 1);
  CHECK(members.members[0] == member_info{"b", "[::1]:7002", true, false});
  CHECK(members.removed.empty());
  CHECK(check_membership(members).empty());
}
