// Writes the fuzz seed corpora with prez's own encoders and log_store:
//   prez_fuzz_corpus_gen <dir>   (normally tests/fuzz/corpus; built with -DPREZ_FUZZ=ON)
// Each target gets <dir>/<target>/<seed name>. The RESP seeds are the byte streams redis-cli and
// redis-benchmark send (multibulk requests, inline commands, pipelines), plus a few malformed
// ones; the peer seeds are valid frames of every kind and encoded log commands; the config seeds
// are sample prez.conf / nodes.conf pairs; the WAL seeds are data directories log_store wrote,
// packed in the layout wal_recovery_fuzz.cpp reads; the snapshot seeds are files snapshot_writer
// wrote, whole and damaged.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/gateway/resp_writer.hpp"
#include "actors/storage/log_store.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "messages/wire_codec.hpp"

namespace {

namespace fs = std::filesystem;

void write_seed(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

std::string command(const std::vector<std::string>& argv) {
  std::string out;
  prez::append_command(out, argv);
  return out;
}

// --- RESP ---------------------------------------------------------------------------------------

void resp_seeds(const fs::path& dir) {
  // redis-cli: one multibulk request per command, starting with COMMAND DOCS.
  write_seed(dir, "cli-command-docs", command({"COMMAND", "DOCS"}));
  write_seed(dir, "cli-ping", command({"PING"}));
  write_seed(dir, "cli-set-get",
             command({"SET", "greeting", "hello world"}) + command({"GET", "greeting"}));
  write_seed(dir, "cli-set-ex-nx", command({"SET", "lock", "owner-1", "EX", "30", "NX"}));
  write_seed(dir, "cli-incr", command({"INCR", "counter"}) + command({"INCRBY", "counter", "-5"}));
  write_seed(dir, "cli-multi-exec",
             command({"WATCH", "balance"}) + command({"MULTI"}) +
                 command({"DECRBY", "balance", "10"}) + command({"RPUSH", "log", "paid 10"}) +
                 command({"EXEC"}));
  write_seed(dir, "cli-hash",
             command({"HSET", "user:1", "name", "ada", "lang", "c++"}) +
                 command({"HGETALL", "user:1"}));
  write_seed(dir, "cli-binary-value",
             command({"SET", std::string("k\0ey", 4), std::string("\r\n\0\xff\x80 bulk", 10)}));
  write_seed(dir, "cli-empty-arg", command({"SET", "", ""}));
  write_seed(dir, "cli-hello-auth", command({"HELLO", "2"}) + command({"AUTH", "s3cret"}));
  // redis-benchmark: CONFIG GET at start, inline and multibulk PING, pipelined SETs (-P 16).
  write_seed(dir, "bench-config",
             command({"CONFIG", "GET", "save"}) + command({"CONFIG", "GET", "appendonly"}));
  write_seed(dir, "bench-ping-inline", "PING\r\n");
  write_seed(dir, "bench-ping-mbulk", command({"PING"}));
  std::string pipeline;
  for (int i = 0; i < 16; ++i)
    pipeline += command({"SET", "key:__rand_int__", "xxx"});
  write_seed(dir, "bench-set-pipeline", pipeline);
  std::string lpush;
  for (int i = 0; i < 4; ++i)
    lpush += command({"LPUSH", "mylist", "xxx"}) + command({"LRANGE", "mylist", "0", "99"});
  write_seed(dir, "bench-lists", lpush);
  // Inline commands as typed into telnet / nc, with Redis's quoting rules.
  write_seed(dir, "inline-quotes",
             "SET \"a key\" 'it\\'s'\r\nSET k \"\\x41\\n\\t\\\"q\\\"\"\nGET \"a key\"\r\n");
  write_seed(dir, "inline-blank-lines", "\r\n\n   \r\nPING\n");
  write_seed(dir, "mixed", "PING\r\n" + command({"GET", "x"}) + "ECHO hi\r\n*0\r\n*-1\r\n");
  // Half-sent and malformed requests.
  write_seed(dir, "partial-bulk", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc");
  write_seed(dir, "huge-declared-count", "*1048576\r\n$3\r\nGET\r\n");
  write_seed(dir, "huge-declared-bulk", "*2\r\n$3\r\nGET\r\n$16777216\r\nxy");
  write_seed(dir, "bad-bulk-length", "*1\r\n$-1\r\n");
  write_seed(dir, "bad-dollar", "*1\r\n:3\r\nfoo\r\n");
  write_seed(dir, "unbalanced-quotes", "SET \"open\r\n");
  write_seed(dir, "bulk-no-crlf", "*1\r\n$3\r\nfooXY");
}

// --- peer frames --------------------------------------------------------------------------------

std::string frame(const prez::frame_body& body) {
  const std::vector<char> bytes =
      prez::encode_frame("n1", 0x1234567890abcdefull, "127.0.0.1:9001", body);
  return std::string(bytes.begin(), bytes.end());
}

prez::client_command sample_command() {
  prez::client_command c;
  c.client_id = 42;
  c.seq = 7;
  c.time_ms = 1700000000000ull;
  c.argv = {"SET", "k", "v"};
  return c;
}

void peer_seeds(const fs::path& dir) {
  using namespace prez;
  write_seed(dir, "vote-request", frame(raft_message{"n1", "n2", vote_request{5, 10, 4, false}}));
  write_seed(dir, "pre-vote-request",
             frame(raft_message{"n1", "n3", vote_request{6, 10, 4, true}}));
  write_seed(dir, "vote-response", frame(raft_message{"n2", "n1", vote_response{5, true, false}}));
  append_entries_request heartbeat{7, 12, 7, {}, 11, 99};
  write_seed(dir, "heartbeat", frame(raft_message{"n1", "n2", heartbeat}));
  append_entries_request append{7, 12, 7, {}, 11, 100};
  append.entries.push_back(log_entry{7, 13, static_cast<std::uint8_t>(entry_type::noop), ""});
  append.entries.push_back(log_entry{7, 14, static_cast<std::uint8_t>(entry_type::command),
                                     encode_command(sample_command())});
  write_seed(dir, "append-entries", frame(raft_message{"n1", "n2", append}));
  write_seed(dir, "append-response",
             frame(raft_message{"n2", "n1", append_entries_response{7, false, 0, 9, 6, 100}}));
  write_seed(dir, "install-snapshot",
             frame(raft_message{"n1", "n2",
                                install_snapshot_request{7, 40, 6, 0, "PREZSNP1 chunk", false}}));
  write_seed(dir, "install-snapshot-response",
             frame(raft_message{"n2", "n1", install_snapshot_response{7, 40, 14, false}}));
  write_seed(dir, "timeout-now", frame(raft_message{"n2", "n1", timeout_now{7}}));
  forward_request forward{3, sample_command()};
  write_seed(dir, "forward-request", frame(forward));
  client_command transaction = sample_command();
  transaction.argv = {"EXEC"};
  transaction.transaction = {{"INCR", "a"}, {"SET", "b", "1"}};
  transaction.watched = {{"a", 17}};
  write_seed(dir, "forward-transaction", frame(forward_request{4, transaction}));
  write_seed(dir, "forward-response",
             frame(forward_response{3, static_cast<std::uint8_t>(forward_status::ok), "+OK\r\n"}));
  write_seed(dir, "forward-not-leader",
             frame(forward_response{5, static_cast<std::uint8_t>(forward_status::not_leader), ""}));
  write_seed(dir, "forward-request-batch",
             frame(forward_request_batch{{forward, forward_request{4, transaction}}}));
  write_seed(dir, "forward-response-batch",
             frame(forward_response_batch{
                 {forward_response{3, static_cast<std::uint8_t>(forward_status::ok), "+OK\r\n"},
                  forward_response{4, static_cast<std::uint8_t>(forward_status::refused), ""}}}));
  write_seed(dir, "link-ack-request", frame(link_ack_request{65536}));
  write_seed(dir, "link-ack-response", frame(link_ack_response{65536}));
  // Log entry data (decode_command).
  write_seed(dir, "command", encode_command(sample_command()));
  write_seed(dir, "command-transaction", encode_command(transaction));
}

// --- config -------------------------------------------------------------------------------------

void config_seeds(const fs::path& dir) {
  // prez.conf, a NUL, then nodes.conf (see config_fuzz.cpp).
  const std::string nodes = "# voters\nn1 127.0.0.1:7001\nn2 127.0.0.1:7002\nn3 [::1]:7003\n";
  write_seed(dir, "cluster-node",
             "# prez.conf\nname n1\nport 9001\ncluster-port 7001\n"
             "cluster-config-file nodes.conf\ncluster-node-timeout 1000\nloglevel notice\n"
             "dir ./data-n1\nfollower-mode proxy\nbind 127.0.0.1\n" +
                 std::string(1, '\0') + nodes);
  write_seed(dir, "single-node", "port 9000\ndir \"/var/lib/prez data\"\nLOGLEVEL Verbose\n");
  write_seed(dir, "redirect-mode", "name edge-1\r\nfollower-mode REDIRECT\r\nbind ::1\r\n");
  write_seed(dir, "nodes-only", std::string(1, '\0') + nodes + "\n   \n# end\n");
  write_seed(dir, "bad-lines",
             "name n1\nport 70000\n" + std::string(1, '\0') + "n1 localhost\nn1 host:0\n");
  write_seed(dir, "quotes", "name \"n\\\"1\"\ndir \"unclosed\n");
}

// --- WAL ----------------------------------------------------------------------------------------

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put_u16(std::string& out, std::size_t value) {
  out.push_back(static_cast<char>(value & 0xffu));
  out.push_back(static_cast<char>((value >> 8) & 0xffu));
}

/// Writes `entries` (and a hard state) with log_store into a scratch directory.
fs::path write_log(const fs::path& scratch, const std::string& name,
                   const std::vector<prez::log_entry>& entries, std::size_t segment_bytes_max) {
  const fs::path dir = scratch / name;
  prez::storage::recovered_state state;
  auto opened = prez::storage::log_store::open(dir.string(), state, segment_bytes_max);
  if (auto* error = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "log_store::open: %s\n", error->c_str());
    std::exit(1);
  }
  auto& store = std::get<std::unique_ptr<prez::storage::log_store>>(opened);
  if (store->append(entries) || store->save_hard_state({entries.back().term, "n2"}) ||
      store->sync()) {
    std::fprintf(stderr, "log_store write failed\n");
    std::exit(1);
  }
  return dir;
}

std::vector<prez::log_entry> sample_entries(std::size_t count) {
  std::vector<prez::log_entry> entries;
  for (std::size_t i = 1; i <= count; ++i) {
    prez::log_entry entry;
    entry.index = i;
    entry.term = 1 + i / 3;
    entry.type =
        static_cast<std::uint8_t>(i % 4 == 1 ? prez::entry_type::noop : prez::entry_type::command);
    if (entry.kind() == prez::entry_type::command) {
      prez::client_command c = sample_command();
      c.seq = i;
      c.argv = {"SET", "key:" + std::to_string(i), std::string(i, 'v')};
      entry.data = prez::encode_command(c);
    }
    entries.push_back(entry);
  }
  return entries;
}

std::string segment_name(std::uint64_t first_index) {
  char name[64];
  std::snprintf(name, sizeof name, "log-%020llu.seg", static_cast<unsigned long long>(first_index));
  return name;
}

/// `segment` without its sync marks (records of length 9 whose payload starts 0xcf): a segment as
/// written before marks existed, which recovery still judges by the older rule.
std::string without_marks(const std::string& segment) {
  std::string stripped;
  std::size_t offset = 0;
  while (offset + 8 <= segment.size()) {
    std::uint32_t length = 0;
    for (std::size_t i = 4; i-- > 0;)
      length = (length << 8) | static_cast<unsigned char>(segment[offset + i]);
    const std::size_t end = std::min(segment.size(), offset + 8 + std::size_t{length});
    const bool mark =
        length == 9 && end > offset + 8 && static_cast<unsigned char>(segment[offset + 8]) == 0xcf;
    if (!mark) stripped.append(segment, offset, end - offset);
    offset = end;
  }
  return stripped + segment.substr(offset);
}

void wal_seeds(const fs::path& dir) {
  const fs::path scratch =
      fs::temp_directory_path() / ("prez-corpus-gen-" + std::to_string(::getpid()));
  fs::remove_all(scratch);

  // One segment with a hard state: flags 1.
  const fs::path one = write_log(scratch, "one", sample_entries(6), 1 << 20);
  const std::string hard = read_file(one / "hard-state");
  const std::string segment = read_file(one / segment_name(1));
  std::string seed(1, '\x01');
  put_u16(seed, hard.size());
  write_seed(dir, "one-segment", seed + hard + segment);
  // The same without a hard state, and with a torn last record.
  write_seed(dir, "no-hard-state", std::string(1, '\0') + segment);
  write_seed(dir, "torn-tail", seed + hard + segment.substr(0, segment.size() - 5));
  std::string flipped = segment;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  write_seed(dir, "flipped-middle", std::string(1, '\0') + flipped);
  write_seed(dir, "empty", std::string(1, '\0'));
  write_seed(dir, "no-sync-marks", std::string(1, '\0') + without_marks(segment));

  // A group commit torn by a power loss: entries appended after the last sync, one in the middle
  // of them damaged, later ones intact (recovery cuts at the damage).
  {
    const fs::path torn = write_log(scratch, "torn-commit", sample_entries(4), 1 << 20);
    const std::size_t synced_bytes = read_file(torn / segment_name(1)).size();
    prez::storage::recovered_state state;
    auto opened = prez::storage::log_store::open(torn.string(), state);
    auto* store = std::get_if<std::unique_ptr<prez::storage::log_store>>(&opened);
    std::vector<prez::log_entry> more = sample_entries(8);
    more.erase(more.begin(), more.begin() + 4);
    if (store == nullptr || (*store)->append(more)) {
      std::fprintf(stderr, "log_store write failed\n");
      std::exit(1);
    }
    store->reset(); // no sync: the commit is in flight
    std::string unsynced = read_file(torn / segment_name(1));
    const std::size_t middle = (synced_bytes + unsynced.size()) / 2;
    unsynced[middle] = static_cast<char>(unsynced[middle] ^ 0x10);
    write_seed(dir, "torn-group-commit", std::string(1, '\0') + unsynced);
  }

  // Two segments: flags 3 (small segment_bytes_max makes log_store roll over).
  const fs::path two = write_log(scratch, "two", sample_entries(5), 120);
  std::vector<std::pair<std::uint64_t, std::string>> segments;
  for (const auto& entry : fs::directory_iterator(two)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("log-", 0) == 0)
      segments.emplace_back(std::stoull(name.substr(4, 20)), read_file(entry.path()));
  }
  std::sort(segments.begin(), segments.end());
  if (segments.size() >= 2) { // the layout holds two segments: the first two are a valid log
    std::string two_seed(1, '\x03');
    const std::string two_hard = read_file(two / "hard-state");
    put_u16(two_seed, two_hard.size());
    two_seed += two_hard;
    put_u16(two_seed, segments[0].second.size());
    two_seed.push_back(static_cast<char>(segments[1].first & 0xffu));
    write_seed(dir, "two-segments", two_seed + segments[0].second + segments[1].second);
  }
  fs::remove_all(scratch);
}

/// A snapshot of index 9 (snapshot_file_fuzz.cpp reads it under that name) written by
/// snapshot_writer.
std::string write_snapshot(const fs::path& scratch, const std::string& body) {
  prez::storage::snapshot_meta meta;
  meta.last_index = 9;
  meta.last_term = 3;
  meta.voters = {"n1", "n2", "n3"};
  meta.created_ms = 1700000000000;
  auto created = prez::storage::snapshot_writer::create(scratch.string(), meta);
  auto* writer = std::get_if<std::unique_ptr<prez::storage::snapshot_writer>>(&created);
  if (writer == nullptr || (*writer)->append(body)) {
    std::fprintf(stderr, "snapshot_writer failed\n");
    std::exit(1);
  }
  auto finished = (*writer)->finish();
  if (auto* error = std::get_if<std::string>(&finished)) {
    std::fprintf(stderr, "snapshot_writer::finish: %s\n", error->c_str());
    std::exit(1);
  }
  return read_file(std::get<prez::storage::snapshot_info>(finished).path);
}

void snapshot_seeds(const fs::path& dir) {
  const fs::path scratch =
      fs::temp_directory_path() / ("prez-corpus-gen-snapshot-" + std::to_string(::getpid()));
  fs::remove_all(scratch);
  std::string body;
  for (int i = 0; i < 300; ++i)
    body.push_back(static_cast<char>(i * 37));
  const std::string valid = write_snapshot(scratch, body);
  write_seed(dir, "valid", valid);
  write_seed(dir, "empty-body", write_snapshot(scratch, ""));
  write_seed(dir, "torn", valid.substr(0, valid.size() - 5));
  std::string flipped = valid;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  write_seed(dir, "flipped-middle", flipped);
  fs::remove_all(scratch);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  resp_seeds(root / "resp_parser_fuzz");
  peer_seeds(root / "peer_frame_fuzz");
  config_seeds(root / "config_fuzz");
  wal_seeds(root / "wal_recovery_fuzz");
  snapshot_seeds(root / "snapshot_file_fuzz");
  return 0;
}
