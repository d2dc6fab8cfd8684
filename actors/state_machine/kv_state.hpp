#pragma once
// The replicated key-value state: Redis semantics, RESP2 replies as bytes. Pure and
// deterministic (docs/architecture.md §6): the same commands in the same order give the same
// replies and the same state on every replica. Owned by the state_machine_actor. The expiry model
// is in docs/expiry.md.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "actors/state_machine/blocked_clients.hpp"
#include "actors/state_machine/lua_script.hpp"
#include "actors/state_machine/stream.hpp"
#include "actors/state_machine/zset.hpp"

namespace prez {

class client_sessions;
class kv_state;
class state_restorer;

/// How a command travels.
enum class command_kind : std::uint8_t {
  read,    ///< served from the state after a ReadIndex round (GET, EXISTS, SCAN)
  write,   ///< proposed to the log, then applied on every replica (SET, DEL, SPOP)
  local,   ///< answered by the receiving connection, never replicated (PING, MULTI, CLIENT)
  unknown, ///< not runnable: unknown or refused name, wrong arity or bad syntax; see error_reply
};

/// Classifies a client command and checks its arity the way Redis 7 does (plus SET's options),
/// so an invalid command is answered at once and never enters the log. Returns
/// command_kind::unknown exactly when it sets `error_reply` to a RESP error (e.g. "-ERR wrong
/// number of arguments for 'set' command\r\n", "-ERR unknown command 'foo', with args beginning
/// with: \r\n", "-ERR prez does not support 'sync': replication is done by Raft\r\n");
/// otherwise clears `error_reply`. Command names are case-insensitive. Errors that depend on
/// argument values (not an integer, bad option) are mostly answered by apply(), as in Redis.
command_kind classify(const std::vector<std::string>& argv, std::string& error_reply);

/// Whether MULTI queues `argv`, as Redis decides: a known command with a valid arity is queued
/// (errors of its arguments come back inside EXEC's reply, the state machine runs the same
/// checks there); local commands are queued only when the state machine can answer them (PING,
/// ECHO). When not, `error_reply` says why and the transaction is doomed.
bool queueable_in_transaction(const std::vector<std::string>& argv, std::string& error_reply);

/// Runs PING or ECHO and returns its RESP reply. The other local commands (SELECT, CLIENT,
/// MULTI, ...) belong to the connection layer and get an error saying so; any other command gets
/// the error classify() gives, or an error saying it is not local.
std::string run_local(const std::vector<std::string>& argv);

/// The timeout of a blocking command (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
/// BZPOPMAX, BZMPOP, XREAD with BLOCK) in milliseconds, 0 for none; nullopt when `argv` is not one
/// or its arguments are invalid (it then answers at once). The gateway and the session manager use
/// it to wait as long as the command may block.
std::optional<std::uint64_t> blocking_timeout_ms(const std::vector<std::string>& argv);

/// The command a client's node sends through the log, as the same client, when the client's
/// blocked command `seq` timed out or its connection closed: PREZ.UNBLOCK <seq>. Clients cannot
/// send it (classify() does not know it).
inline constexpr std::string_view unblock_command = "PREZ.UNBLOCK";

/// What COMMAND tells a client about one command prez runs.
struct command_description {
  std::string_view name; ///< lowercase
  int arity;             ///< Redis convention: n exactly, -n at least n (name included)
  command_kind kind;
};

/// Every command prez runs (data commands and connection commands), sorted by name.
std::vector<command_description> describe_commands();

namespace kv {

using list_value = std::deque<std::string>;
/// Sorted containers: every reply that walks a hash or set is the same on every replica.
using hash_value = std::map<std::string, std::string, std::less<>>;
using set_value = std::set<std::string, std::less<>>;
/// A sorted set (zset.hpp): ordered by (score, member), deterministic on every replica.
using zset_value = zset;
/// A stream (stream.hpp): entries by ID.
using stream_value = stream;
using value =
    std::variant<std::string, list_value, hash_value, set_value, zset_value, stream_value>;

/// Where a key sits in the key space's order: by a fixed 64-bit hash of its name, then by name.
/// The order is the same on every replica and on every run, and it is what makes SCAN's cursor
/// (the next hash to visit) survive inserts and deletes between calls.
struct key_slot {
  std::uint64_t hash = 0;
  std::string name;
};

/// The fixed hash of a key name (FNV-1a 64, then a splitmix64 finish); never 0.
std::uint64_t key_hash(std::string_view name);

struct slot_order {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return a.hash != b.hash ? a.hash < b.hash : std::string_view(a.name) < std::string_view(b.name);
  }
};

/// One key's value and metadata. Plain data (no pointers to other keys): snapshot-ready.
struct entry {
  value data;
  /// Absolute deadline on the cluster clock, 0 when the key does not expire.
  /// Invariant: expires_at_ms != 0 exactly when (expires_at_ms, key) is in keyspace's expiry index.
  std::uint64_t expires_at_ms = 0;
  /// WATCH version: changes whenever the key is written (see keyspace::version()).
  std::uint64_t version = 0;
  /// Payload bytes of `data` (strings, elements, fields and values; a sorted set member counts
  /// its bytes plus zset_score_bytes for its score).
  std::size_t bytes = 0;
};

/// Keyspace notification classes: the letters of notify-keyspace-events, as Redis 7.0 has them
/// (docs/architecture.md §3.7, docs/decisions.md D32). Node-local, never replicated.
namespace notify {
inline constexpr int keyspace = 1 << 0;  ///< K: publish on __keyspace@0__:<key>, payload the event
inline constexpr int keyevent = 1 << 1;  ///< E: publish on __keyevent@0__:<event>, payload the key
inline constexpr int generic = 1 << 2;   ///< g: del, expire, persist, rename_*, copy_to, restore
inline constexpr int string = 1 << 3;    ///< $
inline constexpr int list = 1 << 4;      ///< l
inline constexpr int set = 1 << 5;       ///< s
inline constexpr int hash = 1 << 6;      ///< h
inline constexpr int zset = 1 << 7;      ///< z
inline constexpr int expired = 1 << 8;   ///< x: a key deleted because its deadline passed
inline constexpr int evicted = 1 << 9;   ///< e: accepted; prez never evicts
inline constexpr int stream = 1 << 10;   ///< t: xadd, xdel, xtrim, xsetid
inline constexpr int key_miss = 1 << 11; ///< m: accepted; reads publish nothing (D32)
inline constexpr int module = 1 << 13;   ///< d: accepted; prez has no modules
inline constexpr int new_key = 1 << 14;  ///< n: a key created
/// A: every class but m and n, as in Redis.
inline constexpr int all =
    generic | string | list | set | hash | zset | expired | evicted | stream | module;
} // namespace notify

/// The flags named by notify-keyspace-events' letters (K E g $ l s h z x e t m n d A, any order,
/// repeats allowed, "" for none); nullopt when any other character appears.
std::optional<int> parse_notify_flags(std::string_view letters);
/// The text CONFIG GET answers for `flags`, Redis's canonical form: "A" when every class of A is
/// set, else the class letters (g $ l s h z x e t d n, in that order), then K, E and m.
std::string notify_flags_text(int flags);

class key_writer; // kv_snapshot.cpp

/// The key space and its bookkeeping (expiry index, WATCH versions, byte count). The command
/// handlers (kv_*.cpp) work on it directly; kv_state is the public face.
///
/// Snapshots (kv_snapshot.cpp, docs/snapshots.md) are taken without stopping the key space: a
/// snapshot shows the state as it was at begin_snapshot(), while later entries keep being applied
/// between snapshot_next() calls. The bounded parts (the scalars version_clock_, absent_version_,
/// draws_, clock_ms_, the tombstones, the session table) are serialised at begin. Keys are
/// written in the map's order (slot order) with key-level copy-on-write. Invariant, while a
/// snapshot runs and is not detached: for every key K the snapshot has not written yet
/// (K > snapshot_job::last_written), its state at begin is
///   saved[K]  when K is in snapshot_job::saved (nullopt: K was absent at begin), else
///   keys_[K]  (present or absent),
/// because every path that can change a key calls before_change(K) first, which saves K's state
/// when the snapshot still needs it and has not saved it yet (the first change after begin saves
/// the state at begin; later changes find it saved). The paths:
///   - find() (non-const) and find_live() hand out a mutable entry, which the handlers change in
///     place (assign or move its data, push/pop elements, then touch/grow/shrink/set_expiry;
///     RENAME moves the data out): they save a copy of the entry. The handlers reach entries
///     only through these, insert() and put_string() (kv_*.cpp, audited);
///   - insert() saves "absent": a key created after begin is skipped;
///   - erase(), and through it expire_due(), maybe_expire() and the lazy expiry in find_live(),
///     moves the entry into the save when not saved yet (no copy);
///   - put_string() replaces the data whole: it saves by moving the old data out (no copy), or
///     goes through insert();
///   - set_expiry() takes an entry handed out above; it calls before_change() again anyway;
///   - touch(), grow() and shrink() take an entry handed out above (saved already);
///   - flush() hands the whole map to the snapshot (std::swap, O(1)) and detaches it: the
///     snapshot then reads that frozen map plus its saves, never the live map, so nothing after
///     needs saving;
///   - draw(), advance_clock(), record_tombstone() and touch() change only scalars and tombstones,
///     serialised at begin.
/// A key bigger than one call is written over several (snapshot_job::partial); it counts as not
/// written until its last record, so it is saved like any other, and the rest is written from
/// the save when it changed in between.
/// The const find(), find_visible(), version() and the read handlers change nothing. Where a write
/// command only reads a key or deletes it whole (DEL, GETDEL, SET's checks, SETNX, MSETNX, the
/// WATCH check, the SxxxSTORE sources) it uses maybe_expire() or peek_live(), so nothing is
/// copied. Cost: a key changed while a snapshot still needs it is copied once, in one step
/// (O(its size), as one page under fork()); the frozen map of a FLUSH is freed as the snapshot
/// passes it (the destruction FLUSH pays at once without a snapshot).
class keyspace {
public:
  using map_type = std::map<key_slot, entry, slot_order>;

  /// The entry for `key` regardless of its deadline, or nullptr. The non-const overload is a
  /// write path: the caller may change the entry (a running snapshot saves it first).
  entry* find(std::string_view key);
  const entry* find(std::string_view key) const;
  /// Write path: the entry for `key`, deleting it first (lazy expiry) if its deadline is
  /// <= time_ms. The caller may change the entry it gets.
  entry* find_live(std::string_view key, std::uint64_t time_ms);
  /// Lazy expiry alone: deletes `key` if its deadline is <= time_ms; returns whether it did.
  /// Unlike find_live(), hands out no entry, so a running snapshot copies nothing.
  bool maybe_expire(std::string_view key, std::uint64_t time_ms);
  /// Write path that only reads the entry: maybe_expire(), then the entry for `key` or nullptr.
  /// A running snapshot copies nothing; change the key through the other write paths.
  const entry* peek_live(std::string_view key, std::uint64_t time_ms) {
    maybe_expire(key, time_ms);
    return std::as_const(*this).find(key);
  }
  /// Read path: the entry for `key` unless absent or expired at now_ms. Never modifies.
  const entry* find_visible(std::string_view key, std::uint64_t now_ms) const;
  /// Inserts a key that is absent (precondition), without expiry, with a fresh version.
  entry& insert(std::string_view key, value data);
  /// Inserts or overwrites `key` with a string and no expiry (SET, MSET, ...).
  entry& put_string(std::string_view key, std::string text);
  /// Deletes `key` with its expiry; returns whether it existed.
  bool erase(std::string_view key);
  /// Sets or clears (deadline 0) the key's deadline and bumps its version. Precondition: `e` is
  /// the entry of `key`, handed out by find(), find_live(), insert() or put_string().
  void set_expiry(std::string_view key, entry& e, std::uint64_t deadline_ms);
  /// Gives `e` a fresh version: call after every change to it. Precondition: `e` was handed out
  /// by find(), find_live(), insert() or put_string() (so a running snapshot saved it).
  void touch(entry& e) { e.version = ++version_clock_; }
  /// Adjusts the byte count after elements were added to or removed from `e`. Precondition as
  /// for touch(); shrink: removed_bytes <= e.bytes.
  void grow(entry& e, std::size_t added_bytes);
  void shrink(entry& e, std::size_t removed_bytes);
  /// Deletes up to `keys_max` keys whose deadline is <= time_ms, earliest first; returns how many.
  std::size_t expire_due(std::uint64_t time_ms, std::size_t keys_max);
  /// Mixed into the seed of random reads (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY): 0
  /// while applying entries, so replicas agree; a fresh random number while kv_state::read()
  /// serves a ReadIndex read, which only its client sees (docs/expiry.md, Randomness).
  std::uint64_t read_entropy() const { return read_entropy_; }
  /// Queues a message for the node's subscribers (PUBLISH; keyspace notifications): delivered
  /// by the state machine after the entry, in the order queued (kv_state::take_published()).
  /// Not part of the state: nothing here is in snapshots.
  void publish(std::string channel, std::string payload) {
    outbox_.push_back(std::move(channel));
    outbox_.push_back(std::move(payload));
  }
  /// Keyspace notifications (D32): which classes this node publishes, node-local and not part
  /// of the state (never in snapshots or replies). The state machine sets it from CONFIG's
  /// notify-keyspace-events before each batch it applies; 0 (the default) turns them off.
  void set_notify_flags(int flags) { notify_flags_ = flags; }
  int notify_flags() const { return notify_flags_; }
  /// Publishes `event` on `key` (a class of notify::) when that class and K or E are on:
  /// __keyspace@0__:<key> with payload `event`, then __keyevent@0__:<event> with payload `key`.
  /// Returns at once, building nothing, when notifications are off. The handlers call it after
  /// each change, in Redis's order; insert() publishes "new", the expiry paths "expired".
  void notify(int event_class, std::string_view event, std::string_view key) {
    if ((notify_flags_ & event_class) != 0 &&
        (notify_flags_ & (notify::keyspace | notify::keyevent)))
      publish_event(event, key);
  }
  /// Deletes every key (FLUSHDB, FLUSHALL). The WATCH version of every key that existed changes
  /// (a tombstone each); absent keys keep theirs, unless the tombstones would pass their bound,
  /// when every absent key gets a new version instead.
  void flush();

  /// The WATCH version of `key`: changes whenever the key is created, modified, deleted or
  /// expires. An absent key keeps a tombstone version after deletion (bounded by
  /// limits::kv_tombstones_max; past it every absent key gets a new version at once, which can
  /// only abort a transaction needlessly, never let a changed key through).
  std::uint64_t version(std::string_view key) const;
  /// A pseudo-random number for SPOP and friends: a function of the state and time_ms only.
  std::uint64_t draw(std::uint64_t time_ms);

  const map_type& keys() const { return keys_; }
  /// The clients blocked in BLPOP and friends (part of the state, and of its snapshots).
  blocked_clients& blocked() { return blocked_; }
  const blocked_clients& blocked() const { return blocked_; }
  /// The scripts kept for EVALSHA, by their SHA1 in lowercase hex (part of the state and of its
  /// snapshots; docs/scripting.md).
  const std::map<std::string, std::string, std::less<>>& scripts() const { return scripts_; }
  /// The script named `sha`, or nullptr.
  const std::string* script(std::string_view sha) const;
  /// Keeps `body` under `sha` (its SHA1) unless the cache is at limits::scripts_cached_max or
  /// limits::scripts_cached_bytes_max; returns whether it is kept.
  bool keep_script(const std::string& sha, std::string_view body);
  /// A function library (FUNCTION LOAD): its code and the functions it registers.
  struct function_library {
    std::string code;
    std::vector<function_info> functions;
  };
  /// The function libraries by name (part of the state and of its snapshots).
  const std::map<std::string, function_library, std::less<>>& libraries() const {
    return libraries_;
  }
  /// The library that registers function `name` and that function, or nullptrs.
  std::pair<const function_library*, const function_info*>
  find_function(std::string_view name) const;
  /// Adds library `name` or replaces the one of that name (FUNCTION LOAD [REPLACE]); the caller
  /// checked that its functions are not another library's. Returns false, changing nothing, when
  /// the libraries would pass limits::scripts_cached_max or limits::scripts_cached_bytes_max.
  bool put_library(const std::string& name, function_library library);
  /// Deletes library `name`; returns whether it existed.
  bool erase_library(std::string_view name);
  /// Deletes every library (FUNCTION FLUSH).
  void flush_libraries() {
    libraries_.clear();
    function_index_.clear();
    libraries_bytes_ = 0;
  }
  /// Forgets every script (SCRIPT FLUSH).
  void flush_scripts() {
    scripts_.clear();
    scripts_bytes_ = 0;
  }
  /// Keys visible at now_ms (not counting those whose deadline has passed).
  std::size_t visible_count(std::uint64_t now_ms) const;
  std::size_t size() const { return keys_.size(); }
  std::size_t bytes() const { return bytes_; }
  /// Keys that have a deadline (INFO keyspace's expires=).
  std::size_t expiring() const { return expiries_.size(); }
  /// The earliest key deadline (the expiry index's first), nullopt when no key has one.
  std::optional<std::uint64_t> next_expiry_ms() const {
    if (expiries_.empty()) return std::nullopt;
    return expiries_.begin()->first;
  }
  /// Recomputes bytes() from scratch (tests and invariant checks; O(size)).
  std::size_t recount_bytes() const;

  /// The cluster clock: the largest time_ms applied so far. Stamped times may go backwards
  /// across a leader change; expiry uses this monotonic maximum instead.
  std::uint64_t clock_ms() const { return clock_ms_; }
  /// Advances clock_ms() to time_ms if later; returns the (monotonic) time to use.
  std::uint64_t advance_clock(std::uint64_t time_ms);

  // --- snapshots (kv_snapshot.cpp; the byte format is in state_restore.hpp) ---

  /// Starts a snapshot of this key space plus `sessions` as they are now. Serialises the
  /// scalars, tombstones and `sessions` at once (O(tombstones + sessions)); keys are written by
  /// snapshot_next(). Precondition: !snapshot_running().
  void begin_snapshot(const client_sessions& sessions);
  /// Whether a snapshot was begun and has neither completed nor been aborted.
  bool snapshot_running() const { return snapshot_ != nullptr; }
  /// Appends the next bytes of the running snapshot to `out`: about `bytes_max`, at most
  /// bytes_max plus one record (limits::snapshot_record_bytes plus one item), at least one byte.
  /// Keys that fit are written whole; a key bigger than bytes_max is written over several calls,
  /// record by record. Returns true when the snapshot is complete: `out` then ends with its end
  /// record and no snapshot runs any more. Precondition: snapshot_running().
  bool snapshot_next(std::string& out, std::size_t bytes_max);
  /// Drops a running snapshot and frees what it saved (at once). No precondition.
  void abort_snapshot() { snapshot_.reset(); }

  /// How far a key bigger than one snapshot_next() call has been written (kv_snapshot.cpp).
  struct snapshot_progress {
    key_slot slot;
    /// Items written (see snapshot::value_type).
    std::size_t items_done = 0;
    /// For a hash or set: the last field or member written; the next call resumes after it.
    std::string last_item;
  };

private:
  friend class ::prez::state_restorer;

  /// A snapshot in progress. Owned by the keyspace, like the keys (the state machine actor).
  struct snapshot_job {
    /// Header, tombstone and session records serialised at begin, handed out first.
    std::string prologue;
    /// Bytes of `prologue` already handed out. Invariant: <= prologue.size().
    std::size_t prologue_sent = 0;
    /// The last key written (slot order), nullopt before the first. Keys <= it are written.
    std::optional<key_slot> last_written;
    /// State at begin of keys not yet written that changed since (nullopt: absent at begin).
    /// Invariant: every key in here is > last_written.
    std::map<key_slot, std::optional<entry>, slot_order> saved;
    /// Set by flush(): the keys now live in `frozen`, which holds, for every key > last_written
    /// and not in `saved`, its state at begin; the live map is no longer read.
    bool detached = false;
    map_type frozen;
    /// A key bigger than a call's budget, partly written: the next key to write. Its state at
    /// begin is in `saved` or in the map read (it is > last_written, so before_change() saves it
    /// like any key not written yet).
    std::optional<snapshot_progress> partial;
    /// Counts at begin, for the end record.
    std::size_t key_count = 0;
    std::size_t key_bytes = 0;
    std::size_t tombstone_count = 0;
    std::size_t client_count = 0;
  };

  void record_tombstone(std::string_view key);
  void publish_event(std::string_view event, std::string_view key);
  /// erase() for a key whose deadline passed: publishes "expired" after deleting it.
  void erase_expired(std::string_view key);
  /// The copy-on-write step: see the class comment. Call before `key` changes in any way. With
  /// `data_replaced` the caller promises to assign the entry's data next (put_string), so the
  /// save takes the old data instead of copying it; the metadata stays in place.
  void before_change(std::string_view key, bool data_replaced = false);
  /// Writes keys of the running snapshot until about `budget` bytes are in `out` past `start`;
  /// returns true when every key is written.
  bool write_snapshot_keys(std::string& out, std::size_t start, std::size_t budget);
  /// Writes more of snapshot_job::partial, stopping once `out` reaches `stop_at` bytes; returns
  /// true when that key is complete.
  bool continue_partial_key(key_writer& key_out, std::size_t stop_at);

  map_type keys_;
  /// Invariant: holds (deadline, name) exactly for the keys whose entry has expires_at_ms != 0.
  std::set<std::pair<std::uint64_t, std::string>> expiries_;
  /// Version of recently deleted keys. Invariant: no key in here is in keys_.
  std::map<std::string, std::uint64_t, std::less<>> tombstones_;
  /// Version of every absent key without a tombstone.
  std::uint64_t absent_version_ = 0;
  /// Source of versions. Invariant: >= every version handed out (absent_version_, tombstones,
  /// entries); the next one handed out is greater.
  std::uint64_t version_clock_ = 0;
  /// Draws made by draw(), so two draws in one millisecond differ.
  std::uint64_t draws_ = 0;
  std::uint64_t clock_ms_ = 0;
  /// Invariant: bytes_ == sum over keys_ of name.size() + entry.bytes.
  std::size_t bytes_ = 0;
  blocked_clients blocked_;
  std::map<std::string, std::string, std::less<>> scripts_;
  /// Invariant: the sum of the sizes of the scripts in scripts_.
  std::size_t scripts_bytes_ = 0;
  std::map<std::string, function_library, std::less<>> libraries_;
  /// Function name -> the name of the library that registers it. Invariant: exactly the
  /// functions of libraries_.
  std::map<std::string, std::string, std::less<>> function_index_;
  /// Invariant: the sum of the code sizes in libraries_.
  std::size_t libraries_bytes_ = 0;
  /// Messages queued by publish(): channel, payload, channel, payload, ...
  std::vector<std::string> outbox_;
  /// See set_notify_flags(). Not part of the state: never serialised, never read by a reply.
  int notify_flags_ = 0;
  /// See read_entropy(). Set only for the duration of one kv_state::read() call.
  mutable std::uint64_t read_entropy_ = 0;
  friend class ::prez::kv_state;
  /// The running snapshot, or nullptr.
  std::unique_ptr<snapshot_job> snapshot_;
};

} // namespace kv

/// A watched key and the version WATCH saw (kv_state::key_version).
using watched_key = std::pair<std::string, std::uint64_t>;

/// The reply a blocked client gets, when an entry serves it or times it out
/// (kv_state::take_served).
struct served_client {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::string reply;
  friend bool operator==(const served_client&, const served_client&) = default;
};

/// The key space seen through Redis commands. Movable (a running snapshot moves with it), not
/// copyable: take a snapshot to copy a state.
class kv_state {
public:
  /// Applies a command taken from the committed log and returns its RESP reply. Deterministic:
  /// depends only on the state, the arguments and `time_ms`, the leader's clock stamped in the
  /// entry. First deletes up to limits::kv_expire_per_apply_max keys whose deadline has passed
  /// (active expiry), then runs the command. Reads and local PING/ECHO are accepted too; an
  /// invalid command gets the error reply classify() gives and changes nothing.
  std::string apply(const std::vector<std::string>& argv, std::uint64_t time_ms);

  /// Applies command `seq` of client `client_id` from the log, as apply() does, except for the
  /// blocking commands (docs/architecture.md §3.6): one that finds no data blocks its client,
  /// returning nullopt; its reply comes later from take_served(), when an entry gives one of its
  /// keys data (clients served in the order they blocked) or times it out. A repeat of a command
  /// still blocked (a retry after a leader change) returns nullopt and changes nothing.
  /// PREZ.UNBLOCK <seq> [ERROR] (unblock_command) times out the client's blocked command `seq`
  /// (with ERROR: fails it with -UNBLOCKED, as CLIENT UNBLOCK ... ERROR), if it is still
  /// blocked, and answers :1, else :0.
  std::optional<std::string> apply_client(std::uint64_t client_id, std::uint64_t seq,
                                          const std::vector<std::string>& argv,
                                          std::uint64_t time_ms);
  /// The replies of blocked clients that the entries applied since the last call served or
  /// timed out, in that order. Every apply*() and advance_clock() can produce some.
  std::vector<served_client> take_served() { return std::exchange(served_, {}); }
  /// The messages the entries applied since the last call published, in order, as channel,
  /// payload, channel, payload, ... (PUBLISH: delivered on every node at the same position).
  std::vector<std::string> take_published() { return std::exchange(keys_.outbox_, {}); }
  /// Which keyspace notification classes to publish (kv::notify, D32): node-local, not part of
  /// the state; set by the state machine from notify-keyspace-events.
  void set_notify_flags(int flags) { keys_.set_notify_flags(flags); }
  /// Clients blocked now.
  std::size_t blocked_count() const { return keys_.blocked().size(); }
  /// The earliest deadline in the state: a key's expiry or a blocked client's deadline, nullopt
  /// when there is neither. Once the cluster clock reaches it, an applied entry (a clock entry
  /// will do) deletes the key or times the client out; the leader appends one when nothing else
  /// would (background expiry, docs/decisions.md D33). Still <= clock_ms() after an entry when
  /// active expiry hit its per-entry bound (limits::kv_expire_per_apply_max).
  std::optional<std::uint64_t> next_deadline_ms() const;
  /// Whether command `seq` of client `client_id` is blocked (applied, not answered yet).
  bool is_blocked(std::uint64_t client_id, std::uint64_t seq) const {
    return keys_.blocked().contains({client_id, seq});
  }

  /// Applies the commands of one MULTI/EXEC atomically, in order, and returns EXEC's reply: an
  /// array of their replies. When `watched` is given and any key's version differs from
  /// key_version() at apply time (after active expiry), nothing runs and the reply is the null
  /// array "*-1\r\n", as EXEC after a touched WATCH.
  std::string apply_transaction(const std::vector<std::vector<std::string>>& commands,
                                std::uint64_t time_ms,
                                const std::vector<watched_key>& watched = {});

  /// A clock entry (docs/expiry.md): advances the cluster clock to `time_ms` (never back) and runs
  /// bounded active expiry, as every applied entry does first.
  void advance_clock(std::uint64_t time_ms);

  /// Serves a read command from the current state and returns its RESP reply. Keys whose
  /// deadline is <= now_ms (the leader's clock) are absent; TTL is computed from now_ms. Never
  /// changes the state. A write command gets "-ERR internal error: '...' is not a read command"
  /// (a routing bug in the caller; writes go through apply()).
  std::string read(const std::vector<std::string>& argv, std::uint64_t now_ms) const;
  /// read() for a ReadIndex read: random reads (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER,
  /// RANDOMKEY) mix `entropy` into their seed, so repeated calls differ as in Redis; the state
  /// machine passes a fresh random number. Everything else answers as read().
  std::string read_random(const std::vector<std::string>& argv, std::uint64_t now_ms,
                          std::uint64_t entropy) const;
  /// read() at the cluster clock of the last applied entry: hides only keys already expired at
  /// that time. Prefer the overload with the leader's clock.
  std::string read(const std::vector<std::string>& argv) const;

  /// The WATCH version of `key` (see kv::keyspace::version()).
  std::uint64_t key_version(const std::string& key) const { return keys_.version(key); }

  /// Number of keys held, including expired keys not yet deleted.
  std::size_t size() const { return keys_.size(); }
  /// Bytes of keys plus values held (payload only, not allocator overhead).
  std::size_t bytes() const { return keys_.bytes(); }
  /// The key space itself (tests, INFO keyspace, snapshots).
  const kv::keyspace& keys() const { return keys_; }

  /// Starts a snapshot of this state plus `sessions` as they are now (between two applied
  /// entries); entries applied afterwards do not show in it. Costs O(tombstones + sessions);
  /// the keys follow in snapshot_next(). Precondition: !snapshot_running().
  void begin_snapshot(const client_sessions& sessions) { keys_.begin_snapshot(sessions); }
  /// Whether a snapshot is running (begun, neither complete nor aborted).
  bool snapshot_running() const { return keys_.snapshot_running(); }
  /// Appends about `bytes_max` more bytes of the snapshot to `out` (at least some progress per
  /// call; at most bytes_max plus one record of limits::snapshot_record_bytes plus one item: a
  /// key bigger than bytes_max is spread over calls); returns true when the snapshot is complete
  /// (no longer running) — `out` then ends it. Where calls end never changes the bytes.
  /// Precondition: snapshot_running().
  bool snapshot_next(std::string& out, std::size_t bytes_max) {
    return keys_.snapshot_next(out, bytes_max);
  }
  /// Drops a running snapshot (its saved copies are freed). No precondition.
  void abort_snapshot() { keys_.abort_snapshot(); }

private:
  friend class state_restorer;

  std::string run(const std::vector<std::string>& argv, std::uint64_t time_ms);
  /// What every entry does first: advances the cluster clock, runs bounded active expiry and
  /// times out blocked clients past their deadline. Returns the time to apply at.
  std::uint64_t begin_entry(std::uint64_t time_ms);
  /// Serves clients blocked on keys `argv` names (from argv[1]) that now hold data, and on the
  /// keys serving them fills in turn (BLMOVE's destination).
  void serve_blocked(const std::vector<std::string>& argv, std::uint64_t time_ms);
  /// Blocks the client of (client_id, seq) on call's keys.
  void block(std::uint64_t client_id, std::uint64_t seq, const std::vector<std::string>& argv,
             std::uint64_t timeout_ms, std::vector<std::string> keys, std::uint64_t time_ms);

  kv::keyspace keys_;
  /// Replies of blocked clients not yet taken (take_served()).
  std::vector<served_client> served_;
};

} // namespace prez
