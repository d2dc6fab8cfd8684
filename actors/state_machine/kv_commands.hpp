#pragma once
// Internals shared by the command handlers (kv_strings.cpp, kv_keys.cpp, kv_hashes.cpp,
// kv_lists.cpp, kv_sets.cpp, kv_zsets.cpp) and the command table (command_table.cpp): the RESP2
// encoders, Redis's error texts, argument parsing as Redis does it, and the handler declarations.
// Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/gateway/resp_writer.hpp"
#include "actors/state_machine/kv_state.hpp"
#include "config/mix64.hpp"

namespace prez::kv {

using argv_type = std::vector<std::string>;

// --- RESP2 encoding: the one writer (actors/gateway/resp_writer.hpp) -------------------------

using resp::array_header;
using resp::bulk;
using resp::bulk_array;
using resp::integer;
using resp::null_array;
using resp::null_bulk;
using resp::ok;
/// A status reply such as `+PONG`.
inline std::string simple_string(std::string_view text) {
  return resp::simple(text);
}
/// An error reply; `message` starts with its code ("ERR ...", "WRONGTYPE ...").
inline std::string error_reply(std::string_view message) {
  return resp::error(message);
}

/// A SCAN-family reply: the next cursor, then the items found.
template <class Range>
std::string scan_reply(std::string_view cursor, const Range& items) {
  return array_header(2) + bulk(cursor) + bulk_array(items);
}

// --- Redis 7's error texts ----------------------------------------------------------------------

inline const std::string_view syntax_error = "ERR syntax error";
inline const std::string_view wrong_type =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline const std::string_view not_integer = "ERR value is not an integer or out of range";
inline const std::string_view not_float = "ERR value is not a valid float";
inline const std::string_view overflow = "ERR increment or decrement would overflow";
inline const std::string_view nan_or_infinity = "ERR increment would produce NaN or Infinity";
inline const std::string_view not_positive = "ERR value is out of range, must be positive";
inline const std::string_view no_such_key = "ERR no such key";
inline const std::string_view too_large =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

inline std::string wrong_type_reply() {
  return error_reply(wrong_type);
}
inline std::string arity_error(std::string_view name) {
  return error_reply("ERR wrong number of arguments for '" + std::string(name) + "' command");
}
/// A subcommand's arity as Redis declares it (n exactly, -n at least n, the parent included).
struct subcommand_arity {
  std::string_view name;
  int arity;
};
/// Redis 7.0's answers to an unknown subcommand of container command argv[0] and to a known one
/// with a wrong arity; empty when argv fits `table` (kv_parse.cpp).
std::string check_subcommand(const argv_type& argv, std::initializer_list<subcommand_arity> table);
/// Redis's addReplySubcommandSyntaxError: "ERR unknown subcommand or wrong number of arguments
/// for '<sub>'. Try <COMMAND> HELP." (the subcommand's own checks, after its arity passed).
std::string subcommand_syntax_error(const argv_type& argv);
/// "ERR invalid expire time in 'set' command". `name` is the lowercase command name.
inline std::string invalid_expire_error(std::string_view name) {
  return error_reply("ERR invalid expire time in '" + std::string(name) + "' command");
}

// --- argument parsing ---------------------------------------------------------------------------

std::string lowercase(std::string_view text);
/// Case-insensitive comparison with a lowercase word.
bool is_word(std::string_view text, std::string_view lower_word);
/// Redis's string2ll: optional '-', no '+', no spaces, no leading zeros, must fit a long long.
std::optional<long long> parse_integer(std::string_view text);
/// Redis's string2ld: strtold over the whole text, no leading space, no NaN.
std::optional<long double> parse_float(std::string_view text);
/// A score or weight as Redis 7 reads a double (getDoubleFromObject): strtod over the whole
/// text, no leading space, not empty; "inf", "-inf" accepted; NaN and overflow refused.
std::optional<double> parse_score(std::string_view text);
/// Redis's human-friendly long double text ("%.17Lf" without trailing zeros).
std::string format_float(long double number);
/// Glob-style match as KEYS and SCAN MATCH do: * ? [abc] [^a-z] and \ escapes.
bool glob_match(std::string_view pattern, std::string_view text);
/// The name (argv[0]) in lowercase for error texts.
inline std::string command_name(const argv_type& argv) {
  return lowercase(argv[0]);
}

/// Redis's clamping of LRANGE/GETRANGE-style [start, stop] to [0, length); nullopt when empty.
std::optional<std::pair<std::size_t, std::size_t>> clamp_range(long long start, long long stop,
                                                               std::size_t length);

/// SCAN-family options: [MATCH pattern] [COUNT n] [TYPE t]; `type_allowed` only for SCAN.
struct scan_options {
  std::optional<std::string> pattern; ///< nullopt: match everything
  long long count = 10;
  std::string type; ///< lowercase type name; empty: every type
};
/// Parses options starting at argv[first]; on error returns the reply in `error`.
std::optional<scan_options> parse_scan_options(const argv_type& argv, std::size_t first,
                                               bool type_allowed, std::string& error);
/// A SCAN cursor: decimal unsigned 64-bit; nullopt for "ERR invalid cursor".
std::optional<std::uint64_t> parse_cursor(std::string_view text);

/// SCAN-family cursors are the top 52 bits of a fixed hash (key_hash) of the next name to visit, so
/// a cursor survives inserts and deletes between calls and stays below 2^53: clients that hold it
/// as a JavaScript number (node-redis, ioredis) never round it. 0 starts and ends a scan.
inline constexpr int scan_cursor_shift = 12;
inline std::uint64_t scan_cursor_of(std::string_view name) {
  return key_hash(name) >> scan_cursor_shift;
}
/// Cursors above this were not made by prez (or by an older prez): the scan is over.
inline constexpr std::uint64_t scan_cursor_max = ~std::uint64_t{0} >> scan_cursor_shift;

/// HSCAN/SSCAN/ZSCAN: a collection of at most this many elements is answered whole with cursor
/// 0, as Redis answers its small (listpack/intset) encodings.
inline constexpr std::size_t scan_whole_max = 128;

/// One page of HSCAN/SSCAN/ZSCAN over `names` (the collection's element names, in any order):
/// the indexes into `names` to return, in cursor order, and the next cursor. Every element
/// present from the first call to the last is returned at least once, whatever changed in
/// between. A page holds at least max(count, size/32) elements, so a whole scan takes at most
/// about 33 calls of O(size) each, whatever COUNT is.
struct member_page {
  std::vector<std::size_t> picked;
  std::uint64_t next = 0;
};
member_page scan_members(const std::vector<std::string_view>& names, std::uint64_t cursor,
                         long long count);

/// Whether `name` passes the MATCH pattern of `options`.
inline bool matches(const scan_options& options, std::string_view name) {
  return !options.pattern || glob_match(*options.pattern, name);
}

/// The encoding OBJECT ENCODING names for a value (kv_object.cpp, docs/compatibility.md).
std::string_view encoding_name(const value& data);

/// The type name TYPE answers for a value.
std::string_view type_name(const value& data);

/// Bytes of a hash field and its value, for keyspace::grow/shrink.
inline std::size_t field_bytes(const std::string& field, const std::string& text) {
  return field.size() + text.size();
}

/// Bytes a sorted set's score counts for in entry::bytes (the double it is held as).
inline constexpr std::size_t zset_score_bytes = sizeof(double);
/// Bytes of a sorted set member with its score, for keyspace::grow/shrink.
inline std::size_t zset_member_bytes(std::string_view member) {
  return member.size() + zset_score_bytes;
}

/// splitmix64's mixing step (config/mix64.hpp): deterministic mixing for seeds.
using ::prez::mix64;

/// HRANDFIELD's and ZRANDMEMBER's `[count [WITHVALUES|WITHSCORES]]` from argv[2], with Redis 7.0's
/// checks and errors (`with_word` is the lower-case option word). Returns the error reply, empty
/// on success; `count` stays nullopt when argv has no count.
std::string parse_random_count(const argv_type& argv, std::string_view with_word,
                               std::optional<long long>& count, bool& with);

/// The seed of a random read of `key` (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER): the read's time, the
/// key and its version, so every replica answers the same at the same time and version.
std::uint64_t random_read_seed(const keyspace& keys, const std::string& key, std::uint64_t now_ms);

/// A splitmix64 stream: deterministic, seeded, never std::random_device (docs/expiry.md,
/// Randomness). SPOP, SRANDMEMBER, ZRANDMEMBER draw from it.
struct seeded_random {
  std::uint64_t state;
  std::uint64_t below(std::uint64_t bound) { return mix64(state++) % bound; }
};

// --- handlers -----------------------------------------------------------------------------------

/// A write command: may change `keys`. `time_ms` is the entry's (monotonic) time.
using write_handler = std::string (*)(keyspace& keys, const argv_type& argv, std::uint64_t time_ms);
/// A read command: never changes `keys`; keys expired at `now_ms` are absent.
using read_handler = std::string (*)(const keyspace& keys, const argv_type& argv,
                                     std::uint64_t now_ms);

/// Replaces the text of a string entry, keeping its expiry (INCR, APPEND, SETRANGE, SETBIT).
void replace_text(keyspace& keys, entry& e, std::string text);

/// Deletes `key`, a collection a command emptied, and says "del" as Redis does (after the
/// command's own event).
inline void erase_emptied(keyspace& keys, std::string_view key) {
  keys.erase(key);
  keys.notify(notify::generic, "del", key);
}

#define PREZ_KV_WRITE(name) std::string name(keyspace&, const argv_type&, std::uint64_t)
#define PREZ_KV_READ(name) std::string name(const keyspace&, const argv_type&, std::uint64_t)

// strings (kv_strings.cpp)
std::string check_set(const argv_type& argv);
PREZ_KV_WRITE(set_command);
PREZ_KV_READ(get_command);
PREZ_KV_WRITE(getset_command);
PREZ_KV_WRITE(getdel_command);
PREZ_KV_WRITE(getex_command);
PREZ_KV_WRITE(setnx_command);
PREZ_KV_WRITE(setex_command);
PREZ_KV_WRITE(psetex_command);
PREZ_KV_READ(mget_command);
PREZ_KV_WRITE(mset_command);
PREZ_KV_WRITE(msetnx_command);
PREZ_KV_WRITE(append_command);
PREZ_KV_READ(strlen_command);
PREZ_KV_READ(getrange_command);
PREZ_KV_WRITE(setbit_command);
PREZ_KV_READ(getbit_command);
PREZ_KV_READ(bitcount_command);
PREZ_KV_READ(bitpos_command);
PREZ_KV_WRITE(bitop_command);
PREZ_KV_WRITE(bitfield_command);
PREZ_KV_READ(bitfield_ro_command);
PREZ_KV_WRITE(setrange_command);
PREZ_KV_WRITE(incr_command);
PREZ_KV_WRITE(decr_command);
PREZ_KV_WRITE(incrby_command);
PREZ_KV_WRITE(decrby_command);
PREZ_KV_WRITE(incrbyfloat_command);

// keys (kv_keys.cpp)
PREZ_KV_WRITE(del_command);
PREZ_KV_READ(exists_command);
PREZ_KV_READ(type_command);
PREZ_KV_READ(memory_command);
PREZ_KV_READ(sintercard_command);
PREZ_KV_READ(hrandfield_command);
PREZ_KV_WRITE(rename_command);
PREZ_KV_WRITE(renamenx_command);
PREZ_KV_READ(keys_command);
PREZ_KV_READ(scan_command);
PREZ_KV_READ(dbsize_command);
PREZ_KV_WRITE(flush_command);
PREZ_KV_READ(randomkey_command);
PREZ_KV_WRITE(expire_command);
PREZ_KV_WRITE(pexpire_command);
PREZ_KV_WRITE(expireat_command);
PREZ_KV_WRITE(pexpireat_command);
PREZ_KV_READ(ttl_command);
PREZ_KV_READ(pttl_command);
PREZ_KV_READ(expiretime_command);
PREZ_KV_READ(pexpiretime_command);
PREZ_KV_WRITE(persist_command);

// whole values (kv_object.cpp, kv_lcs.cpp, kv_dump.cpp)
PREZ_KV_READ(touch_command);
PREZ_KV_WRITE(copy_command);
std::string check_object(const argv_type& argv);
PREZ_KV_READ(object_command);
PREZ_KV_READ(lcs_command);

// DUMP and RESTORE (kv_dump.cpp): a value as prez's own payload, and back.
/// DUMP's payload for `data` (the format is described in kv_dump.cpp).
std::string dump_payload(const value& data);
PREZ_KV_READ(dump_command);
PREZ_KV_WRITE(restore_command);

// SORT (kv_sort.cpp): SORT is a write with STORE, else a read (kind_of()).
bool sort_stores(const argv_type& argv);
PREZ_KV_WRITE(sort_command);
PREZ_KV_READ(sort_read_command);
PREZ_KV_READ(sort_ro_command);

// hashes (kv_hashes.cpp)
PREZ_KV_WRITE(hset_command);
PREZ_KV_WRITE(hmset_command);
PREZ_KV_WRITE(hsetnx_command);
PREZ_KV_READ(hget_command);
PREZ_KV_READ(hmget_command);
PREZ_KV_WRITE(hdel_command);
PREZ_KV_READ(hexists_command);
PREZ_KV_READ(hlen_command);
PREZ_KV_READ(hkeys_command);
PREZ_KV_READ(hvals_command);
PREZ_KV_READ(hgetall_command);
PREZ_KV_WRITE(hincrby_command);
PREZ_KV_WRITE(hincrbyfloat_command);
PREZ_KV_READ(hstrlen_command);
PREZ_KV_READ(hscan_command);

// lists (kv_lists.cpp)
PREZ_KV_WRITE(lpush_command);
PREZ_KV_WRITE(rpush_command);
PREZ_KV_WRITE(lpushx_command);
PREZ_KV_WRITE(rpushx_command);
PREZ_KV_WRITE(lpop_command);
PREZ_KV_WRITE(rpop_command);
PREZ_KV_READ(llen_command);
PREZ_KV_READ(lrange_command);
PREZ_KV_READ(lindex_command);
PREZ_KV_WRITE(lset_command);
PREZ_KV_WRITE(lrem_command);
PREZ_KV_WRITE(ltrim_command);
PREZ_KV_WRITE(linsert_command);
PREZ_KV_READ(lpos_command);
PREZ_KV_WRITE(lmove_command);
PREZ_KV_WRITE(rpoplpush_command);
PREZ_KV_WRITE(lmpop_command);

// pub/sub (kv_keys.cpp): PUBLISH goes through the log; the node's hub delivers it
PREZ_KV_WRITE(publish_command);

// blocking pops (kv_blocking.cpp)

/// A blocking command's arguments, parsed.
/// XREAD's and XREADGROUP's arguments, parsed.
struct xread_call {
  std::vector<std::string> keys;      ///< the streams, in order
  std::size_t ids_at = 0;             ///< argv index of the first stream's ID
  std::uint64_t count = 0;            ///< COUNT, 0 for none
  std::optional<std::uint64_t> block; ///< BLOCK's milliseconds (0: no timeout)
  bool group = false;                 ///< XREADGROUP: GROUP's group and consumer, NOACK
  std::string group_name;
  std::string consumer;
  bool noack = false;
};
struct blocking_call {
  std::vector<std::string> keys;   ///< the keys it waits on, in its order
  bool zset = false;               ///< whether they must hold sorted sets (else lists)
  std::uint64_t timeout_ms = 0;    ///< 0: no timeout
  std::string side;                ///< BLMPOP/BZMPOP: LEFT/RIGHT or MIN/MAX as given
  std::string count;               ///< BLMPOP/BZMPOP: COUNT's argument, empty when not given
  bool stream = false;             ///< XREAD BLOCK: waits for entries after its IDs, pops nothing
  std::optional<xread_call> xread; ///< with `stream`: XREAD's or XREADGROUP's arguments
};
/// Timeouts above this (about 31,700 years) are refused as out of range.
inline constexpr std::uint64_t blocking_timeout_ms_max = 1'000'000'000'000'000ULL;
/// A blocking command names at most this many keys (so a blocked client fits one snapshot
/// record, limits::snapshot_record_items_max).
inline constexpr std::size_t blocking_keys_max = 1024;
/// LMPOP/ZMPOP's arguments (and BLMPOP/BZMPOP's) from argv[numkeys_at] on: numkeys, the keys,
/// the side word (LEFT|RIGHT, or MIN|MAX for `zset`), [COUNT c], with Redis 7.0's errors in its
/// order. Fills call.keys, call.side and call.count; false with `error` set on bad input.
bool parse_mpop(const argv_type& argv, std::size_t numkeys_at, bool zset, blocking_call& call,
                std::string& error);
/// Parses a blocking command as Redis 7.0 does. nullopt with `error` empty when argv is not a
/// blocking command with a valid arity; nullopt with `error` set (a RESP error) when its
/// arguments are wrong.
std::optional<blocking_call> parse_blocking(const argv_type& argv, std::string& error);
/// The reply of blocked command `argv` served from `key` (which may have changed), or nullopt
/// when `key` cannot serve it (another type; for XREAD, no entry after its ID): what its
/// non-blocking twin answers on that key (BLPOP/BZPOPMIN with the key first; XREAD with only
/// that stream).
std::optional<std::string> serve_blocked(keyspace& keys, const argv_type& argv,
                                         const blocking_call& call, const std::string& key,
                                         std::uint64_t time_ms);
/// Runs `argv` if one of its keys has data (or holds a wrong type: WRONGTYPE); nullopt when it
/// would block.
std::optional<std::string> try_blocking(keyspace& keys, const argv_type& argv,
                                        const blocking_call& call, std::uint64_t time_ms);
/// What a blocked client gets when it times out.
std::string blocking_timed_out_reply();
/// BLPOP & co where the client cannot block (inside MULTI): data, or a timeout's answer at once.
PREZ_KV_WRITE(blocking_command);

// sets (kv_sets.cpp)
PREZ_KV_WRITE(sadd_command);
PREZ_KV_WRITE(srem_command);
PREZ_KV_READ(smembers_command);
PREZ_KV_READ(sismember_command);
PREZ_KV_READ(smismember_command);
PREZ_KV_READ(scard_command);
PREZ_KV_WRITE(spop_command);
PREZ_KV_READ(srandmember_command);
PREZ_KV_WRITE(smove_command);
PREZ_KV_READ(sinter_command);
PREZ_KV_READ(sunion_command);
PREZ_KV_READ(sdiff_command);
PREZ_KV_WRITE(sinterstore_command);
PREZ_KV_WRITE(sunionstore_command);
PREZ_KV_WRITE(sdiffstore_command);
PREZ_KV_READ(sscan_command);

// sorted sets (kv_zsets.cpp)
PREZ_KV_WRITE(zadd_command);
PREZ_KV_WRITE(zincrby_command);
PREZ_KV_READ(zcard_command);
PREZ_KV_READ(zscore_command);
PREZ_KV_READ(zmscore_command);
PREZ_KV_WRITE(zrem_command);
PREZ_KV_READ(zrank_command);
PREZ_KV_READ(zrevrank_command);
PREZ_KV_READ(zcount_command);
PREZ_KV_READ(zlexcount_command);
PREZ_KV_READ(zrange_command);
PREZ_KV_WRITE(zrangestore_command);
PREZ_KV_READ(zrevrange_command);
PREZ_KV_READ(zrangebyscore_command);
PREZ_KV_READ(zrevrangebyscore_command);
PREZ_KV_READ(zrangebylex_command);
PREZ_KV_READ(zrevrangebylex_command);
PREZ_KV_WRITE(zremrangebyrank_command);
PREZ_KV_WRITE(zremrangebyscore_command);
PREZ_KV_WRITE(zremrangebylex_command);
PREZ_KV_WRITE(zpopmin_command);
PREZ_KV_WRITE(zpopmax_command);
PREZ_KV_WRITE(zmpop_command);
PREZ_KV_READ(zrandmember_command);
PREZ_KV_READ(zunion_command);
PREZ_KV_READ(zinter_command);
PREZ_KV_READ(zdiff_command);
PREZ_KV_WRITE(zunionstore_command);
PREZ_KV_WRITE(zinterstore_command);
PREZ_KV_WRITE(zdiffstore_command);
PREZ_KV_READ(zintercard_command);
PREZ_KV_READ(zscan_command);
// scripting (kv_scripting.cpp)
PREZ_KV_WRITE(eval_command);
PREZ_KV_WRITE(evalsha_command);
PREZ_KV_READ(eval_ro_command);
PREZ_KV_READ(evalsha_ro_command);
std::string check_script(const argv_type& argv);
/// Whether SCRIPT `argv` changes the script cache (LOAD, FLUSH): a write; the rest read.
bool script_writes(const argv_type& argv);
PREZ_KV_WRITE(script_write_command);
PREZ_KV_READ(script_read_command);
PREZ_KV_WRITE(fcall_command);
PREZ_KV_READ(fcall_ro_command);
std::string check_function(const argv_type& argv);
/// Whether FUNCTION `argv` changes the libraries (LOAD, DELETE, FLUSH, RESTORE): a write.
bool function_writes(const argv_type& argv);
PREZ_KV_WRITE(function_write_command);
PREZ_KV_READ(function_read_command);

// streams (kv_streams.cpp)
PREZ_KV_WRITE(xadd_command);
PREZ_KV_WRITE(xtrim_command);
PREZ_KV_WRITE(xdel_command);
PREZ_KV_READ(xlen_command);
PREZ_KV_READ(xrange_command);
PREZ_KV_READ(xrevrange_command);
PREZ_KV_READ(xread_command);
/// XREAD BLOCK where its client cannot block (inside MULTI, a script): as XREAD at once.
PREZ_KV_WRITE(xread_block_command);
PREZ_KV_WRITE(xsetid_command);
std::string check_xinfo(const argv_type& argv);
PREZ_KV_READ(xinfo_command);
/// Parses XREAD or XREADGROUP as Redis 7.0 does (its errors in its order, except the IDs',
/// which xread_ready and xreadgroup_ready check); nullopt with `error` set when wrong.
std::optional<xread_call> parse_xread(const argv_type& argv, std::string& error);
/// Whether XREAD or XREADGROUP `argv` has a BLOCK option (XREAD is then a write: kind_of()).
bool xread_blocks(const argv_type& argv);
/// Entries a blocked XREAD without COUNT is served at most (Redis's default for it).
inline constexpr std::size_t xread_blocked_count = 1000;
inline constexpr std::size_t xread_all = ~std::size_t{0};
/// XREAD's reply when some stream has entries after its ID: all streams (`only` ==
/// xread_all) or only stream number `only` (serving a blocked client); nullopt when none has;
/// an error reply for a wrong type or a bad ID.
std::optional<std::string> xread_ready(const keyspace& keys, const argv_type& argv,
                                       const xread_call& call, std::uint64_t now_ms,
                                       std::size_t only);
/// `argv` (parsed as `call`) with each "$" ID replaced by its stream's last ID now (0-0 when
/// absent): what a blocked XREAD waits for after (Redis resolves "$" when the client blocks).
argv_type xread_resolve(const keyspace& keys, const argv_type& argv, const xread_call& call,
                        std::uint64_t now_ms);

// stream consumer groups (kv_stream_groups.cpp)
std::string check_xgroup(const argv_type& argv);
PREZ_KV_WRITE(xgroup_command);
/// XREADGROUP where its client does not block (no BLOCK, or inside MULTI): at once.
PREZ_KV_WRITE(xreadgroup_command);
PREZ_KV_WRITE(xack_command);
PREZ_KV_READ(xpending_command);
PREZ_KV_WRITE(xclaim_command);
PREZ_KV_WRITE(xautoclaim_command);
/// XREADGROUP's reply when it can serve some stream (history, or entries after the group's last
/// ID), having delivered them; nullopt when it cannot; an error reply for a wrong type, a missing
/// group or a bad ID. Checks every stream before serving any, as Redis does.
std::optional<std::string> xreadgroup_ready(keyspace& keys, const argv_type& argv,
                                            const xread_call& call, std::uint64_t time_ms);
/// Serves a blocked XREADGROUP from stream `key` (one of call.keys) when its group has entries
/// after its last ID; NOGROUP's error when the group is gone; nullopt (stays blocked) otherwise.
std::optional<std::string> xreadgroup_serve_blocked(keyspace& keys, const xread_call& call,
                                                    const std::string& key, std::uint64_t time_ms);

#undef PREZ_KV_WRITE
#undef PREZ_KV_READ

// --- the command table (command_table.cpp) ------------------------------------------------------

/// One command. `arity` follows Redis: n means exactly n arguments including the name, -n
/// means at least n. The handler matching `kind` is set (local commands other than PING and
/// ECHO have none: the connection layer runs them).
struct command_spec {
  std::string_view name; ///< lowercase
  int arity;
  command_kind kind;
  std::string (*check)(const argv_type&); ///< checks beyond arity; empty string when fine
  write_handler write;
  read_handler read;
  std::string (*local)(const argv_type&);
};

/// How `argv` travels: the spec's kind, except for a command whose kind depends on its
/// arguments (SORT without STORE and RAFT.NODE LIST are reads). Precondition: `command` is the
/// spec validate() found for `argv`.
command_kind kind_of(const command_spec& command, const argv_type& argv);

/// The spec for a runnable command, or nullptr with `error` set to the RESP error reply.
const command_spec* validate(const argv_type& argv, std::string& error);
/// validate() without the command's own argument checks: only its name and arity.
const command_spec* find_with_arity(const argv_type& argv, std::string& error);

} // namespace prez::kv
