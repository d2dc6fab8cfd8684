#pragma once
// Every limit prez enforces, in one place, each with the reason it exists.
// Pure header: no CAF, no I/O.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace prez::limits {

// --- RESP (client input) -----------------------------------------------------------------------

/// Longest inline command line (Redis: 64 KiB). Protects against a client that never sends "\r\n".
inline constexpr std::size_t inline_line_bytes_max = 64 * 1024;
/// Most elements in one multibulk array (Redis: 1M before 7.0, we keep it small: no command needs
/// more).
inline constexpr std::size_t multibulk_count_max = 1024 * 1024;
/// Longest single bulk string (Redis's proto-max-bulk-len default is 512 MiB; a replicated
/// store keeps entries small so one write cannot stall the log: 16 MiB).
inline constexpr std::size_t bulk_bytes_max = 16 * 1024 * 1024;
/// Total argument bytes of one replicated command: one command is one log entry, and a log record
/// must stay below log_record_bytes_max.
inline constexpr std::size_t command_bytes_max = bulk_bytes_max + 64 * 1024;
/// Before AUTH (when requirepass is set), as in Redis: a stranger cannot make the server buffer
/// much before proving it knows the password.
inline constexpr std::size_t unauthenticated_multibulk_count_max = 10;
inline constexpr std::size_t unauthenticated_bulk_bytes_max = 16 * 1024;
/// Bytes a parser reserves up front for a declared bulk or array, whatever the client declares.
inline constexpr std::size_t declared_reserve_bytes_max = 16 * 1024;
/// Unparsed bytes buffered per client (Redis: client-query-buffer-limit 1 GiB; ours bounds memory).
inline constexpr std::size_t query_buffer_bytes_max = 64 * 1024 * 1024;
/// Pending reply bytes per client before it is disconnected as too slow a reader.
inline constexpr std::size_t reply_buffer_bytes_max = 64 * 1024 * 1024;
/// Commands one connection may have in flight (pipelined, waiting for replies).
inline constexpr std::size_t pipelined_commands_max = 16 * 1024;
/// Bytes read from a client socket per read event.
inline constexpr std::size_t read_chunk_bytes = 16 * 1024;
/// RESP2 replies longer than this are rewritten to RESP3 (actors/gateway/resp3.hpp) by a worker
/// actor, not by the connection's broker: brokers run on the middleman's one I/O thread, which
/// also carries every peer link, and converting a reply of many MiB there would stall heartbeats
/// long enough to start an election. Below it the conversion costs less than the hand-off (a few
/// microseconds), so small replies stay inline.
inline constexpr std::size_t resp3_inline_bytes_max = 64 * 1024;

// --- peer wire (msgpack) -----------------------------------------------------------------------

/// Largest peer frame accepted (BASP frames are 32-bit; append batches are far below this).
inline constexpr std::size_t peer_frame_bytes_max = 64 * 1024 * 1024;
/// msgpack unpack limits for peer frames and log records: never let a declared size allocate.
inline constexpr std::size_t msgpack_array_max = 1024 * 1024;
inline constexpr std::size_t msgpack_map_max = 1024;
inline constexpr std::size_t msgpack_str_max = bulk_bytes_max + 1024;
inline constexpr std::size_t msgpack_bin_max = peer_frame_bytes_max;
inline constexpr std::size_t msgpack_ext_max = 0;
inline constexpr std::size_t msgpack_depth_max = 16;

/// A peer link's window (cluster-link-window, docs/decisions.md D4): bytes sent and not yet
/// acknowledged by the peer node. The default covers the leader's own in-flight appends; the
/// minimum keeps at least a few frames moving, the maximum keeps the bound meaningful.
inline constexpr std::uint64_t link_window_bytes_default = 64ull << 20;
inline constexpr std::uint64_t link_window_bytes_min = 64 * 1024;
inline constexpr std::uint64_t link_window_bytes_max = 1ull << 30;

/// Client connections open at once (maxclients in prez.conf): Redis's default, and a maximum
/// matching the open-file limit prez-server raises itself to (apps/prez_server.cpp).
inline constexpr std::uint64_t maxclients_default = 10000;
inline constexpr std::uint64_t maxclients_max = 1u << 20;

// --- Raft --------------------------------------------------------------------------------------

/// Entries per AppendEntries message.
inline constexpr std::size_t append_entries_max = 512;
/// Payload bytes per AppendEntries message (a single larger entry is still sent alone).
inline constexpr std::size_t append_bytes_max = 1024 * 1024;
/// AppendEntries messages in flight to one peer before the leader waits for acknowledgements
/// (CAF has no back-pressure on remote sends: this window is what bounds a slow peer's queue).
inline constexpr std::size_t inflight_appends_max = 64;
/// Bytes of proposals the leader accepts that are not yet committed; beyond it, writes wait.
inline constexpr std::size_t uncommitted_bytes_max = 64 * 1024 * 1024;
/// Snapshot triggers (snapshot-entries, snapshot-bytes in prez.conf): entries and entry-data bytes
/// applied since the last snapshot. The defaults keep a node's log (in memory and on disk) to a
/// few tens of MB while a snapshot of a small key space is taken every few seconds under full
/// write load; a large key space takes its snapshots at the byte trigger, no more often than its
/// own size is written again.
inline constexpr std::uint64_t snapshot_entries_default = 20000;
inline constexpr std::uint64_t snapshot_bytes_default = 64ull << 20;
inline constexpr std::uint64_t snapshot_entries_max = 1ull << 40;
inline constexpr std::uint64_t snapshot_bytes_max_setting = 1ull << 40;
/// A snapshot is taken only once the entry data applied since the last one is at least the last
/// snapshot's size divided by this (LogCabin's rule): a large key space is then not rewritten
/// whole every snapshot-entries writes, and the work of snapshots stays a bounded share of the
/// work of writes.
inline constexpr std::uint64_t snapshot_state_per_log_bytes = 4;
/// Entries kept before a snapshot's end (snapshot-trailing-entries; etcd keeps 5000, hashicorp/raft
/// 10240).
inline constexpr std::uint64_t snapshot_trailing_entries_default = 10000;
/// InstallSnapshot chunk size and chunks in flight per follower (each chunk is one peer frame, so
/// this sits well inside the peer link's window).
inline constexpr std::size_t snapshot_chunk_bytes = 1024 * 1024;
inline constexpr std::size_t snapshot_chunks_inflight_max = 4;
/// Backups (RAFT.SNAPSHOT FETCH / READ, docs/decisions.md D25): bytes one READ returns at most
/// (one bulk reply; a client asking more gets this much), snapshot files kept open for backup
/// clients at once (the least recently read is closed first), and how long one stays open without
/// a READ (an open file outlives its pruning, so an abandoned backup must not pin disk space).
inline constexpr std::size_t snapshot_read_bytes_max = 1024 * 1024;
inline constexpr std::size_t snapshot_exports_max = 8;
inline constexpr std::uint64_t snapshot_export_idle_ms = 60 * 1000;
/// RAFT.SNAPSHOT FETCH requests one state machine holds while it catches up to their index or
/// writes their snapshot; more are refused (each is an operator's backup, not a client load).
inline constexpr std::size_t snapshot_fetches_max = 64;
/// Bytes of state serialised per step of a snapshot: each step runs between batches of applied
/// entries, so this bounds how long one step delays them (a few milliseconds).
inline constexpr std::size_t snapshot_step_bytes = 1024 * 1024;

/// Proposals taken into one leader batch.
inline constexpr std::size_t proposal_batch_max = 1024;
/// ReadIndex requests waiting for one leader.
inline constexpr std::size_t pending_reads_max = 64 * 1024;
/// How long the session manager waits for the state machine to serve a read whose ReadIndex round
/// succeeded (it answers once it has applied up to the read's index). A healthy node applies
/// within milliseconds; past this the state machine is far behind (a long replay after a restart,
/// a huge snapshot being installed), and the client gets a retryable error rather than a
/// connection that hangs. Below the gateway's reply deadline (at least 11 s,
/// session_reply_deadline) so the session, not the gateway, gives the answer.
inline constexpr std::chrono::milliseconds state_machine_read_wait{10000};
/// Reads are served at the cluster clock, the largest time stamped into the log. Before a
/// ReadIndex round, a leader whose last stamp is at least this old appends a clock entry and
/// serves the round at or after it: expiry seen by reads lags the leader's clock by at most about
/// this much (plus a commit), and costs at most one small entry per this interval when only reads
/// arrive (docs/expiry.md).
inline constexpr std::uint64_t read_clock_refresh_ms = 20;
/// Background expiry (docs/decisions.md D33): once the earliest deadline in the state (a key's
/// expiry, a blocked client's deadline) has passed, a leader with no traffic appends a clock entry
/// so that it is deleted (and `expired` published) without waiting for a command. At most one
/// such entry is in flight, and they follow each other at least this far apart: a backlog larger
/// than limits::kv_expire_per_apply_max keys per entry drains at that many keys per interval, and
/// an idle cluster with due deadlines writes at most one small entry per interval.
inline constexpr std::uint64_t background_expiry_interval_ms = 20;

// --- storage -----------------------------------------------------------------------------------

/// How often freed heap memory is handed back to the OS (malloc_trim,
/// actors/storage/log_actor.cpp).
inline constexpr std::chrono::milliseconds memory_trim_interval{5000};

/// A log segment is closed and a new one opened once it exceeds this size. Compaction deletes
/// whole segments, so this is also about how much log a compacted node keeps on disk beyond what
/// its snapshots need (issue 8's target: a data dir under 64 MiB with a small key space).
inline constexpr std::size_t segment_bytes_max = 16 * 1024 * 1024;
/// The largest segment recovery accepts: earlier versions wrote segments of up to 64 MiB.
inline constexpr std::size_t segment_bytes_recovery_max = 64 * 1024 * 1024;
/// Largest log record accepted when reading a segment (a bigger length field is corruption).
inline constexpr std::size_t log_record_bytes_max = bulk_bytes_max * 2 + 4096;
/// Largest snapshot file (snapshot_file.hpp) written, received from a leader or read: the state
/// of a node holding its whole keyspace in memory, with room to spare. A follower receiving
/// InstallSnapshot chunks refuses to grow its file past it, so a confused or hostile leader cannot
/// fill the disk through one snapshot.
inline constexpr std::uint64_t snapshot_bytes_max = 64ull << 30;
/// Largest snapshot metadata (index, term, voters, learners, time, membership with addresses
/// and removed names): at most cluster_nodes_max members and removed_names_max names of at most
/// node_name_bytes_max bytes each, so a bigger length field is damage, refused before reading.
inline constexpr std::size_t snapshot_meta_bytes_max = 1024 * 1024;
/// Names of removed nodes a cluster remembers (names are never reused). Past it RAFT.NODE
/// REMOVE is refused: thousands of removals, years of operations, before it matters.
inline constexpr std::size_t removed_names_max = 4096;
/// Largest hard-state file read at start-up: it holds a term and a node name (a few dozen
/// bytes), so anything bigger is garbage and is refused without being read into memory.
inline constexpr std::size_t hard_state_bytes_max = 64 * 1024;

// --- config ------------------------------------------------------------------------------------

/// Longest line in prez.conf / nodes.conf.
inline constexpr std::size_t config_line_bytes_max = 4096;
/// Most voters in nodes.conf.
inline constexpr std::size_t cluster_nodes_max = 15;
/// Largest prez.conf / nodes.conf read from disk: a config is a few hundred bytes, so anything
/// bigger is a wrong path (a log segment, /dev/zero) and must not be read into memory.
inline constexpr std::size_t config_file_bytes_max = 1024 * 1024;
/// Longest node name: names appear in every log line, INFO reply and Raft message.
inline constexpr std::size_t node_name_bytes_max = 64;

// --- sessions ----------------------------------------------------------------------------------

/// Client commands waiting in one node's session manager.
inline constexpr std::size_t pending_commands_max = 256 * 1024;
/// Forwarded commands (or their answers) a session manager puts in one frame to a peer at most,
/// and their argument (or reply) bytes: a batch closes before it would pass either, so a frame
/// stays far below peer_frame_bytes_max (one command alone may reach command_bytes_max).
inline constexpr std::size_t forward_batch_count_max = 4096;
inline constexpr std::size_t forward_batch_bytes_max = 8 * 1024 * 1024;
/// Reply bytes the exactly-once table (client_sessions) keeps for one client. Every replica keeps
/// the table in memory, so one client's `MULTI; LRANGE big 0 -1; EXEC` must not pin a large reply
/// 128 times over. Write replies are a few bytes; a bigger reply is not kept, and a retry of its
/// command answers -UNKNOWN instead of running it again.
inline constexpr std::size_t session_reply_bytes_per_client_max = 1024 * 1024;
/// Reply bytes the exactly-once table keeps over all clients (up to 64 Ki of them): without it,
/// 100 clients at the per-client bound already pin 100 MiB on every replica. Past it the oldest
/// kept reply is dropped first, and a retry of its command answers -UNKNOWN.
inline constexpr std::size_t session_reply_bytes_max = 64 * 1024 * 1024;

// --- key-value state (appended by the kv state machine, issue 3) --------------------------------

/// Longest string value APPEND/SETRANGE may build: Redis's proto-max-bulk-len default, so the
/// error text ("string exceeds maximum allowed size (proto-max-bulk-len)") means the same.
inline constexpr std::size_t string_value_bytes_max = 512 * 1024 * 1024;
/// One stream entry as a snapshot item (stream::entry_item: 24 bytes, then a 4-byte length per
/// field and value): it must fit one msgpack str; XADD refuses a bigger entry as Redis refuses
/// one too large for a listpack ("Elements are too large to be stored").
inline constexpr std::size_t stream_entry_bytes_max = bulk_bytes_max;
/// Expired keys deleted by active expiry at the start of one apply: bounds the work a single
/// entry can cause; the rest go lazily on access or in later entries (reads hide them anyway).
inline constexpr std::size_t kv_expire_per_apply_max = 64;
/// A client blocked with a timeout is timed out by its own node (PREZ.UNBLOCK through the log);
/// if that node died, by the first entry whose cluster clock passes the timeout plus this much
/// (kv_state::begin_entry). The margin keeps a leader whose clock runs ahead from timing out a
/// live client before its node does.
inline constexpr std::uint64_t blocked_deadline_grace_ms = 10'000;
/// Deleted keys whose WATCH version is remembered; past it all absent keys get a new version at
/// once (a WATCH may then abort needlessly, never wrongly succeed).
inline constexpr std::size_t kv_tombstones_max = 64 * 1024;
/// Elements SRANDMEMBER and ZRANDMEMBER with a negative count may return (Redis has no such cap: a
/// count of -1e9 would build a reply of billions of elements on the leader).
inline constexpr std::size_t kv_random_reply_elements_max = 1024 * 1024;

/// Bytes of LCS's dynamic-programming table (4 bytes per cell, (len1 + 1) * (len2 + 1) cells).
/// Redis bounds it by proto-max-bulk-len (512 MiB); prez refuses above 128 MiB so one read cannot
/// take a node's memory (two strings of about 5,800 bytes each reach it).
inline constexpr std::size_t lcs_table_bytes_max = 128 * 1024 * 1024;

// --- state snapshots (issue 8, actors/state_machine/state_restore.hpp) ---------------------------

/// Items (list elements, hash fields and values, set members, string pieces, tombstones) in one
/// snapshot record; a bigger value continues in further records. It is also the msgpack array
/// limit when restoring: a damaged array header can then make msgpack allocate at most this many
/// objects (24 bytes each) per nesting level, instead of limits::msgpack_array_max.
inline constexpr std::size_t snapshot_record_items_max = 4096;
/// A record is closed once its items reach this many bytes (before snapshot_record_items_max),
/// so a restorer buffers little more than this per record, except for one long item.
inline constexpr std::size_t snapshot_record_bytes = 64 * 1024;
/// A string value is written in pieces of at most this many bytes: values may reach
/// string_value_bytes_max (512 MiB), far above the msgpack str limit (msgpack_str_max).
inline constexpr std::size_t snapshot_string_piece_bytes = 64 * 1024;
/// Nesting of snapshot records: a record array holding one array of items.
inline constexpr std::size_t snapshot_depth_max = 2;

// --- audit log (audit-log in prez.conf; docs/architecture.md §5) --------------------------------

/// audit-log-max-bytes: the file is rotated before it would grow past this (0: never). 64 MiB
/// keeps one file quick to grep and to copy; audit-log-keep older files are kept beside it.
inline constexpr std::uint64_t audit_log_max_bytes_default = 64ull << 20;
inline constexpr std::uint64_t audit_log_max_bytes_max = 1ull << 40;
inline constexpr std::uint64_t audit_log_keep_default = 5;
/// Renames per rotation grow with it; a thousand files of the default size is 64 GiB already.
inline constexpr std::uint64_t audit_log_keep_max = 1000;
/// Bytes of an existing file's tail read at start to find the last index written: many lines of
/// ordinary commands. Only a line (or a transaction) longer than that makes the reader look
/// further back, up to audit_log_tail_bytes_max: the longest a line can be (every byte of the
/// largest command escaped to \xhh) plus room for its transaction's first line.
inline constexpr std::size_t audit_log_tail_bytes = 64 * 1024;
inline constexpr std::size_t audit_log_tail_bytes_max = 4 * command_bytes_max + 64 * 1024;
/// Bytes of lines the state machine has sent to the audit log actor and not yet seen written:
/// past it (a disk much slower than the applied commands), lines are dropped and the gap is
/// written as a comment, so a slow disk never grows the state machine's memory.
inline constexpr std::uint64_t audit_log_pending_bytes_max = 64ull << 20;

/// metrics-port (HTTP): a request's line and headers together. Prometheus and curl send a few
/// hundred bytes; past this the connection gets 400 and is closed (no request body is read).
inline constexpr std::size_t http_request_header_bytes_max = 8 * 1024;
/// metrics-port connections open at once: a scraper or two and a load balancer's probes. One
/// more is closed at once, so a flood of idle connections costs a bounded amount of memory.
inline constexpr std::uint64_t http_connections_max = 64;
/// metrics-port: a connection that has not sent a whole request by then is closed.
inline constexpr std::uint64_t http_request_timeout_ms = 10000;
/// /health: a node is healthy only while its state machine trails the commit index it knows by
/// at most this many entries (a node replaying a long log or a large snapshot is not yet).
inline constexpr std::uint64_t health_apply_lag_entries_max = 1000;

/// Lua scripts (docs/scripting.md): a run stops after this many Lua VM instructions, counted the
/// same on every replica (under a second of one core on the test machine), instead of a time,
/// which would stop it at a different point on each.
inline constexpr std::uint64_t script_instructions_max = 100'000'000;
/// Bytes of Lua memory one run may hold (its state, strings and tables): bounds a runaway
/// script, and it fails at the same allocation on every replica.
inline constexpr std::size_t script_memory_bytes_max = 64ull << 20;
/// Scripts kept for EVALSHA (EVAL and SCRIPT LOAD add to it, SCRIPT FLUSH empties it). Past it
/// SCRIPT LOAD is refused and EVAL runs without keeping its script; the cache is replicated
/// state and part of every snapshot, so it must stay bounded.
inline constexpr std::size_t scripts_cached_max = 10'000;
/// Bytes of scripts kept, for the same reason.
inline constexpr std::size_t scripts_cached_bytes_max = 64ull << 20;

} // namespace prez::limits
