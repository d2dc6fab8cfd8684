// The command table: every command prez knows, its arity, kind and handler, plus the commands it
// refuses and why. classify() and run_local() live here.

#include <algorithm>
#include <array>

#include "actors/state_machine/kv_commands.hpp"

namespace prez::kv {

namespace {

/// Client text quoted in an error: cut at `bytes_max` and at the first NUL (Redis formats with
/// printf's %s), CR and LF replaced by spaces so the reply stays one line.
std::string sanitize(std::string_view text, std::size_t bytes_max) {
  text = text.substr(0, std::min(bytes_max, text.find('\0')));
  std::string out(text);
  std::replace(out.begin(), out.end(), '\r', ' ');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

/// Redis 7's reply to an unknown command, including its 128-byte budget for quoted arguments.
std::string unknown_command_reply(const argv_type& argv) {
  const std::string name = argv.empty() ? std::string() : sanitize(argv[0], 128);
  std::string args;
  for (std::size_t i = 1; i < argv.size() && args.size() < 128; ++i)
    args += "'" + sanitize(argv[i], 128 - args.size()) + "' ";
  return error_reply("ERR unknown command '" + name + "', with args beginning with: " + args);
}

// --- checks classify() runs beyond arity ---------------------------------------------------------

std::string check_ping(const argv_type& argv) {
  return argv.size() > 2 ? arity_error("ping") : std::string();
}
std::string check_pop(const argv_type& argv) {
  return argv.size() > 3 ? arity_error(command_name(argv)) : std::string();
}
std::string check_pairs(const argv_type& argv) { // MSET, MSETNX: key value pairs
  return argv.size() % 2 == 0 ? arity_error(command_name(argv)) : std::string();
}
std::string check_field_pairs(const argv_type& argv) { // HSET, HMSET: key then field value pairs
  return argv.size() % 2 == 1 ? arity_error(command_name(argv)) : std::string();
}

/// RAFT.NODE ADD <name> <host:port> [LEARNER] | REMOVE <name> | LIST.
std::string check_raft_node(const argv_type& argv) {
  const auto sub = lowercase(argv[1]);
  if (sub == "add") return argv.size() == 4 || argv.size() == 5 ? "" : arity_error("raft.node");
  if (sub == "remove") return argv.size() == 3 ? "" : arity_error("raft.node");
  if (sub == "list") return argv.size() == 2 ? "" : arity_error("raft.node");
  return error_reply("ERR unknown subcommand '" + sanitize(argv[1], 128) +
                     "'. Try RAFT.NODE ADD, REMOVE or LIST.");
}

/// RAFT.NODE ADD / REMOVE reach the key space only where they cannot be configuration changes
/// (queued inside MULTI): the leader's Raft role turns them into configuration entries, and the
/// state machine answers them from those (and RAFT.NODE LIST from its configuration).
std::string raft_node_command(keyspace&, const argv_type&, std::uint64_t) {
  return error_reply("ERR RAFT.NODE changes the cluster's configuration and cannot run inside "
                     "MULTI");
}

/// RAFT.TRANSFER reaches the key space only queued inside MULTI (the leader's Raft role runs it).
std::string raft_transfer_command(keyspace&, const argv_type&, std::uint64_t) {
  return error_reply("ERR RAFT.TRANSFER hands leadership over and cannot run inside MULTI");
}

// --- local commands -----------------------------------------------------------------------------

std::string ping_command(const argv_type& argv) {
  return argv.size() == 1 ? simple_string("PONG") : bulk(argv[1]);
}
std::string echo_command(const argv_type& argv) {
  return bulk(argv[1]);
}

constexpr command_spec w(std::string_view name, int arity, write_handler handler,
                         std::string (*check)(const argv_type&) = nullptr) {
  return {name, arity, command_kind::write, check, handler, nullptr, nullptr};
}
constexpr command_spec r(std::string_view name, int arity, read_handler handler,
                         std::string (*check)(const argv_type&) = nullptr) {
  return {name, arity, command_kind::read, check, nullptr, handler, nullptr};
}
/// A write whose kind depends on its arguments (kind_of()): `read` serves it when it only reads.
constexpr command_spec wr(std::string_view name, int arity, write_handler write,
                          read_handler read) {
  return {name, arity, command_kind::write, nullptr, write, read, nullptr};
}
constexpr command_spec l(std::string_view name, int arity,
                         std::string (*handler)(const argv_type&) = nullptr,
                         std::string (*check)(const argv_type&) = nullptr) {
  return {name, arity, command_kind::local, check, nullptr, nullptr, handler};
}

/// Sorted by name (asserted below), so lookup is a binary search.
constexpr std::array table = {
    w("append", 3, &append_command),
    l("auth", -2),
    r("bitcount", -2, &bitcount_command),
    w("bitfield", -2, &bitfield_command),
    r("bitfield_ro", -2, &bitfield_ro_command),
    w("bitop", -4, &bitop_command),
    r("bitpos", -3, &bitpos_command),
    w("blmove", 6, &blocking_command),
    w("blmpop", -5, &blocking_command),
    w("blpop", -3, &blocking_command),
    w("brpop", -3, &blocking_command),
    w("brpoplpush", 4, &blocking_command),
    w("bzmpop", -5, &blocking_command),
    w("bzpopmax", -3, &blocking_command),
    w("bzpopmin", -3, &blocking_command),
    l("client", -2),
    l("command", -1),
    l("config", -2),
    w("copy", -3, &copy_command),
    r("dbsize", 1, &dbsize_command),
    w("decr", 2, &decr_command),
    w("decrby", 3, &decrby_command),
    w("del", -2, &del_command),
    l("discard", 1),
    r("dump", 2, &dump_command),
    l("echo", 2, &echo_command),
    w("eval", -3, &eval_command),
    r("eval_ro", -3, &eval_ro_command),
    w("evalsha", -3, &evalsha_command),
    r("evalsha_ro", -3, &evalsha_ro_command),
    l("exec", 1),
    r("exists", -2, &exists_command),
    w("expire", -3, &expire_command),
    w("expireat", -3, &expireat_command),
    r("expiretime", 2, &expiretime_command),
    w("fcall", -3, &fcall_command),
    r("fcall_ro", -3, &fcall_ro_command),
    w("flushall", -1, &flush_command),
    w("flushdb", -1, &flush_command),
    command_spec{"function", -2, command_kind::write, &check_function, &function_write_command,
                 &function_read_command, nullptr},
    r("get", 2, &get_command),
    r("getbit", 3, &getbit_command),
    w("getdel", 2, &getdel_command),
    w("getex", -2, &getex_command),
    r("getrange", 4, &getrange_command),
    w("getset", 3, &getset_command),
    w("hdel", -3, &hdel_command),
    l("hello", -1),
    r("hexists", 3, &hexists_command),
    r("hget", 3, &hget_command),
    r("hgetall", 2, &hgetall_command),
    w("hincrby", 4, &hincrby_command),
    w("hincrbyfloat", 4, &hincrbyfloat_command),
    r("hkeys", 2, &hkeys_command),
    r("hlen", 2, &hlen_command),
    r("hmget", -3, &hmget_command),
    w("hmset", -4, &hmset_command, &check_field_pairs),
    r("hrandfield", -2, &hrandfield_command),
    r("hscan", -3, &hscan_command),
    w("hset", -4, &hset_command, &check_field_pairs),
    w("hsetnx", 4, &hsetnx_command),
    r("hstrlen", 3, &hstrlen_command),
    r("hvals", 2, &hvals_command),
    w("incr", 2, &incr_command),
    w("incrby", 3, &incrby_command),
    w("incrbyfloat", 3, &incrbyfloat_command),
    l("info", -1),
    r("keys", 2, &keys_command),
    r("lcs", -3, &lcs_command),
    r("lindex", 3, &lindex_command),
    w("linsert", 5, &linsert_command),
    r("llen", 2, &llen_command),
    w("lmove", 5, &lmove_command),
    w("lmpop", -4, &lmpop_command),
    w("lpop", -2, &lpop_command, &check_pop),
    r("lpos", -3, &lpos_command),
    w("lpush", -3, &lpush_command),
    w("lpushx", -3, &lpushx_command),
    r("lrange", 4, &lrange_command),
    w("lrem", 4, &lrem_command),
    w("lset", 4, &lset_command),
    w("ltrim", 4, &ltrim_command),
    r("memory", -2, &memory_command),
    r("mget", -2, &mget_command),
    w("mset", -3, &mset_command, &check_pairs),
    w("msetnx", -3, &msetnx_command, &check_pairs),
    l("multi", 1),
    r("object", -2, &object_command, &check_object),
    w("persist", 2, &persist_command),
    w("pexpire", -3, &pexpire_command),
    w("pexpireat", -3, &pexpireat_command),
    r("pexpiretime", 2, &pexpiretime_command),
    l("ping", -1, &ping_command, &check_ping),
    w("psetex", 4, &psetex_command),
    l("psubscribe", -2),
    r("pttl", 2, &pttl_command),
    w("publish", 3, &publish_command),
    l("pubsub", -2),
    l("punsubscribe", -1),
    l("quit", -1),
    w("raft.node", -2, &raft_node_command, &check_raft_node),
    l("raft.snapshot", -1),
    w("raft.transfer", 2, &raft_transfer_command),
    r("randomkey", 1, &randomkey_command),
    w("rename", 3, &rename_command),
    w("renamenx", 3, &renamenx_command),
    l("reset", 1),
    w("restore", -4, &restore_command),
    w("rpop", -2, &rpop_command, &check_pop),
    w("rpoplpush", 3, &rpoplpush_command),
    w("rpush", -3, &rpush_command),
    w("rpushx", -3, &rpushx_command),
    w("sadd", -3, &sadd_command),
    r("scan", -2, &scan_command),
    r("scard", 2, &scard_command),
    command_spec{"script", -2, command_kind::write, &check_script, &script_write_command,
                 &script_read_command, nullptr},
    r("sdiff", -2, &sdiff_command),
    w("sdiffstore", -3, &sdiffstore_command),
    l("select", 2),
    w("set", -3, &set_command, &check_set),
    w("setbit", 4, &setbit_command),
    w("setex", 4, &setex_command),
    w("setnx", 3, &setnx_command),
    w("setrange", 4, &setrange_command),
    r("sinter", -2, &sinter_command),
    r("sintercard", -3, &sintercard_command),
    w("sinterstore", -3, &sinterstore_command),
    r("sismember", 3, &sismember_command),
    r("smembers", 2, &smembers_command),
    r("smismember", -3, &smismember_command),
    w("smove", 4, &smove_command),
    wr("sort", -2, &sort_command, &sort_read_command),
    r("sort_ro", -2, &sort_ro_command),
    w("spop", -2, &spop_command),
    r("srandmember", -2, &srandmember_command),
    w("srem", -3, &srem_command),
    r("sscan", -3, &sscan_command),
    r("strlen", 2, &strlen_command),
    l("subscribe", -2),
    r("sunion", -2, &sunion_command),
    w("sunionstore", -3, &sunionstore_command),
    l("time", 1),
    r("touch", -2, &touch_command),
    r("ttl", 2, &ttl_command),
    r("type", 2, &type_command),
    w("unlink", -2, &del_command),
    l("unsubscribe", -1),
    l("unwatch", 1),
    l("watch", -2),
    w("xack", -4, &xack_command),
    w("xadd", -5, &xadd_command),
    w("xautoclaim", -6, &xautoclaim_command),
    w("xclaim", -6, &xclaim_command),
    w("xdel", -3, &xdel_command),
    w("xgroup", -2, &xgroup_command, &check_xgroup),
    r("xinfo", -2, &xinfo_command, &check_xinfo),
    r("xlen", 2, &xlen_command),
    r("xpending", -3, &xpending_command),
    r("xrange", -4, &xrange_command),
    wr("xread", -4, &xread_block_command, &xread_command),
    w("xreadgroup", -7, &xreadgroup_command),
    r("xrevrange", -4, &xrevrange_command),
    w("xsetid", -3, &xsetid_command),
    w("xtrim", -4, &xtrim_command),
    w("zadd", -4, &zadd_command),
    r("zcard", 2, &zcard_command),
    r("zcount", 4, &zcount_command),
    r("zdiff", -3, &zdiff_command),
    w("zdiffstore", -4, &zdiffstore_command),
    w("zincrby", 4, &zincrby_command),
    r("zinter", -3, &zinter_command),
    r("zintercard", -3, &zintercard_command),
    w("zinterstore", -4, &zinterstore_command),
    r("zlexcount", 4, &zlexcount_command),
    w("zmpop", -4, &zmpop_command),
    r("zmscore", -3, &zmscore_command),
    w("zpopmax", -2, &zpopmax_command),
    w("zpopmin", -2, &zpopmin_command),
    r("zrandmember", -2, &zrandmember_command),
    r("zrange", -4, &zrange_command),
    r("zrangebylex", -4, &zrangebylex_command),
    r("zrangebyscore", -4, &zrangebyscore_command),
    w("zrangestore", -5, &zrangestore_command),
    r("zrank", 3, &zrank_command),
    w("zrem", -3, &zrem_command),
    w("zremrangebylex", 4, &zremrangebylex_command),
    w("zremrangebyrank", 4, &zremrangebyrank_command),
    w("zremrangebyscore", 4, &zremrangebyscore_command),
    r("zrevrange", -4, &zrevrange_command),
    r("zrevrangebylex", -4, &zrevrangebylex_command),
    r("zrevrangebyscore", -4, &zrevrangebyscore_command),
    r("zrevrank", 3, &zrevrank_command),
    r("zscan", -3, &zscan_command),
    r("zscore", 3, &zscore_command),
    r("zunion", -3, &zunion_command),
    w("zunionstore", -4, &zunionstore_command),
};

static_assert(std::is_sorted(table.begin(), table.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));

/// A command prez knows and refuses, with the reason it gives.
struct refusal {
  std::string_view name; ///< lowercase
  std::string_view reason;
};

constexpr std::string_view by_raft = "replication is done by Raft";
constexpr std::string_view by_log = "the Raft log is the persistence";

/// Sorted by name (asserted below).
constexpr std::array refusals = {
    refusal{"bgrewriteaof", by_log},
    refusal{"bgsave", by_log},
    refusal{"debug", "it inspects one Redis process's internals"},
    refusal{"failover", "leadership is decided by Raft elections"},
    refusal{"lastsave", by_log},
    refusal{"monitor", "a node only sees the commands it receives, not the cluster's"},
    refusal{"psync", by_raft},
    refusal{"replconf", by_raft},
    refusal{"replicaof", by_raft},
    refusal{"save", by_log},
    refusal{"shutdown", "stop the prez-server process instead"},
    refusal{"slaveof", by_raft},
    refusal{"sync", by_raft},
    refusal{"wait", "every acknowledged write is already on a majority (Raft)"},
    refusal{"waitaof", by_log},
};

static_assert(std::is_sorted(refusals.begin(), refusals.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));

template <class Table>
const auto* find_by_name(const Table& rows, const std::string& lower) {
  const auto it =
      std::lower_bound(rows.begin(), rows.end(), lower,
                       [](const auto& row, const std::string& n) { return row.name < n; });
  return it != rows.end() && it->name == lower ? &*it : nullptr;
}

} // namespace

/// The command `argv` names, if known and its arity is valid; else nullptr and the error.
const command_spec* find_with_arity(const argv_type& argv, std::string& error) {
  error.clear();
  constexpr std::size_t name_bytes_max = 32; // longer than any command name
  const std::string lower =
      argv.empty() || argv[0].size() > name_bytes_max ? std::string() : lowercase(argv[0]);
  const command_spec* command = lower.empty() ? nullptr : find_by_name(table, lower);
  if (command == nullptr) {
    const refusal* refused = lower.empty() ? nullptr : find_by_name(refusals, lower);
    if (refused == nullptr)
      error = unknown_command_reply(argv);
    else
      error =
          error_reply("ERR prez does not support '" + lower + "': " + std::string(refused->reason));
    return nullptr;
  }
  const auto count = static_cast<long long>(argv.size());
  if ((command->arity > 0 && count != command->arity) ||
      (command->arity < 0 && count < -command->arity)) {
    error = arity_error(command->name);
    return nullptr;
  }
  return command;
}

command_kind kind_of(const command_spec& command, const argv_type& argv) {
  // RAFT.NODE LIST reads the configuration (linearizably, like any read); ADD and REMOVE write.
  if (command.name == "raft.node" && lowercase(argv[1]) == "list") return command_kind::read;
  if (command.name == "sort" && !sort_stores(argv)) return command_kind::read;
  if (command.name == "script" && !script_writes(argv)) return command_kind::read;
  if (command.name == "function" && !function_writes(argv)) return command_kind::read;
  // XREAD BLOCK may wait: a write, so the log decides when it is served (kv_blocking.cpp).
  if (command.name == "xread" && !xread_blocks(argv)) return command_kind::read;
  return command.kind;
}

const command_spec* validate(const argv_type& argv, std::string& error) {
  const command_spec* command = find_with_arity(argv, error);
  if (command != nullptr && command->check != nullptr) error = command->check(argv);
  return error.empty() ? command : nullptr;
}

} // namespace prez::kv

namespace prez {

bool queueable_in_transaction(const std::vector<std::string>& argv, std::string& error_reply) {
  // Unknown and refused commands and arity errors doom the transaction at once, as in Redis; a
  // known command with a valid arity is queued even if its other checks fail, and EXEC's reply
  // carries that error in its place (Redis checks those inside the command).
  const kv::command_spec* command = kv::find_with_arity(argv, error_reply);
  if (command == nullptr) {
    // Redis's no-multi commands (it flags these four) are refused inside MULTI with its own
    // text, after its arity check; prez refuses them anywhere, but answers here as Redis does.
    struct no_multi {
      std::string_view name;
      int arity;
    };
    constexpr std::array<no_multi, 4> no_multi_commands{
        {{"psync", -3}, {"save", 1}, {"shutdown", -1}, {"sync", 1}}};
    const std::string lower = argv.empty() ? std::string() : kv::lowercase(argv[0]);
    for (const auto& row : no_multi_commands) {
      if (row.name != lower) continue;
      const auto count = static_cast<long long>(argv.size());
      if ((row.arity > 0 && count != row.arity) || (row.arity < 0 && count < -row.arity))
        error_reply = kv::arity_error(row.name);
      else
        error_reply = kv::error_reply("ERR Command not allowed inside a transaction");
    }
    return false;
  }
  // Connection commands are queued too and run by the connection at EXEC (docs/decisions.md
  // D30), but for SUBSCRIBE and its kin: Redis 7.0 runs them inside EXEC, where their
  // confirmations (one per channel, pushes in RESP3) do not fit EXEC's array of one reply per
  // command, so prez refuses them with Redis's own no-multi text.
  constexpr std::array<std::string_view, 4> subscriptions{"subscribe", "psubscribe", "unsubscribe",
                                                          "punsubscribe"};
  if (std::find(subscriptions.begin(), subscriptions.end(), command->name) != subscriptions.end()) {
    error_reply = kv::error_reply("ERR Command not allowed inside a transaction");
    return false;
  }
  return true;
}

command_kind classify(const std::vector<std::string>& argv, std::string& error_reply) {
  const kv::command_spec* command = kv::validate(argv, error_reply);
  if (command == nullptr) return command_kind::unknown;
  return kv::kind_of(*command, argv);
}

std::vector<command_description> describe_commands() {
  std::vector<command_description> out;
  out.reserve(kv::table.size());
  for (const auto& row : kv::table)
    out.push_back({row.name, row.arity, row.kind});
  return out;
}

std::string run_local(const std::vector<std::string>& argv) {
  std::string error;
  const kv::command_spec* command = kv::validate(argv, error);
  if (command == nullptr) return error;
  if (command->kind != command_kind::local)
    return kv::error_reply("ERR internal error: '" + std::string(command->name) +
                           "' is not a local command");
  if (command->local == nullptr)
    return kv::error_reply("ERR internal error: '" + std::string(command->name) +
                           "' is run by the connection, not the state machine");
  return command->local(argv);
}

} // namespace prez
