#pragma once
// RESP3 (HELLO 3): every reply is built in RESP2 by the state machine and the gateway, then, for a
// connection that chose RESP3, rewritten here into the types Redis 7 uses for the same command:
// nulls become `_`, field/value lists maps (`%`), member lists sets (`~`), text reports verbatim
// strings (`=`). One conversion point, so no command needs two reply builders. Pure.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prez {

/// What a command's RESP2 reply becomes in RESP3, beyond nulls (which always become `_`).
enum class resp3_shape {
  plain,        ///< only nulls change
  map,          ///< the top-level array of pairs is a map (HGETALL, CONFIG GET, HELLO)
  set,          ///< the top-level array is a set (SMEMBERS, SINTER, SPOP with a count, ...)
  verbatim,     ///< the top-level bulk string is verbatim text (INFO, CLIENT INFO/LIST)
  command_info, ///< COMMAND / COMMAND INFO: flags, categories, tips, specs are sets
  command_docs, ///< COMMAND DOCS: nested maps, argument flags as sets
  exec,         ///< EXEC: each element converted by the shape of its queued command
  pairs,        ///< a flat field, value, ... array becomes an array of [field, value] pairs
                ///< (HRANDFIELD WITHVALUES)
  // Sorted sets (Redis 7.0 answers scores as doubles `,` in RESP3):
  score,        ///< the top-level bulk string is a double (ZSCORE, ZINCRBY, ZADD INCR)
  scores,       ///< each bulk string of the top-level array is a double (ZMSCORE)
  scored_pairs, ///< a flat member, score, ... array becomes an array of [member, double] pairs
                ///< (WITHSCORES, ZPOPMIN/ZPOPMAX with a count)
  scored_pair,  ///< a flat [member, score] keeps its shape, the score a double (ZPOPMIN key)
  zmpop,        ///< [key, [[member, score], ...]]: the scores are doubles (ZMPOP, BZMPOP)
  keyed_score,  ///< a flat [key, member, score]: the score a double (BZPOPMIN, BZPOPMAX)
  keyed_map,    ///< an array of [key, value] arrays becomes a map key -> value (XREAD)
};

/// The shape of the reply to `argv` (a whole command, name included, any case).
resp3_shape resp3_shape_of(const std::vector<std::string>& argv);

/// Rewrites one complete RESP2 reply into RESP3. `queued` are the shapes of an EXEC's queued
/// commands (used only with resp3_shape::exec). A reply that does not parse is returned as is.
std::string to_resp3(std::string_view resp2, resp3_shape shape,
                     const std::vector<resp3_shape>& queued = {});

/// One parsed RESP2 reply, viewing the text it was parsed from (which must outlive it). The one
/// RESP reply reader: the RESP3 rewrite here, the gateway's WATCH (the versions the state machine
/// answers, resp_gateway_actor.cpp) and prez-ctl (apps/prez_ctl.cpp) all read replies with it.
struct resp2_reply {
  char type = 0;            ///< '+', '-', ':', '$', '*'
  bool null = false;        ///< `$-1` or `*-1`
  std::string_view raw;     ///< the whole reply: header, payload, CRLFs
  std::string_view payload; ///< a bulk string's bytes; the text of a simple string, error, integer
  std::vector<resp2_reply> elements; ///< an array's elements
};

/// Parses `text` as exactly one complete RESP2 reply (arrays nested at most 64 deep); nullopt when
/// it is incomplete, malformed or followed by more bytes. Frame the reply first with
/// scan_resp_reply (resp_writer.hpp), which tells an incomplete reply from a malformed one.
std::optional<resp2_reply> parse_resp2_reply(std::string_view text);

} // namespace prez
