#include "actors/gateway/command_docs.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include "actors/gateway/resp_writer.hpp"

namespace prez {

namespace {

struct command_doc {
  std::string_view name; ///< lowercase; a subcommand as "parent|sub"
  std::string_view group;
  std::string_view since; ///< the Redis version that introduced the command
  std::string_view summary;
  std::string_view syntax; ///< the arguments, in the language of command_docs.hpp
};

/// Sorted by name (asserted below).
constexpr std::array docs = {
    command_doc{"append", "string", "2.0.0", "Appends a string to the value of a key.",
                "key value"},
    command_doc{"auth", "connection", "1.0.0", "Authenticates the connection.",
                "[username] password"},
    command_doc{"bitcount", "bitmap", "2.6.0",
                "Counts the number of set bits (population counting) in a string.",
                "key [range=start#integer end#integer [unit=BYTE|BIT]]"},
    command_doc{"bitfield", "bitmap", "3.2.0",
                "Reads, sets and increments integer fields of any width in a string.",
                "key [GET:encoding offset] [SET:encoding offset value#integer] "
                "[INCRBY:encoding offset increment#integer] [OVERFLOW (overflow=WRAP|SAT|FAIL)]"},
    command_doc{"bitfield_ro", "bitmap", "6.0.0", "Reads integer fields of a string.",
                "key [GET:encoding offset]"},
    command_doc{"bitop", "bitmap", "2.6.0",
                "Performs bitwise operations on multiple strings, and stores the result.",
                "(operation=AND|OR|XOR|NOT) destkey key..."},
    command_doc{
        "bitpos", "bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string.",
        "key bit#integer [range=start#integer [end-unit-block=end#integer [unit=BYTE|BIT]]]"},
    command_doc{"blmove", "list", "6.2.0",
                "Pops an element from a list, pushes it to another list and returns it; blocks "
                "until one is available.",
                "source destination (wherefrom=LEFT|RIGHT) (whereto=LEFT|RIGHT) timeout#double"},
    command_doc{"blmpop", "list", "7.0.0",
                "Pops elements from the first non-empty list; blocks until one is available.",
                "timeout#double numkeys#integer key... (where=LEFT|RIGHT) [COUNT:count]"},
    command_doc{"blpop", "list", "2.0.0",
                "Removes and returns the first element of the first non-empty list; blocks "
                "until one is available.",
                "key... timeout#double"},
    command_doc{"brpop", "list", "2.0.0",
                "Removes and returns the last element of the first non-empty list; blocks "
                "until one is available.",
                "key... timeout#double"},
    command_doc{"brpoplpush", "list", "2.2.0",
                "Pops an element from a list, pushes it to another list and returns it; blocks "
                "until one is available.",
                "source destination timeout#double"},
    command_doc{"bzmpop", "sorted-set", "7.0.0",
                "Removes and returns members by score from the first non-empty sorted set; "
                "blocks until one is available.",
                "timeout#double numkeys#integer key... (where=MIN|MAX) [COUNT:count]"},
    command_doc{"bzpopmax", "sorted-set", "5.0.0",
                "Removes and returns the member with the highest score from the first non-empty "
                "sorted set; blocks until one is available.",
                "key... timeout#double"},
    command_doc{"bzpopmin", "sorted-set", "5.0.0",
                "Removes and returns the member with the lowest score from the first non-empty "
                "sorted set; blocks until one is available.",
                "key... timeout#double"},
    command_doc{"client", "connection", "2.4.0", "Inspects and names client connections.", ""},
    command_doc{"client|getname", "connection", "2.6.9", "Returns the connection's name.", ""},
    command_doc{"client|id", "connection", "5.0.0", "Returns the connection's unique id.", ""},
    command_doc{"client|info", "connection", "6.2.0", "Describes this connection.", ""},
    command_doc{"client|list", "connection", "2.4.0",
                "Lists client connections (prez shows the caller's own).",
                "[TYPE:client-type] [ID:client-id#integer...]"},
    command_doc{"client|reply", "connection", "3.2.0",
                "Turns this connection's replies on or off, or skips the next one.",
                "(action=ON|OFF|SKIP)"},
    command_doc{"client|setinfo", "connection", "7.2.0",
                "Records the client library's name or version.",
                "(attr=LIB-NAME:libname|LIB-VER:libver)"},
    command_doc{"client|setname", "connection", "2.6.9", "Names the connection.",
                "connection-name"},
    command_doc{"command", "server", "2.8.13", "Describes the commands this server answers.", ""},
    command_doc{"command|count", "server", "2.8.13", "Counts the commands.", ""},
    command_doc{"command|docs", "server", "7.0.0", "Documents commands: summary and arguments.",
                "[command-name...]"},
    command_doc{"command|info", "server", "2.8.13", "Describes commands: arity, flags, keys.",
                "[command-name...]"},
    command_doc{"command|list", "server", "7.0.0", "Lists the command names.", ""},
    command_doc{"config", "server", "2.0.0",
                "Reads and changes this node's configuration parameters.", ""},
    command_doc{"config|get", "server", "2.0.0",
                "Returns configuration parameters matching glob patterns.", "parameter..."},
    command_doc{"config|resetstat", "server", "2.0.0", "Resets INFO's statistics on this node.",
                ""},
    command_doc{"config|rewrite", "server", "2.8.0",
                "Writes the values set by CONFIG SET into this node's prez.conf.", ""},
    command_doc{"config|set", "server", "2.0.0",
                "Sets configuration parameters on this node only (never replicated).",
                "(data=parameter value)..."},
    command_doc{"copy", "generic", "6.2.0", "Copies the value of a key to a new key.",
                "source#key destination#key [DB:destination-db#integer] [REPLACE]"},
    command_doc{"dbsize", "server", "1.0.0", "Counts the keys.", ""},
    command_doc{"decr", "string", "1.0.0", "Subtracts one from an integer value.", "key"},
    command_doc{"decrby", "string", "1.0.0", "Subtracts a number from an integer value.",
                "key decrement"},
    command_doc{"del", "generic", "1.0.0", "Deletes keys.", "key..."},
    command_doc{"discard", "transactions", "2.0.0", "Drops the commands queued after MULTI.", ""},
    command_doc{"dump", "generic", "2.6.0",
                "Returns the value of a key in prez's own serialized format (for RESTORE).", "key"},
    command_doc{"echo", "connection", "1.0.0", "Returns its argument.", "message"},
    command_doc{"eval", "scripting", "2.6.0",
                "Runs a Lua script atomically on every replica, through the log.",
                "script numkeys#integer [key...] [arg...]"},
    command_doc{"eval_ro", "scripting", "7.0.0",
                "Runs a read-only Lua script on a linearizable read (never in the log).",
                "script numkeys#integer [key...] [arg...]"},
    command_doc{"evalsha", "scripting", "2.6.0", "Runs a Lua script kept in the script cache.",
                "sha1 numkeys#integer [key...] [arg...]"},
    command_doc{"evalsha_ro", "scripting", "7.0.0",
                "Runs a read-only Lua script kept in the script cache.",
                "sha1 numkeys#integer [key...] [arg...]"},
    command_doc{"exec", "transactions", "1.2.0",
                "Applies the queued commands as one atomic log entry.", ""},
    command_doc{"exists", "generic", "1.0.0", "Counts how many of the keys exist.", "key..."},
    command_doc{"expire", "generic", "1.0.0", "Sets a key's time to live in seconds.",
                "key seconds [condition=NX|XX|GT|LT]"},
    command_doc{"expireat", "generic", "1.2.0", "Sets a key's expiry as a Unix time in seconds.",
                "key unix-time-seconds [condition=NX|XX|GT|LT]"},
    command_doc{"expiretime", "generic", "7.0.0", "Returns a key's expiry as Unix seconds.", "key"},
    command_doc{"fcall", "scripting", "7.0.0", "Runs a function of a loaded library.",
                "function numkeys#integer [key...] [arg...]"},
    command_doc{"fcall_ro", "scripting", "7.0.0",
                "Runs a no-writes function on a linearizable read (never in the log).",
                "function numkeys#integer [key...] [arg...]"},
    command_doc{"flushall", "server", "1.0.0", "Deletes every key.", "[flush-type=ASYNC|SYNC]"},
    command_doc{"flushdb", "server", "1.0.0", "Deletes every key.", "[flush-type=ASYNC|SYNC]"},
    command_doc{"function", "scripting", "7.0.0",
                "Manages the replicated Redis Functions libraries.", ""},
    command_doc{"function|delete", "scripting", "7.0.0", "Deletes a library and its functions.",
                "library-name"},
    command_doc{"function|dump", "scripting", "7.0.0",
                "Refused: prez has no function dump format (use FUNCTION LIST WITHCODE).", ""},
    command_doc{"function|flush", "scripting", "7.0.0", "Deletes every library on every node.",
                "[flush-type=ASYNC|SYNC]"},
    command_doc{"function|help", "scripting", "7.0.0", "Lists the FUNCTION subcommands.", ""},
    command_doc{"function|kill", "scripting", "7.0.0",
                "Answers NOTBUSY: prez functions stop at their instruction limit.", ""},
    command_doc{"function|list", "scripting", "7.0.0", "Lists the libraries and their functions.",
                "[LIBRARYNAME:library-name-pattern] [WITHCODE]"},
    command_doc{"function|load", "scripting", "7.0.0",
                "Loads a library on every node, through the log.", "[REPLACE] function-code"},
    command_doc{"function|restore", "scripting", "7.0.0",
                "Refused: prez has no function dump format.", "serialized-value"},
    command_doc{"function|stats", "scripting", "7.0.0", "Counts the libraries and functions.", ""},
    command_doc{"get", "string", "1.0.0", "Returns the string value of a key.", "key"},
    command_doc{"getbit", "bitmap", "2.2.0", "Returns a bit value by offset.",
                "key offset#integer"},
    command_doc{"getdel", "string", "6.2.0", "Returns a string value and deletes its key.", "key"},
    command_doc{"getex", "string", "6.2.0", "Returns a string value and changes its expiry.",
                "key [expiration=EX:seconds|PX:milliseconds|EXAT:unix-time-seconds|"
                "PXAT:unix-time-milliseconds|PERSIST]"},
    command_doc{"getrange", "string", "2.4.0", "Returns a substring of a string value.",
                "key start end"},
    command_doc{"getset", "string", "1.0.0", "Sets a string value and returns the old one.",
                "key value"},
    command_doc{"hdel", "hash", "2.0.0", "Deletes fields from a hash.", "key field..."},
    command_doc{"hello", "connection", "6.0.0",
                "Handshakes: protocol version, authentication, connection name.",
                "[arguments=protover#integer [AUTH:username password] "
                "[SETNAME:clientname]]"},
    command_doc{"hexists", "hash", "2.0.0", "Tells whether a hash has a field.", "key field"},
    command_doc{"hget", "hash", "2.0.0", "Returns the value of a hash field.", "key field"},
    command_doc{"hgetall", "hash", "2.0.0", "Returns every field and value of a hash.", "key"},
    command_doc{"hincrby", "hash", "2.0.0", "Adds an integer to a hash field.",
                "key field increment"},
    command_doc{"hincrbyfloat", "hash", "2.6.0", "Adds a floating point number to a hash field.",
                "key field increment#double"},
    command_doc{"hkeys", "hash", "2.0.0", "Returns the fields of a hash.", "key"},
    command_doc{"hlen", "hash", "2.0.0", "Counts the fields of a hash.", "key"},
    command_doc{"hmget", "hash", "2.0.0", "Returns the values of hash fields.", "key field..."},
    command_doc{"hmset", "hash", "2.0.0", "Sets hash fields (old form of HSET).",
                "key (data=field value)..."},
    command_doc{"hrandfield", "hash", "6.2.0", "Returns one or more random fields from a hash.",
                "key [count#integer [WITHVALUES]]"},
    command_doc{"hscan", "hash", "2.8.0", "Iterates over the fields and values of a hash.",
                "key cursor [MATCH:pattern] [COUNT:count]"},
    command_doc{"hset", "hash", "2.0.0", "Sets hash fields; returns how many were new.",
                "key (data=field value)..."},
    command_doc{"hsetnx", "hash", "2.0.0", "Sets a hash field only if it does not exist.",
                "key field value"},
    command_doc{"hstrlen", "hash", "3.2.0", "Returns the length of a hash field's value.",
                "key field"},
    command_doc{"hvals", "hash", "2.0.0", "Returns the values of a hash.", "key"},
    command_doc{"incr", "string", "1.0.0", "Adds one to an integer value.", "key"},
    command_doc{"incrby", "string", "1.0.0", "Adds a number to an integer value.", "key increment"},
    command_doc{"incrbyfloat", "string", "2.6.0", "Adds a floating point number to a value.",
                "key increment#double"},
    command_doc{"info", "server", "1.0.0", "Reports on the server, its clients and Raft.",
                "[section...]"},
    command_doc{"keys", "generic", "1.0.0", "Returns the keys matching a glob pattern.", "pattern"},
    command_doc{"lcs", "string", "7.0.0", "Finds the longest common substring.",
                "key1#key key2#key [LEN] [IDX] [MINMATCHLEN:min-match-len#integer] [WITHMATCHLEN]"},
    command_doc{"lindex", "list", "1.0.0", "Returns a list element by its index.", "key index"},
    command_doc{"linsert", "list", "2.2.0", "Inserts an element before or after another.",
                "key (where=BEFORE|AFTER) pivot element"},
    command_doc{"llen", "list", "1.0.0", "Returns the length of a list.", "key"},
    command_doc{"lmove", "list", "6.2.0", "Pops an element from one list and pushes it to another.",
                "source destination (wherefrom=LEFT|RIGHT) (whereto=LEFT|RIGHT)"},
    command_doc{"lmpop", "list", "7.0.0", "Pops elements from the first non-empty list.",
                "numkeys#integer key... (where=LEFT|RIGHT) [COUNT:count]"},
    command_doc{"lpop", "list", "1.0.0", "Removes and returns the first elements of a list.",
                "key [count]"},
    command_doc{"lpos", "list", "6.0.6", "Returns the positions of matching list elements.",
                "key element [RANK:rank] [COUNT:num-matches] [MAXLEN:len]"},
    command_doc{"lpush", "list", "1.0.0", "Prepends elements to a list.", "key element..."},
    command_doc{"lpushx", "list", "2.2.0", "Prepends elements to an existing list.",
                "key element..."},
    command_doc{"lrange", "list", "1.0.0", "Returns a range of list elements.", "key start stop"},
    command_doc{"lrem", "list", "1.0.0", "Removes elements equal to a value from a list.",
                "key count element"},
    command_doc{"lset", "list", "1.0.0", "Sets a list element by its index.", "key index element"},
    command_doc{"ltrim", "list", "1.0.0", "Keeps only a range of a list.", "key start stop"},
    command_doc{"memory", "server", "4.0.0",
                "USAGE only: prez's estimate of the bytes a key takes (name, value, a fixed "
                "overhead).",
                "USAGE key [SAMPLES:count#integer]"},
    command_doc{"mget", "string", "1.0.0", "Returns the string values of keys.", "key..."},
    command_doc{"mset", "string", "1.0.1", "Sets several string values at once.",
                "(data=key value)..."},
    command_doc{"msetnx", "string", "1.0.1",
                "Sets several string values only if none of the keys exists.",
                "(data=key value)..."},
    command_doc{"multi", "transactions", "1.2.0", "Starts queueing a transaction.", ""},
    command_doc{"object", "generic", "2.2.3", "A container for object introspection commands.", ""},
    command_doc{"object|encoding", "generic", "2.2.3",
                "Returns the internal encoding of a value (the name Redis uses for the closest "
                "representation).",
                "key"},
    command_doc{"object|freq", "generic", "4.0.0",
                "Returns the logarithmic access frequency counter (prez has no LFU policy).",
                "key"},
    command_doc{"object|help", "generic", "6.2.0", "Returns helpful text about the subcommands.",
                ""},
    command_doc{"object|idletime", "generic", "2.2.3",
                "Returns the time since last access (prez tracks none: always 0).", "key"},
    command_doc{"object|refcount", "generic", "2.2.3",
                "Returns the reference count of a value (always 1 in prez).", "key"},
    command_doc{"persist", "generic", "2.2.0", "Removes a key's expiry.", "key"},
    command_doc{"pexpire", "generic", "2.6.0", "Sets a key's time to live in milliseconds.",
                "key milliseconds [condition=NX|XX|GT|LT]"},
    command_doc{"pexpireat", "generic", "2.6.0",
                "Sets a key's expiry as a Unix time in milliseconds.",
                "key unix-time-milliseconds [condition=NX|XX|GT|LT]"},
    command_doc{"pexpiretime", "generic", "7.0.0", "Returns a key's expiry as Unix milliseconds.",
                "key"},
    command_doc{"ping", "connection", "1.0.0", "Answers PONG, or echoes its argument.",
                "[message]"},
    command_doc{"psetex", "string", "2.6.0", "Sets a string value with a time to live in ms.",
                "key milliseconds value"},
    command_doc{"psubscribe", "pubsub", "2.0.0",
                "Listens for messages on channels that match patterns.", "pattern..."},
    command_doc{"pttl", "generic", "2.6.0", "Returns a key's time to live in milliseconds.", "key"},
    command_doc{"publish", "pubsub", "2.0.0",
                "Posts a message to a channel, through the log to every node; answers how many "
                "clients of this node received it.",
                "channel message"},
    command_doc{"pubsub", "pubsub", "2.8.0", "Inspects this node's channels and subscriptions.",
                ""},
    command_doc{"pubsub|channels", "pubsub", "2.8.0",
                "Returns the channels with subscribers on this node.", "[pattern]"},
    command_doc{"pubsub|help", "pubsub", "6.2.0", "Describes the PUBSUB subcommands.", ""},
    command_doc{"pubsub|numpat", "pubsub", "2.8.0",
                "Returns the number of patterns subscribed to on this node.", ""},
    command_doc{"pubsub|numsub", "pubsub", "2.8.0",
                "Returns the number of subscribers of channels on this node.", "[channel...]"},
    command_doc{"punsubscribe", "pubsub", "2.0.0", "Stops listening on patterns.", "[pattern...]"},
    command_doc{"quit", "connection", "1.0.0", "Closes the connection.", ""},
    command_doc{"raft.node", "server", "0.2.0", "Changes or lists the cluster's members.", ""},
    command_doc{"raft.node|add", "server", "0.2.0",
                "Adds a node as a learner; it becomes a voter once caught up unless LEARNER.",
                "name address [LEARNER]"},
    command_doc{"raft.node|list", "server", "0.2.0",
                "Lists the members: name, cluster address, voter/learner/joining.", ""},
    command_doc{"raft.node|remove", "server", "0.2.0",
                "Removes a node; its name is never used again. The leader may remove itself.",
                "name"},
    command_doc{"raft.snapshot", "server", "0.1.0",
                "Takes a snapshot of this node now and compacts its log; +OK once it is durable. "
                "FETCH: a durable snapshot holding every write acknowledged before it, as "
                "[index, term, bytes]; READ index offset count: up to 1 MiB of its file.",
                ""},
    command_doc{"raft.transfer", "server", "0.2.0",
                "Hands leadership to a voter once it has caught up (TimeoutNow); +OK when handed.",
                "name"},
    command_doc{"randomkey", "generic", "1.0.0", "Returns a key chosen at random.", ""},
    command_doc{"rename", "generic", "1.0.0", "Renames a key.", "key newkey"},
    command_doc{"renamenx", "generic", "1.0.0", "Renames a key if the new name is free.",
                "key newkey"},
    command_doc{"reset", "connection", "6.2.0", "Returns the connection to its initial state.", ""},
    command_doc{"restore", "generic", "2.6.0",
                "Creates a key from a DUMP payload (prez's own format); IDLETIME and FREQ are "
                "accepted and ignored.",
                "key ttl#integer serialized-value [REPLACE] [ABSTTL] [IDLETIME:seconds#integer] "
                "[FREQ:frequency#integer]"},
    command_doc{"rpop", "list", "1.0.0", "Removes and returns the last elements of a list.",
                "key [count]"},
    command_doc{"rpoplpush", "list", "1.2.0",
                "Pops the last element of a list and prepends it to another.",
                "source destination"},
    command_doc{"rpush", "list", "1.0.0", "Appends elements to a list.", "key element..."},
    command_doc{"rpushx", "list", "2.2.0", "Appends elements to an existing list.",
                "key element..."},
    command_doc{"sadd", "set", "1.0.0", "Adds members to a set.", "key member..."},
    command_doc{"scan", "generic", "2.8.0", "Iterates over the keys.",
                "cursor [MATCH:pattern] [COUNT:count] [TYPE:type]"},
    command_doc{"scard", "set", "1.0.0", "Counts the members of a set.", "key"},
    command_doc{"script", "scripting", "2.6.0", "Manages the replicated Lua script cache.", ""},
    command_doc{"script|exists", "scripting", "2.6.0",
                "Tells which scripts are in the script cache.", "sha1..."},
    command_doc{"script|flush", "scripting", "2.6.0", "Empties the script cache on every node.",
                "[flush-type=ASYNC|SYNC]"},
    command_doc{"script|help", "scripting", "5.0.0", "Lists the SCRIPT subcommands.", ""},
    command_doc{"script|kill", "scripting", "2.6.0",
                "Answers NOTBUSY: prez scripts stop at their instruction limit.", ""},
    command_doc{"script|load", "scripting", "2.6.0",
                "Compiles a script and keeps it in the script cache on every node.", "script"},
    command_doc{"sdiff", "set", "1.0.0", "Returns the difference of sets.", "key..."},
    command_doc{"sdiffstore", "set", "1.0.0", "Stores the difference of sets in a key.",
                "destination key..."},
    command_doc{"select", "connection", "1.0.0", "Selects a database (prez has only 0).", "index"},
    command_doc{"set", "string", "1.0.0", "Sets the string value of a key.",
                "key value [condition=NX|XX] [GET] "
                "[expiration=EX:seconds|PX:milliseconds|EXAT:unix-time-seconds|"
                "PXAT:unix-time-milliseconds|KEEPTTL]"},
    command_doc{"setbit", "bitmap", "2.2.0",
                "Sets or clears the bit at offset of the string value. Creates the key if it "
                "doesn't exist.",
                "key offset#integer value#integer"},
    command_doc{"setex", "string", "2.0.0", "Sets a string value with a time to live in seconds.",
                "key seconds value"},
    command_doc{"setnx", "string", "1.0.0", "Sets a string value only if the key does not exist.",
                "key value"},
    command_doc{"setrange", "string", "2.2.0", "Overwrites part of a string value.",
                "key offset#integer value#integer"},
    command_doc{"sinter", "set", "1.0.0", "Returns the intersection of sets.", "key..."},
    command_doc{"sintercard", "set", "7.0.0",
                "Returns the number of members of the intersect of multiple sets.",
                "numkeys#integer key... [LIMIT:limit#integer]"},
    command_doc{"sinterstore", "set", "1.0.0", "Stores the intersection of sets in a key.",
                "destination key..."},
    command_doc{"sismember", "set", "1.0.0", "Tells whether a value is a member of a set.",
                "key member"},
    command_doc{"smembers", "set", "1.0.0", "Returns the members of a set.", "key"},
    command_doc{"smismember", "set", "6.2.0", "Tells which values are members of a set.",
                "key member..."},
    command_doc{"smove", "set", "1.0.0", "Moves a member from one set to another.",
                "source destination member"},
    command_doc{"sort", "generic", "1.0.0",
                "Sorts the elements of a list or set, optionally storing the result.",
                "key [BY:pattern] [limit=LIMIT:offset#integer count#integer] [GET:pattern...] "
                "[order=ASC|DESC] [sorting=ALPHA] [STORE:destination#key]"},
    command_doc{"sort_ro", "generic", "7.0.0", "Sorts the elements of a list or set (read-only).",
                "key [BY:pattern] [limit=LIMIT:offset#integer count#integer] [GET:pattern...] "
                "[order=ASC|DESC] [sorting=ALPHA]"},
    command_doc{"spop", "set", "1.0.0", "Removes and returns random members of a set.",
                "key [count]"},
    command_doc{"srandmember", "set", "1.0.0", "Returns random members of a set.", "key [count]"},
    command_doc{"srem", "set", "1.0.0", "Removes members from a set.", "key member..."},
    command_doc{"sscan", "set", "2.8.0", "Iterates over the members of a set.",
                "key cursor [MATCH:pattern] [COUNT:count]"},
    command_doc{"strlen", "string", "2.2.0", "Returns the length of a string value.", "key"},
    command_doc{"subscribe", "pubsub", "2.0.0", "Listens for messages on channels.", "channel..."},
    command_doc{"sunion", "set", "1.0.0", "Returns the union of sets.", "key..."},
    command_doc{"sunionstore", "set", "1.0.0", "Stores the union of sets in a key.",
                "destination key..."},
    command_doc{"time", "server", "2.6.0", "Returns the server's time.", ""},
    command_doc{"touch", "generic", "3.2.1",
                "Counts the given keys that exist (prez keeps no access time to update).",
                "key..."},
    command_doc{"ttl", "generic", "1.0.0", "Returns a key's time to live in seconds.", "key"},
    command_doc{"type", "generic", "1.0.0", "Returns the type of a key's value.", "key"},
    command_doc{"unlink", "generic", "4.0.0", "Deletes keys.", "key..."},
    command_doc{"unsubscribe", "pubsub", "2.0.0", "Stops listening on channels.", "[channel...]"},
    command_doc{"unwatch", "transactions", "2.2.0", "Forgets every watched key.", ""},
    command_doc{"watch", "transactions", "2.2.0",
                "Makes the next EXEC fail if any of these keys changes.", "key..."},
    command_doc{"xack", "stream", "5.0.0",
                "Acknowledges entries of a consumer group: removes them from its pending list.",
                "key group id..."},
    command_doc{"xadd", "stream", "5.0.0",
                "Appends an entry to a stream; its ID is the leader's log time unless given.",
                "key [NOMKSTREAM] [trim=(strategy=MAXLEN|MINID) [operator=~|=] threshold "
                "[LIMIT:count]] (id-selector=*|id) (data=field value)..."},
    command_doc{"xautoclaim", "stream", "6.2.0",
                "Gives a consumer the pending entries idle long enough, scanning from an ID.",
                "key group consumer min-idle-time start [COUNT:count] [JUSTID]"},
    command_doc{"xclaim", "stream", "5.0.0",
                "Gives a consumer pending entries that have been idle long enough.",
                "key group consumer min-idle-time id... [IDLE:ms] [TIME:unix-time-milliseconds] "
                "[RETRYCOUNT:count] [FORCE] [JUSTID] [LASTID:lastid]"},
    command_doc{"xdel", "stream", "5.0.0", "Deletes entries from a stream by ID.", "key id..."},
    command_doc{"xgroup", "stream", "5.0.0", "A container for consumer group commands.", ""},
    command_doc{"xgroup|create", "stream", "5.0.0", "Creates a consumer group.",
                "key group (id-selector=id|$) [MKSTREAM] [ENTRIESREAD:entries-read]"},
    command_doc{"xgroup|createconsumer", "stream", "6.2.0",
                "Creates a consumer in a consumer group.", "key group consumer"},
    command_doc{"xgroup|delconsumer", "stream", "5.0.0",
                "Deletes a consumer from a consumer group, with its pending entries.",
                "key group consumer"},
    command_doc{"xgroup|destroy", "stream", "5.0.0", "Destroys a consumer group.", "key group"},
    command_doc{"xgroup|help", "stream", "5.0.0", "Shows helpful text about XGROUP.", ""},
    command_doc{"xgroup|setid", "stream", "5.0.0", "Sets a consumer group's last delivered ID.",
                "key group (id-selector=id|$) [ENTRIESREAD:entries-read]"},
    command_doc{"xinfo", "stream", "5.0.0", "A container for stream introspection commands.", ""},
    command_doc{"xinfo|consumers", "stream", "5.0.0", "Returns the consumers of a consumer group.",
                "key group"},
    command_doc{"xinfo|groups", "stream", "5.0.0", "Returns the consumer groups of a stream.",
                "key"},
    command_doc{"xinfo|help", "stream", "5.0.0", "Shows helpful text about XINFO.", ""},
    command_doc{"xinfo|stream", "stream", "5.0.0", "Returns information about a stream.",
                "key [full-block=FULL [COUNT:count]]"},
    command_doc{"xlen", "stream", "5.0.0", "Counts the entries of a stream.", "key"},
    command_doc{"xpending", "stream", "5.0.0",
                "Returns the pending entries of a consumer group, or a summary of them.",
                "key group [filters=[IDLE:min-idle-time] start end count [consumer]]"},
    command_doc{"xrange", "stream", "5.0.0", "Returns the entries within a range of IDs.",
                "key start end [COUNT:count]"},
    command_doc{"xread", "stream", "5.0.0",
                "Returns entries after the given IDs from streams, waiting for them with BLOCK.",
                "[COUNT:count] [BLOCK:milliseconds] (streams=STREAMS key... id...)"},
    command_doc{"xreadgroup", "stream", "5.0.0",
                "Reads entries for a consumer of a group (new ones with >, else its own pending "
                "ones), waiting for them with BLOCK.",
                "(group-block=GROUP group consumer) [COUNT:count] [BLOCK:milliseconds] [NOACK] "
                "(streams=STREAMS key... id...)"},
    command_doc{"xrevrange", "stream", "5.0.0",
                "Returns the entries within a range of IDs, newest first.",
                "key end start [COUNT:count]"},
    command_doc{"xsetid", "stream", "5.0.0", "Sets a stream's last generated ID.",
                "key last-id [ENTRIESADDED:entries-added] [MAXDELETEDID:max-deleted-id]"},
    command_doc{"xtrim", "stream", "5.0.0", "Removes a stream's oldest entries.",
                "key (trim=(strategy=MAXLEN|MINID) [operator=~|=] threshold [LIMIT:count])"},
    command_doc{
        "zadd",
        "sorted-set", "1.2.0", "Adds members to a sorted set, or updates their scores.",
        "key [condition=NX|XX] [comparison=GT|LT] [CH] [INCR] (data=score#double member)..."},
    command_doc{"zcard", "sorted-set", "1.2.0", "Counts the members of a sorted set.", "key"},
    command_doc{"zcount", "sorted-set", "2.0.0", "Counts the members within a score range.",
                "key min#double max#double"},
    command_doc{"zdiff", "sorted-set", "6.2.0", "Returns the difference of sorted sets.",
                "numkeys#integer key... [WITHSCORES]"},
    command_doc{"zdiffstore", "sorted-set", "6.2.0",
                "Stores the difference of sorted sets in a key.",
                "destination numkeys#integer key..."},
    command_doc{"zincrby", "sorted-set", "1.2.0", "Adds a number to a member's score.",
                "key increment member"},
    command_doc{"zinter", "sorted-set", "6.2.0", "Returns the intersection of sorted sets.",
                "numkeys#integer key... [WEIGHTS:weight#integer...] "
                "[AGGREGATE:aggregate] [WITHSCORES]"},
    command_doc{"zintercard", "sorted-set", "7.0.0",
                "Counts the members of the intersection of sorted sets.",
                "numkeys#integer key... [LIMIT:limit#integer]"},
    command_doc{"zinterstore", "sorted-set", "2.0.0",
                "Stores the intersection of sorted sets in a key.",
                "destination numkeys#integer key... [WEIGHTS:weight#integer...] "
                "[AGGREGATE:aggregate]"},
    command_doc{"zlexcount", "sorted-set", "2.8.9", "Counts the members within a lex range.",
                "key min max"},
    command_doc{"zmpop", "sorted-set", "7.0.0",
                "Removes and returns the lowest or highest members of the first non-empty sorted "
                "set.",
                "numkeys#integer key... (where=MIN|MAX) [COUNT:count]"},
    command_doc{"zmscore", "sorted-set", "6.2.0", "Returns the scores of members.",
                "key member..."},
    command_doc{"zpopmax", "sorted-set", "5.0.0",
                "Removes and returns the members with the highest scores.", "key [count]"},
    command_doc{"zpopmin", "sorted-set", "5.0.0",
                "Removes and returns the members with the lowest scores.", "key [count]"},
    command_doc{"zrandmember", "sorted-set", "6.2.0", "Returns random members of a sorted set.",
                "key [options=count [WITHSCORES]]"},
    command_doc{"zrange", "sorted-set", "1.2.0", "Returns members by rank, score or lex range.",
                "key start stop [sortby=BYSCORE|BYLEX] [REV] [limit=LIMIT offset count] "
                "[WITHSCORES]"},
    command_doc{"zrangebylex", "sorted-set", "2.8.9", "Returns members within a lex range.",
                "key min max [limit=LIMIT offset count]"},
    command_doc{"zrangebyscore", "sorted-set", "1.0.5", "Returns members within a score range.",
                "key min#double max#double [WITHSCORES] [limit=LIMIT offset count]"},
    command_doc{"zrangestore", "sorted-set", "6.2.0", "Stores a range of members in a key.",
                "dst src min max [sortby=BYSCORE|BYLEX] [REV] [limit=LIMIT offset count]"},
    command_doc{"zrank", "sorted-set", "2.0.0", "Returns a member's rank by ascending score.",
                "key member"},
    command_doc{"zrem", "sorted-set", "1.2.0", "Removes members from a sorted set.",
                "key member..."},
    command_doc{"zremrangebylex", "sorted-set", "2.8.9", "Removes the members within a lex range.",
                "key min max"},
    command_doc{"zremrangebyrank", "sorted-set", "2.0.0",
                "Removes the members within a rank range.", "key start stop"},
    command_doc{"zremrangebyscore", "sorted-set", "1.2.0",
                "Removes the members within a score range.", "key min#double max#double"},
    command_doc{"zrevrange", "sorted-set", "1.2.0", "Returns members by rank, highest first.",
                "key start stop [WITHSCORES]"},
    command_doc{"zrevrangebylex", "sorted-set", "2.8.9",
                "Returns members within a lex range, highest first.",
                "key max min [limit=LIMIT offset count]"},
    command_doc{"zrevrangebyscore", "sorted-set", "2.2.0",
                "Returns members within a score range, highest first.",
                "key max#double min#double [WITHSCORES] [limit=LIMIT offset count]"},
    command_doc{"zrevrank", "sorted-set", "2.0.0", "Returns a member's rank by descending score.",
                "key member"},
    command_doc{"zscan", "sorted-set", "2.8.0", "Iterates over the members and scores.",
                "key cursor [MATCH:pattern] [COUNT:count]"},
    command_doc{"zscore", "sorted-set", "1.2.0", "Returns a member's score.", "key member"},
    command_doc{"zunion", "sorted-set", "6.2.0", "Returns the union of sorted sets.",
                "numkeys#integer key... [WEIGHTS:weight#integer...] "
                "[AGGREGATE:aggregate] [WITHSCORES]"},
    command_doc{"zunionstore", "sorted-set", "2.0.0", "Stores the union of sorted sets in a key.",
                "destination numkeys#integer key... [WEIGHTS:weight#integer...] "
                "[AGGREGATE:aggregate]"},
};

static_assert(std::is_sorted(docs.begin(), docs.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));

const command_doc* find_doc(std::string_view name) {
  auto it = std::lower_bound(docs.begin(), docs.end(), name,
                             [](const command_doc& d, std::string_view n) { return d.name < n; });
  return it != docs.end() && it->name == name ? &*it : nullptr;
}

// --- the syntax language ------------------------------------------------------------------------

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_token_word(std::string_view word) {
  bool letter = false;
  for (char c : word) {
    if (std::islower(static_cast<unsigned char>(c))) return false;
    letter = letter || std::isupper(static_cast<unsigned char>(c));
  }
  return letter;
}

/// The type an argument of this name has when the line does not say.
std::string type_for(std::string_view name) {
  static constexpr std::string_view keys[] = {"key", "newkey", "source", "destination"};
  static constexpr std::string_view integers[] = {
      "count",        "cursor", "decrement", "end",     "increment", "index", "len",
      "milliseconds", "offset", "rank",      "seconds", "start",     "stop",  "num-matches"};
  if (std::find(std::begin(keys), std::end(keys), name) != std::end(keys)) return "key";
  if (std::find(std::begin(integers), std::end(integers), name) != std::end(integers))
    return "integer";
  if (name == "pattern") return "pattern";
  if (name.starts_with("unix-time")) return "unix-time";
  return "string";
}

class syntax_parser {
public:
  explicit syntax_parser(std::string_view text) : text_(text) {}

  std::vector<doc_argument> parse_all() {
    auto out = sequence();
    skip_spaces();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return out;
  }

private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("syntax '" + std::string(text_) + "' at " + std::to_string(pos_) +
                                ": " + what);
  }

  void skip_spaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ')
      ++pos_;
  }

  bool at_end_of_sequence() {
    skip_spaces();
    return pos_ == text_.size() || text_[pos_] == ']' || text_[pos_] == ')' || text_[pos_] == '|';
  }

  std::vector<doc_argument> sequence() {
    std::vector<doc_argument> out;
    while (!at_end_of_sequence())
      out.push_back(element());
    return out;
  }

  bool repeat_mark() {
    if (text_.substr(pos_, 3) != "...") return false;
    pos_ += 3;
    return true;
  }

  std::string_view word() {
    auto start = pos_;
    while (pos_ < text_.size() &&
           std::string_view(" []()|").find(text_[pos_]) == std::string_view::npos &&
           text_.substr(pos_, 3) != "...")
      ++pos_;
    if (pos_ == start) fail("expected an argument");
    return text_.substr(start, pos_ - start);
  }

  doc_argument element() {
    doc_argument arg;
    if (text_[pos_] == '[' || text_[pos_] == '(') {
      const char close = text_[pos_] == '[' ? ']' : ')';
      arg.optional = close == ']';
      ++pos_;
      group(arg, close);
    } else {
      scalar(arg, word());
    }
    if (repeat_mark()) arg.multiple = true;
    return arg;
  }

  void scalar(doc_argument& arg, std::string_view w) {
    std::string_view type;
    if (auto hash = w.find('#'); hash != std::string_view::npos) {
      type = w.substr(hash + 1);
      w = w.substr(0, hash);
    }
    if (auto colon = w.find(':'); colon != std::string_view::npos) {
      arg.token = std::string(w.substr(0, colon));
      w = w.substr(colon + 1);
      if (!is_token_word(arg.token)) fail("a token must be upper case");
    } else if (is_token_word(w)) {
      arg.token = std::string(w);
      arg.name = lowercase(w);
      arg.type = "pure-token";
      if (!type.empty()) fail("a pure token has no type");
      return;
    }
    if (w.empty() || is_token_word(w)) fail("an argument name must be lower case");
    arg.name = std::string(w);
    arg.type = type.empty() ? type_for(w) : std::string(type);
  }

  /// After '[' or '(': an optional "label=", alternatives separated by '|', then `close`.
  void group(doc_argument& arg, char close) {
    skip_spaces();
    std::string label;
    auto eq = text_.find('=', pos_);
    auto stop = text_.find_first_of(" []()|", pos_);
    if (eq != std::string_view::npos && (stop == std::string_view::npos || eq < stop)) {
      label = std::string(text_.substr(pos_, eq - pos_));
      pos_ = eq + 1;
    }
    std::vector<std::vector<doc_argument>> alternatives{sequence()};
    while (pos_ < text_.size() && text_[pos_] == '|') {
      ++pos_;
      alternatives.push_back(sequence());
    }
    if (pos_ == text_.size() || text_[pos_] != close) fail(std::string("expected '") + close + "'");
    ++pos_;
    for (const auto& alternative : alternatives)
      if (alternative.empty()) fail("an empty alternative");
    auto as_one = [](std::vector<doc_argument> members, std::string name) {
      if (members.size() == 1) return std::move(members.front());
      doc_argument block;
      block.name = std::move(name);
      block.type = "block";
      block.arguments = std::move(members);
      return block;
    };
    auto joined = [](const std::vector<doc_argument>& members, char sep) {
      std::string out;
      for (const auto& m : members)
        out += (out.empty() ? "" : std::string(1, sep)) + m.name;
      return out;
    };
    if (alternatives.size() == 1) {
      auto name = label.empty() ? joined(alternatives.front(), '-') : label;
      auto optional = arg.optional;
      arg = as_one(std::move(alternatives.front()), name);
      if (!label.empty()) arg.name = label;
      arg.optional = optional || arg.optional;
      return;
    }
    arg.type = "oneof";
    for (auto& alternative : alternatives) {
      auto name = joined(alternative, '-');
      arg.arguments.push_back(as_one(std::move(alternative), name));
    }
    arg.name = label.empty() ? joined(arg.arguments, '-') : label;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// --- the reply ----------------------------------------------------------------------------------

void append_argument(std::string& out, const doc_argument& arg) {
  std::vector<std::string_view> flags;
  if (arg.optional) flags.push_back("optional");
  if (arg.multiple) flags.push_back("multiple");
  const std::size_t fields =
      2 + (arg.token.empty() ? 0 : 1) + (flags.empty() ? 0 : 1) + (arg.arguments.empty() ? 0 : 1);
  append_array_header(out, fields * 2);
  append_bulk(out, "name");
  append_bulk(out, arg.name);
  append_bulk(out, "type");
  append_bulk(out, arg.type);
  if (!arg.token.empty()) {
    append_bulk(out, "token");
    append_bulk(out, arg.token);
  }
  if (!flags.empty()) {
    append_bulk(out, "flags");
    append_array_header(out, flags.size());
    for (auto f : flags)
      append_simple_string(out, f);
  }
  if (!arg.arguments.empty()) {
    append_bulk(out, "arguments");
    append_array_header(out, arg.arguments.size());
    for (const auto& member : arg.arguments)
      append_argument(out, member);
  }
}

void append_doc(std::string& out, const command_doc& doc) {
  auto arguments = parse_doc_syntax(doc.syntax);
  std::vector<const command_doc*> subcommands;
  if (doc.name.find('|') == std::string_view::npos)
    for (const auto& d : docs)
      if (d.name.size() > doc.name.size() && d.name.starts_with(doc.name) &&
          d.name[doc.name.size()] == '|')
        subcommands.push_back(&d);
  const std::size_t fields = 3 + (arguments.empty() ? 0 : 1) + (subcommands.empty() ? 0 : 1);
  append_array_header(out, fields * 2);
  append_bulk(out, "summary");
  append_bulk(out, doc.summary);
  append_bulk(out, "since");
  append_bulk(out, doc.since);
  append_bulk(out, "group");
  append_bulk(out, doc.group);
  if (!arguments.empty()) {
    append_bulk(out, "arguments");
    append_array_header(out, arguments.size());
    for (const auto& arg : arguments)
      append_argument(out, arg);
  }
  if (!subcommands.empty()) {
    append_bulk(out, "subcommands");
    append_array_header(out, subcommands.size() * 2);
    for (const auto* sub : subcommands) {
      append_bulk(out, sub->name);
      append_doc(out, *sub);
    }
  }
}

} // namespace

std::vector<doc_argument> parse_doc_syntax(std::string_view syntax) {
  return syntax_parser(syntax).parse_all();
}

const std::string_view* doc_syntax(std::string_view name) {
  const auto* doc = find_doc(name);
  return doc == nullptr ? nullptr : &doc->syntax;
}

std::vector<std::string_view> documented_commands() {
  std::vector<std::string_view> out;
  for (const auto& d : docs)
    out.push_back(d.name);
  return out;
}

std::string command_docs_reply(const std::vector<std::string>& names) {
  std::vector<const command_doc*> chosen;
  if (names.empty()) {
    for (const auto& d : docs)
      if (d.name.find('|') == std::string_view::npos) chosen.push_back(&d);
  } else {
    for (const auto& n : names) {
      auto wanted = lowercase(n);
      const auto* doc = wanted.find('|') == std::string::npos ? find_doc(wanted) : nullptr;
      if (doc != nullptr) chosen.push_back(doc);
    }
  }
  std::string out;
  append_array_header(out, chosen.size() * 2);
  for (const auto* doc : chosen) {
    append_bulk(out, doc->name);
    append_doc(out, *doc);
  }
  return out;
}

} // namespace prez
