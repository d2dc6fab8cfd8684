#pragma once
// RESP3 (HELLO 3): every reply is built in RESP2 by the state machine and the gateway, then, for a
// connection that chose RESP3, rewritten here into the types Redis 7 uses for the same command:
// nulls become `_`, field/value lists maps (`%`), member lists sets (`~`), text reports verbatim
// strings (`=`). One conversion point, so no command needs two reply builders. Pure.
//
// The one exception is a script's reply (EVAL, FCALL, ...): a Lua script may return RESP3 types
// (a {map = ...} table, {double = ...}, redis.setresp(3)'s booleans), which RESP2 cannot carry
// without losing them. The state machine writes those as RESP3 (everything else in the reply stays
// RESP2), and the gateway downgrades them for a RESP2 connection with to_resp2 (docs/decisions.md,
// "A script's reply carries its RESP3 types").

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
  keyed_map,    ///< an array of [key, value] arrays becomes a map key -> value (XREAD,
                ///< XREADGROUP)
  map_list,     ///< each element of the top-level array is a map (XINFO GROUPS, CONSUMERS)
  stream_info,  ///< XINFO STREAM: a map; with FULL its groups and their consumers are maps
  script,       ///< a script's reply (EVAL, EVALSHA, FCALL and their _RO forms): may carry RESP3
                ///< types, which stay for RESP3 and are downgraded for RESP2 (to_resp2)
};

/// The shape of the reply to `argv` (a whole command, name included, any case).
resp3_shape resp3_shape_of(const std::vector<std::string>& argv);

/// Rewrites one complete RESP2 reply into RESP3. `queued` are the shapes of an EXEC's queued
/// commands (used only with resp3_shape::exec). A reply that does not parse is returned as is.
std::string to_resp3(std::string_view resp2, resp3_shape shape,
                     const std::vector<resp3_shape>& queued = {});

/// Whether a reply to a command of `shape` (an EXEC's: with its `queued` shapes) may carry RESP3
/// types that a RESP2 connection must get downgraded (to_resp2): a script's reply.
bool may_hold_resp3(resp3_shape shape, const std::vector<resp3_shape>& queued = {});

/// Rewrites one complete reply that may hold RESP3 types into RESP2, as Redis 7.0 answers a RESP2
/// client: `_` is `$-1`, `#t`/`#f` are `:1`/`:0`, a double, big number or verbatim string a bulk
/// string (the verbatim's text without its format), a map a flat array of its keys and values, a
/// set an array. A RESP2 reply comes back unchanged, as does one that does not parse.
std::string to_resp2(std::string_view reply);

/// One parsed RESP2 reply, viewing the text it was parsed from (which must outlive it). The one
/// RESP reply reader: the RESP3 rewrite here, the gateway's WATCH (the versions the state machine
/// answers, resp_gateway_actor.cpp), EXEC's splice, prez-ctl (apps/prez_ctl.cpp) and a script's
/// redis.call (lua_script.cpp) all read replies with it. It also reads the RESP3 types prez
/// writes (a script's reply; to_resp3's output, which a RESP3 script reads).
struct resp2_reply {
  char type = 0;        ///< '+', '-', ':', '$', '*'; RESP3: '_', '#', ',', '(', '=', '%', '~'
  bool null = false;    ///< `$-1`, `*-1` or `_`
  std::string_view raw; ///< the whole reply: header, payload, CRLFs
  /// A bulk string's bytes; the text of a simple string, error, integer, double (`,`) or big
  /// number (`(`); "t" or "f" for a boolean (`#`); a verbatim string's "fmt:text" (`=`).
  std::string_view payload;
  std::vector<resp2_reply> elements; ///< an array's or set's elements; a map's keys and values
};

/// Parses `text` as exactly one complete reply (aggregates nested at most 64 deep); nullopt when
/// it is incomplete, malformed or followed by more bytes. Frame the reply first with
/// scan_resp_reply (resp_writer.hpp), which tells an incomplete reply from a malformed one.
std::optional<resp2_reply> parse_resp2_reply(std::string_view text);

} // namespace prez
