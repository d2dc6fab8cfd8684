#pragma once
// Rules of the Raft paper (Figure 2, §5.4) shared by the three role logics, as plain functions
// over the context. Pure: no clock, no I/O, no CAF (docs/architecture.md §6).

#include <cstdint>
#include <vector>

#include "actors/raft/raft_types.hpp"
#include "config/assert.hpp"

namespace prez::raft {

/// The assertion handler under its older name (config/assert.hpp), for callers in this namespace.
using ::prez::assert_fail;

} // namespace prez::raft

namespace prez::raft {

/// The `quorum`-th highest of `indexes`: the highest index that at least `quorum` of them have
/// reached (Raft §5.3, §5.4.2 commit rule before the term check). Precondition:
/// 1 <= quorum <= indexes.size().
std::uint64_t quorum_index(std::vector<std::uint64_t> indexes, std::size_t quorum);

/// What INFO shows of a role: `current`, with the context's term and indexes and `leader`.
raft_status status_of(const raft_context& context, role current, const node_name& leader);

/// Gives the log its bootstrap configuration (config.voters, no addresses) when neither a
/// snapshot nor a configuration entry gave it one. Every role logic calls it on construction.
void ensure_config(raft_context& context);

/// The configuration in effect (thesis §4.1: the newest in the log, committed or not).
inline const membership& config_of(const raft_context& context) {
  return context.log.config();
}

/// Every voter of the configuration in effect except self, sorted.
std::vector<node_name> voter_peers(const raft_context& context);

/// Votes (or acknowledgements) that make a majority of the voters in effect.
inline std::size_t quorum_of(const raft_context& context) {
  return config_of(context).quorum();
}

/// Whether this node may campaign: it is a voter of the configuration in effect, or that
/// configuration is not committed yet and it is a voter of the committed one (thesis §4.2.2: a
/// server its own uncommitted configuration removes may still be needed to elect a leader that
/// commits it; its own vote then does not count, counts_own_vote). Learners, nodes waiting to be
/// added and nodes whose removal is committed never campaign.
inline bool may_campaign(const raft_context& context) {
  const auto& self = context.config.self;
  if (config_of(context).is_voter(self)) return true;
  return context.log.config_index() > context.commit_index &&
         context.log.config_at(context.commit_index).is_voter(self);
}

/// Whether this node's own vote counts in its election: it is a voter of the configuration in
/// effect (the one whose majority the candidate needs).
inline bool counts_own_vote(const raft_context& context) {
  return config_of(context).is_voter(context.config.self);
}

/// Whether a message from `name` is heard at all: not from self, not from a node whose removal
/// is known committed here (the configuration at the commit index removed it).
/// Requests from nodes outside the configuration are processed (thesis §4.1: a node being added
/// must be reachable before its configuration is known to everyone); responses are used only
/// from nodes the role tracks.
bool heard_from(const raft_context& context, const node_name& name);

/// Figure 2, "all servers": a message with a higher term moves us to that term with no vote.
/// Records the change in `effects`. Returns whether the term changed.
bool maybe_adopt_term(raft_context& context, std::uint64_t term, raft_effects& effects);

/// Whether `message` may move our term forward. Pre-vote requests never do, nor do granted
/// pre-vote responses (they carry the term asked about, thesis §9.6); a refused pre-vote
/// response carries the voter's real term and does.
bool carries_real_term(const raft_message& message);

/// Builds a message from us to `to`.
raft_message make_message(const raft_context& context, const node_name& to, raft_payload payload);

/// The refusal of a request whose term is older than ours: it carries our term so the sender
/// learns it is stale (Figure 2). Precondition: `request` is a vote or append request.
raft_message stale_refusal(const raft_context& context, const raft_message& request);

/// Puts a reply where the order rules require: after the writes of this step when there are
/// any, at once otherwise.
void send_reply(raft_effects& effects, raft_message reply);

/// Real vote (Raft §5.2, §5.4.1): grant iff the request is for our current term, we have not
/// voted for someone else in it, and the candidate's log is at least as up-to-date as ours.
/// Precondition: the term has already been adopted (request.term <= context.hard.term).
bool should_grant_vote(const raft_context& context, const node_name& candidate,
                       const vote_request& request);

/// Pre-vote (thesis §9.6): would we vote for `candidate` at request.term? Never changes state.
/// `leader_known`: we know (and recently heard from) a leader in our current term.
bool should_grant_pre_vote(const raft_context& context, const node_name& candidate,
                           const vote_request& request, bool leader_known);

/// Answers a pre-vote request: granted responses carry the asked term, refusals our own term.
raft_message pre_vote_reply(const raft_context& context, const raft_message& request, bool granted);

/// Grants or refuses a real vote request of our current term; a grant records the vote
/// (hard state) and its reply waits for persistence. Returns whether the vote was granted.
/// Precondition: request.term == context.hard.term.
bool answer_vote_request(raft_context& context, const raft_message& request, raft_effects& effects);

/// The vote request a candidate sends; `pre_vote` asks about term + 1 without bumping it.
vote_request make_vote_request(const raft_context& context, bool pre_vote);

/// AppendEntries for a peer whose log is believed to match ours up to `next_index - 1`,
/// carrying entries from `next_index` (at most the configured count/bytes) when `with_entries`.
/// Precondition: 1 <= next_index <= log.last_index() + 1.
append_entries_request make_append_request(const raft_context& context, std::uint64_t next_index,
                                           bool with_entries, std::uint64_t heartbeat_seq);

/// Outcome of the follower side of AppendEntries (Figure 2, receiver implementation 2-5).
struct append_outcome {
  append_entries_response response;
  /// The request was malformed (entries not contiguous, terms out of order): drop it.
  bool malformed = false;
};

/// Follower side of AppendEntries of our current term: consistency check, conflict truncation,
/// append, commit. Updates the log and `effects` (writes, truncation, committed entries).
/// Precondition: request.term == context.hard.term.
append_outcome accept_append(raft_context& context, const append_entries_request& request,
                             raft_effects& effects);

/// Hands entries applied_index+1 .. commit_index to the state machine (effects.committed).
void emit_committed(raft_context& context, raft_effects& effects);

/// The log actor confirmed (index, term) durable: advances persisted_index when that entry is
/// still the one in our log (a report about a truncated entry is ignored).
void note_persisted(raft_context& context, std::uint64_t index, std::uint64_t term);

/// A snapshot of this node's state machine covering 1..snapshot.index is durable: remember it as
/// the newest and compact the in-memory log (and, through effects.compact_to, the disk) up to
/// snapshot.index - config.snapshot_trailing_entries, but never past the previous snapshot (so
/// the previous file plus the log can stand in for a damaged newest one). Older or equal
/// snapshots are ignored.
/// Precondition: snapshot.index <= applied_index.
void note_snapshot_taken(raft_context& context, const snapshot_ref& snapshot,
                         raft_effects& effects);

/// Checks the context invariants written on raft_context.
void check_context(const raft_context& context);

/// Election timeout drawn uniformly from [T, 2T) (Raft §5.2).
std::uint32_t random_election_timeout(raft_context& context);

} // namespace prez::raft
