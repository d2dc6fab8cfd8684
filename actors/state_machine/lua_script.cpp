// One Lua 5.1 state per script run (lua_script.hpp, docs/scripting.md). The libraries are
// Debian's: liblua5.1 (base, table, string, math), lua-cjson (cjson), lua-bitop (bit); cmsgpack
// is written here on msgpack-c (Debian has no Lua MessagePack library).

#include "actors/state_machine/lua_script.hpp"

#include <lua.hpp>
#include <msgpack.hpp>
#include <openssl/sha.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <optional>

#include "actors/gateway/resp3.hpp"
#include "actors/gateway/resp_writer.hpp"
#include "config/limits.hpp"

extern "C" {
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

namespace prez::kv {

namespace {

/// Per-run bookkeeping, reached from the allocator, the count hook and redis.call.
struct run_state {
  script_host* host = nullptr;
  std::size_t bytes = 0;
  std::uint64_t instructions = 0;
  bool out_of_instructions = false;
  bool out_of_memory = false;
  /// The memory limit holds only while the script's own code runs: setting up (KEYS and ARGV
  /// included) and converting its result afterwards never fail for it, so no Lua call outside
  /// a protected call can raise an out-of-memory error (which would abort the process).
  bool limited = false;
  /// drand48's 48-bit state, seeded at every run (math.random).
  std::uint64_t rand48 = 0;
  /// A function library's code is running (FUNCTION LOAD, or FCALL defining its functions):
  /// redis.register_function works, redis.call does not.
  bool loading = false;
  /// What the library registered, in order (function mode only).
  std::vector<function_info>* registered = nullptr;
  /// redis.setresp: the protocol redis.call's replies are read in (and, for booleans, the
  /// script's result written in). 2 at the start of every run, as in Redis.
  int resp = 2;
};

constexpr int hook_every = 1000;
constexpr const char* run_key = "prez.run";

run_state& state_of(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, run_key);
  auto* run = static_cast<run_state*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *run;
}

void* allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* run = static_cast<run_state*>(ud);
  if (new_size == 0) {
    std::free(ptr);
    run->bytes -= old_size;
    return nullptr;
  }
  if (run->limited && new_size > old_size &&
      run->bytes + (new_size - old_size) > limits::script_memory_bytes_max) {
    run->out_of_memory = true;
    return nullptr;
  }
  void* out = std::realloc(ptr, new_size);
  if (out != nullptr) run->bytes = run->bytes - old_size + new_size;
  return out;
}

/// Stops a script past its instruction budget: once past, it fires at every instruction, so a
/// pcall in the script cannot swallow the stop for long.
void count_hook(lua_State* L, lua_Debug*) {
  run_state& run = state_of(L);
  run.instructions += hook_every;
  if (run.instructions > limits::script_instructions_max) {
    run.out_of_instructions = true;
    lua_sethook(L, &count_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "Script killed: it ran more than %llu Lua instructions (prez's script limit)",
               static_cast<unsigned long long>(limits::script_instructions_max));
  }
}

/// Pushes {err = "<CODE> <message>"} as Redis's error tables: `text` may start with '-' and a
/// code; without one the code is ERR. CR and LF at the end are trimmed.
void push_error_table(lua_State* L, std::string_view text) {
  std::string message;
  if (!text.empty() && text[0] == '-') {
    text.remove_prefix(1);
    message =
        text.find(' ') == std::string_view::npos ? "ERR " + std::string(text) : std::string(text);
  } else {
    message = "ERR " + std::string(text);
  }
  while (!message.empty() && (message.back() == '\r' || message.back() == '\n'))
    message.pop_back();
  lua_newtable(L);
  lua_pushlstring(L, message.data(), message.size());
  lua_setfield(L, -2, "err");
}

/// Pushes one command reply as Redis 7.0 converts it to Lua: integer -> number, bulk -> string,
/// RESP2's null -> false, array -> table, status -> {ok=...}, error -> {err=...}; and the RESP3
/// types (redis.setresp(3)): null `_` -> nil, boolean -> boolean, double -> {double=number},
/// big number -> {big_number=text}, verbatim -> {verbatim_string={format=..., string=...}},
/// map -> {map={key=value, ...}}, set -> {set={member=true, ...}}.
void push_reply(lua_State* L, const resp2_reply& reply) {
  luaL_checkstack(L, 6, "reply nested too deep");
  switch (reply.type) {
    case '_':
      lua_pushnil(L);
      return;
    case '#':
      lua_pushboolean(L, reply.payload == "t");
      return;
    case ',':
      lua_newtable(L);
      lua_pushnumber(
          L, static_cast<lua_Number>(std::strtod(std::string(reply.payload).c_str(), nullptr)));
      lua_setfield(L, -2, "double");
      return;
    case '(':
      lua_newtable(L);
      lua_pushlstring(L, reply.payload.data(), reply.payload.size());
      lua_setfield(L, -2, "big_number");
      return;
    case '=': // "fmt:text" (the reader checked the colon)
      lua_newtable(L);
      lua_newtable(L);
      lua_pushlstring(L, reply.payload.data() + 4, reply.payload.size() - 4);
      lua_setfield(L, -2, "string");
      lua_pushlstring(L, reply.payload.data(), 3);
      lua_setfield(L, -2, "format");
      lua_setfield(L, -2, "verbatim_string");
      return;
    case '%':
    case '~':
      lua_newtable(L);
      lua_createtable(L, 0, static_cast<int>(reply.elements.size()));
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        push_reply(L, reply.elements[i]);
        if (reply.type == '%')
          push_reply(L, reply.elements[++i]);
        else
          lua_pushboolean(L, 1);
        if (lua_isnil(L, -2))
          lua_pop(L, 2); // a null key has no place in a table
        else
          lua_rawset(L, -3);
      }
      lua_setfield(L, -2, reply.type == '%' ? "map" : "set");
      return;
    case '+':
      lua_newtable(L);
      lua_pushlstring(L, reply.payload.data(), reply.payload.size());
      lua_setfield(L, -2, "ok");
      return;
    case '-':
      push_error_table(L, "-" + std::string(reply.payload));
      return;
    case ':':
      lua_pushnumber(L, static_cast<lua_Number>(
                            std::strtoll(std::string(reply.payload).c_str(), nullptr, 10)));
      return;
    case '$':
      if (reply.null)
        lua_pushboolean(L, 0);
      else
        lua_pushlstring(L, reply.payload.data(), reply.payload.size());
      return;
    case '*':
      if (reply.null) {
        lua_pushboolean(L, 0);
        return;
      }
      lua_createtable(L, static_cast<int>(reply.elements.size()), 0);
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        push_reply(L, reply.elements[i]);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
    default:
      lua_pushboolean(L, 0);
  }
}

/// A number as an argument or reply text: integral values without a fraction, others as %.17g.
std::string number_text(lua_Number n) {
  char buffer[64];
  if (std::isfinite(n) && n == std::floor(n) && std::fabs(n) < 1e17)
    std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(n));
  else
    std::snprintf(buffer, sizeof buffer, "%.17g", static_cast<double>(n));
  return buffer;
}

/// Runs the command redis.call/pcall names and pushes its reply; returns whether that is an
/// error table. Every C++ object here is gone before the caller may raise (lua_error longjmps).
bool push_command_reply(lua_State* L) {
  if (state_of(L).loading) {
    push_error_table(L, "redis.call/pcall can only be called inside a script invocation");
    return true;
  }
  const int argc = lua_gettop(L);
  if (argc == 0) {
    push_error_table(L, "Please specify at least one argument for this redis lib call");
    return true;
  }
  std::vector<std::string> argv;
  argv.reserve(static_cast<std::size_t>(argc));
  for (int i = 1; i <= argc; ++i) {
    if (lua_type(L, i) == LUA_TNUMBER) {
      argv.push_back(number_text(lua_tonumber(L, i)));
    } else if (lua_type(L, i) == LUA_TSTRING) {
      std::size_t size = 0;
      const char* text = lua_tolstring(L, i, &size);
      argv.emplace_back(text, size);
    } else {
      push_error_table(L, "Lua redis lib command arguments must be strings or integers");
      return true;
    }
  }
  lua_settop(L, 0); // the arguments may fill the stack (unpack of thousands)
  std::string reply = state_of(L).host->call(argv);
  // RESP3: the reply a RESP3 client gets for this command, from the one conversion point.
  if (state_of(L).resp == 3) reply = to_resp3(reply, resp3_shape_of(argv));
  const auto parsed = parse_resp2_reply(reply);
  if (!parsed) {
    push_error_table(L, "ERR internal error: a command answered an unreadable reply");
    return true;
  }
  push_reply(L, *parsed);
  return parsed->type == '-';
}

/// redis.call (raise = true) and redis.pcall.
int redis_command(lua_State* L, bool raise) {
  const bool failed = push_command_reply(L);
  if (raise && failed) return lua_error(L);
  return 1;
}

int redis_call(lua_State* L) {
  return redis_command(L, true);
}
int redis_pcall(lua_State* L) {
  return redis_command(L, false);
}

int redis_sha1hex(lua_State* L) {
  if (lua_gettop(L) != 1) {
    push_error_table(L, "wrong number of arguments");
    return lua_error(L);
  }
  std::size_t size = 0;
  const char* text = lua_tolstring(L, 1, &size);
  const std::string digest = sha1_hex(std::string_view(text == nullptr ? "" : text, size));
  lua_pushlstring(L, digest.data(), digest.size());
  return 1;
}

/// redis.error_reply and redis.status_reply: a one-field table.
int single_field(lua_State* L, const char* field) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  std::size_t size = 0;
  const char* text = lua_tolstring(L, 1, &size);
  if (std::strcmp(field, "err") == 0) {
    std::string_view message(text, size);
    push_error_table(L,
                     message.starts_with('-') ? std::string(message) : "-" + std::string(message));
    return 1;
  }
  lua_newtable(L);
  lua_pushlstring(L, text, size);
  lua_setfield(L, -2, field);
  return 1;
}
int redis_error_reply(lua_State* L) {
  return single_field(L, "err");
}
int redis_status_reply(lua_State* L) {
  return single_field(L, "ok");
}

/// redis.log, redis.set_repl, redis.debug, redis.breakpoint: accepted; nothing to do in prez
/// (commands are replicated through the log, not the script's effects; no script debugger).
int redis_nothing(lua_State*) {
  return 0;
}
int redis_false(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int redis_true(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}
int redis_setresp(lua_State* L) {
  run_state& run = state_of(L);
  if (run.loading) {
    push_error_table(L, "redis.setresp can only be called inside a script invocation");
    return lua_error(L);
  }
  if (lua_gettop(L) != 1) {
    push_error_table(L, "redis.setresp() requires one argument.");
    return lua_error(L);
  }
  // As Redis: the number truncated to an int (so 2.5 is 2; a non-number is 0 and refused).
  const lua_Number number = lua_tonumber(L, 1);
  const int version = number >= 2 && number < 4 ? static_cast<int>(number) : 0;
  if (version != 2 && version != 3) {
    push_error_table(L, "RESP version must be 2 or 3.");
    return lua_error(L);
  }
  run.resp = version;
  return 0;
}

// --- redis.register_function (function libraries) -----------------------------------------------

constexpr const char* functions_key = "prez.functions";

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

/// Reads register_function's arguments (positional or named) into `out`, leaving the callback
/// on top of the stack; returns the error text, empty on success. No C++ object outlives an
/// error here: the caller raises.
std::string read_registration(lua_State* L, function_info& out) {
  const int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) return "wrong number of arguments to redis.register_function";
  if (argc == 2) {
    if (lua_type(L, 1) != LUA_TSTRING)
      return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(L, 2))
      return "second argument to redis.register_function must be a function";
    out.name = lua_tostring(L, 1);
    lua_pushvalue(L, 2);
    return {};
  }
  if (!lua_istable(L, 1)) return "wrong number of arguments to redis.register_function";
  bool have_callback = false;
  bool have_name = false;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return "named argument key given to redis.register_function is not a string";
    }
    std::string key = lua_tostring(L, -2);
    for (auto& c : key)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == "function_name") {
      if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 2);
        return "function_name argument given to redis.register_function must be a string";
      }
      out.name = lua_tostring(L, -1);
      have_name = true;
    } else if (key == "description") {
      if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 2);
        return "description argument given to redis.register_function must be a string";
      }
      out.description = lua_tostring(L, -1);
    } else if (key == "callback") {
      if (!lua_isfunction(L, -1)) {
        lua_pop(L, 2);
        return "callback argument given to redis.register_function must be a function";
      }
      have_callback = true;
    } else if (key == "flags") {
      if (!lua_istable(L, -1)) {
        lua_pop(L, 2);
        return "flags argument to redis.register_function must be a table representing function "
               "flags";
      }
      for (int i = 1;; ++i) {
        lua_rawgeti(L, -1, i);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        const char* flag = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        const std::string_view f(flag);
        if (f != "no-writes" && f != "allow-oom" && f != "allow-stale" && f != "no-cluster" &&
            f != "allow-cross-slot-keys") {
          lua_pop(L, 3);
          return "unknown flag given";
        }
        if (f == "no-writes") out.no_writes = true;
        out.flags.emplace_back(f);
        lua_pop(L, 1);
      }
    } else {
      lua_pop(L, 2);
      return "unknown argument given to redis.register_function";
    }
    lua_pop(L, 1);
  }
  if (!have_name) return "redis.register_function must get a function name argument";
  if (!have_callback) return "redis.register_function must get a callback argument";
  lua_pushstring(L, "callback");
  lua_rawget(L, 1);
  if (!lua_isfunction(L, -1)) { // "CALLBACK" in another case: find it again
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      if (lua_isfunction(L, -1)) {
        lua_remove(L, -2);
        return {};
      }
      lua_pop(L, 1);
    }
    return "redis.register_function must get a callback argument";
  }
  return {};
}

/// Stores the registration or pushes the error table; returns whether it failed.
bool register_one(lua_State* L) {
  run_state& run = state_of(L);
  if (!run.loading || run.registered == nullptr) {
    push_error_table(L, "redis.register_function can only be called on FUNCTION LOAD command");
    return true;
  }
  function_info info;
  std::string error = read_registration(L, info);
  if (error.empty() && !valid_name(info.name))
    error = "Function names can only contain letters, numbers, or underscores(_) and must be at "
            "least one character long";
  for (const auto& known : *run.registered)
    if (error.empty() && known.name == info.name) error = "Function already exists in the library";
  if (!error.empty()) {
    push_error_table(L, error);
    return true;
  }
  // The callback is on top: keep it in the registry table under its name.
  lua_getfield(L, LUA_REGISTRYINDEX, functions_key);
  lua_insert(L, -2);
  lua_setfield(L, -2, info.name.c_str());
  lua_pop(L, 1);
  run.registered->push_back(std::move(info));
  return false;
}

int redis_register_function(lua_State* L) {
  if (register_one(L)) return lua_error(L);
  return 0;
}

// --- math.random as Redis's: drand48's generator, reseeded at every run -------------------------

constexpr std::uint64_t rand48_mask = (std::uint64_t{1} << 48) - 1;
void seed48(run_state& run, std::uint32_t seed) { // math.randomseed, as srand48
  run.rand48 = ((std::uint64_t{seed} << 16) | 0x330e) & rand48_mask;
}
std::int32_t next48(run_state& run) {
  run.rand48 = (run.rand48 * 0x5deece66dull + 0xb) & rand48_mask;
  return static_cast<std::int32_t>(run.rand48 >> 17);
}

int math_random(lua_State* L) {
  constexpr std::int32_t rand_max = std::numeric_limits<std::int32_t>::max();
  const lua_Number r =
      static_cast<lua_Number>(next48(state_of(L)) % rand_max) / static_cast<lua_Number>(rand_max);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      return 1;
    case 1: {
      const int upper = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= upper, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * upper) + 1);
      return 1;
    }
    case 2: {
      const int lower = luaL_checkint(L, 1);
      const int upper = luaL_checkint(L, 2);
      luaL_argcheck(L, lower <= upper, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * (upper - lower + 1)) + lower);
      return 1;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
}
int math_randomseed(lua_State* L) {
  seed48(state_of(L), static_cast<std::uint32_t>(luaL_checkint(L, 1)));
  return 0;
}

// --- cmsgpack on msgpack-c -----------------------------------------------------------------------

using msgpack_packer = msgpack::packer<msgpack::sbuffer>;

/// Whether the table at `index` is an array 1..n with no other keys; sets `count`.
bool is_array(lua_State* L, int index, std::size_t& count) {
  count = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return false;
    }
    const lua_Number n = lua_tonumber(L, -1);
    if (n < 1 || n != std::floor(n)) {
      lua_pop(L, 1);
      return false;
    }
    ++count;
  }
  for (std::size_t i = 1; i <= count; ++i) {
    lua_rawgeti(L, index, static_cast<int>(i));
    const bool present = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!present) return false;
  }
  return true;
}

void pack_value(lua_State* L, int index, msgpack_packer& pk, int depth) {
  if (index < 0) index = lua_gettop(L) + index + 1;
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      pk.pack_nil();
      return;
    case LUA_TBOOLEAN:
      lua_toboolean(L, index) ? pk.pack_true() : pk.pack_false();
      return;
    case LUA_TNUMBER: {
      const lua_Number n = lua_tonumber(L, index);
      if (n == std::floor(n) && std::fabs(n) < 9.2e18) {
        pk.pack(static_cast<long long>(n));
      } else if (static_cast<lua_Number>(static_cast<float>(n)) == n) {
        pk.pack(static_cast<float>(n));
      } else {
        pk.pack(static_cast<double>(n));
      }
      return;
    }
    case LUA_TSTRING: {
      std::size_t size = 0;
      const char* text = lua_tolstring(L, index, &size);
      pk.pack_str(static_cast<std::uint32_t>(size));
      pk.pack_str_body(text, static_cast<std::uint32_t>(size));
      return;
    }
    case LUA_TTABLE: {
      if (depth >= 16) { // as cmsgpack: nesting deeper than 16 packs nil
        pk.pack_nil();
        return;
      }
      luaL_checkstack(L, 4, "table nested too deep");
      std::size_t count = 0;
      if (is_array(L, index, count)) {
        pk.pack_array(static_cast<std::uint32_t>(count));
        for (std::size_t i = 1; i <= count; ++i) {
          lua_rawgeti(L, index, static_cast<int>(i));
          pack_value(L, -1, pk, depth + 1);
          lua_pop(L, 1);
        }
        return;
      }
      std::size_t pairs = 0;
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        ++pairs;
      }
      pk.pack_map(static_cast<std::uint32_t>(pairs));
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        pack_value(L, -2, pk, depth + 1);
        pack_value(L, -1, pk, depth + 1);
        lua_pop(L, 1);
      }
      return;
    }
    default: // functions, userdata, threads: nil, as cmsgpack
      pk.pack_nil();
  }
}

int cmsgpack_pack(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  msgpack::sbuffer buffer;
  msgpack_packer pk(buffer);
  for (int i = 1; i <= argc; ++i)
    pack_value(L, i, pk, 0);
  lua_pushlstring(L, buffer.data(), buffer.size());
  return 1;
}

void push_object(lua_State* L, const msgpack::object& object) {
  luaL_checkstack(L, 4, "object nested too deep");
  switch (object.type) {
    case msgpack::type::NIL:
      lua_pushnil(L);
      return;
    case msgpack::type::BOOLEAN:
      lua_pushboolean(L, object.via.boolean ? 1 : 0);
      return;
    case msgpack::type::POSITIVE_INTEGER:
      lua_pushnumber(L, static_cast<lua_Number>(object.via.u64));
      return;
    case msgpack::type::NEGATIVE_INTEGER:
      lua_pushnumber(L, static_cast<lua_Number>(object.via.i64));
      return;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      lua_pushnumber(L, static_cast<lua_Number>(object.via.f64));
      return;
    case msgpack::type::STR:
      lua_pushlstring(L, object.via.str.ptr, object.via.str.size);
      return;
    case msgpack::type::BIN:
      lua_pushlstring(L, object.via.bin.ptr, object.via.bin.size);
      return;
    case msgpack::type::ARRAY:
      lua_createtable(L, static_cast<int>(object.via.array.size), 0);
      for (std::uint32_t i = 0; i < object.via.array.size; ++i) {
        push_object(L, object.via.array.ptr[i]);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
    case msgpack::type::MAP:
      lua_createtable(L, 0, static_cast<int>(object.via.map.size));
      for (std::uint32_t i = 0; i < object.via.map.size; ++i) {
        push_object(L, object.via.map.ptr[i].key);
        push_object(L, object.via.map.ptr[i].val);
        if (lua_isnil(L, -2)) {
          lua_pop(L, 2); // a nil key cannot be stored
          continue;
        }
        lua_rawset(L, -3);
      }
      return;
    default:
      lua_pushnil(L);
  }
}

/// cmsgpack.unpack(s): every object in s. unpack_one(s[, offset]) and unpack_limit(s, n[,
/// offset]): the offset after the objects read (-1 at the end), then the objects.
int cmsgpack_unpack_some(lua_State* L, std::size_t limit, std::size_t offset, bool with_offset) {
  std::size_t size = 0;
  const char* text = luaL_checklstring(L, 1, &size);
  if (offset > size)
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(size));
  int pushed = 0;
  if (with_offset) lua_pushnil(L); // replaced by the offset below
  const int offset_slot = lua_gettop(L);
  std::size_t at = offset;
  bool broken = false;
  while (!broken && at < size && (limit == 0 || static_cast<std::size_t>(pushed) < limit)) {
    // Lua raises by longjmp: no exception may be in flight then, so the error is raised after.
    msgpack::object_handle handle;
    try {
      handle = msgpack::unpack(text, size, at, nullptr, nullptr,
                               msgpack::unpack_limit(1 << 20, 1 << 20, limits::msgpack_str_max,
                                                     limits::msgpack_str_max, 0, 64));
    } catch (const std::exception&) {
      broken = true;
      continue;
    }
    push_object(L, handle.get());
    ++pushed;
  }
  if (broken) return luaL_error(L, "Missing bytes in input.");
  if (with_offset) {
    lua_pushnumber(L, at >= size ? -1 : static_cast<lua_Number>(at));
    lua_replace(L, offset_slot);
    return pushed + 1;
  }
  return pushed;
}
int cmsgpack_unpack(lua_State* L) {
  return cmsgpack_unpack_some(L, 0, 0, false);
}
int cmsgpack_unpack_one(lua_State* L) {
  return cmsgpack_unpack_some(L, 1, static_cast<std::size_t>(luaL_optinteger(L, 2, 0)), true);
}
int cmsgpack_unpack_limit(lua_State* L) {
  const auto limit = luaL_checkinteger(L, 2);
  if (limit <= 0) return luaL_error(L, "Limit must be greater than zero.");
  return cmsgpack_unpack_some(L, static_cast<std::size_t>(limit),
                              static_cast<std::size_t>(luaL_optinteger(L, 3, 0)), true);
}

// --- globals protection -------------------------------------------------------------------------

int global_missing(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name == nullptr ? "?" : name);
}
int global_write(lua_State* L) {
  return luaL_error(L, "Attempt to modify a readonly table");
}

/// The message handler: errors become {err=..., source=..., line=...} as Redis's handler makes
/// them (a plain message gets the code ERR), with the place of the Lua code that raised it.
int error_handler(lua_State* L) {
  lua_Debug ar;
  bool found = lua_getstack(L, 1, &ar) != 0 && lua_getinfo(L, "nSl", &ar) != 0;
  if (found && std::strcmp(ar.what, "C") == 0)
    found = lua_getstack(L, 2, &ar) != 0 && lua_getinfo(L, "nSl", &ar) != 0;
  if (lua_type(L, 1) != LUA_TTABLE) {
    const char* text = lua_tostring(L, 1);
    std::string message =
        "ERR " + std::string(text == nullptr ? "(error object is not a string)" : text);
    lua_newtable(L);
    lua_pushlstring(L, message.data(), message.size());
    lua_setfield(L, -2, "err");
    lua_replace(L, 1);
  }
  if (found) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, 1, "source");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, 1, "line");
  }
  lua_settop(L, 1);
  return 1;
}

void set_function(lua_State* L, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

void open_library(lua_State* L, lua_CFunction open, const char* name) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

/// Opens a module (lua-cjson, lua-bitop) and makes the table it returns the global `name`:
/// lua-bitop registers its global itself, lua-cjson only returns its table.
void open_module(lua_State* L, lua_CFunction open, const char* name) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  lua_setglobal(L, name);
}

/// Loads the libraries and the redis table; leaves the stack empty.
void prepare(lua_State* L) {
  open_library(L, luaopen_base, "");
  open_library(L, luaopen_table, LUA_TABLIBNAME);
  open_library(L, luaopen_string, LUA_STRLIBNAME);
  open_library(L, luaopen_math, LUA_MATHLIBNAME);
  open_module(L, luaopen_cjson, "cjson");
  open_module(L, luaopen_bit, "bit");
  // No file access, no output.
  for (const char* name : {"loadfile", "dofile", "print"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_getglobal(L, "math");
  set_function(L, "random", &math_random);
  set_function(L, "randomseed", &math_randomseed);
  lua_pop(L, 1);
  lua_newtable(L);
  set_function(L, "pack", &cmsgpack_pack);
  set_function(L, "unpack", &cmsgpack_unpack);
  set_function(L, "unpack_one", &cmsgpack_unpack_one);
  set_function(L, "unpack_limit", &cmsgpack_unpack_limit);
  lua_setglobal(L, "cmsgpack");

  lua_newtable(L);
  set_function(L, "call", &redis_call);
  set_function(L, "pcall", &redis_pcall);
  set_function(L, "sha1hex", &redis_sha1hex);
  set_function(L, "error_reply", &redis_error_reply);
  set_function(L, "status_reply", &redis_status_reply);
  set_function(L, "log", &redis_nothing);
  set_function(L, "set_repl", &redis_nothing);
  set_function(L, "debug", &redis_nothing);
  set_function(L, "breakpoint", &redis_false);
  set_function(L, "replicate_commands", &redis_true);
  set_function(L, "setresp", &redis_setresp);
  set_function(L, "register_function", &redis_register_function);
  const std::pair<const char*, int> constants[] = {
      {"LOG_DEBUG", 0},   {"LOG_VERBOSE", 1},  {"LOG_NOTICE", 2},
      {"LOG_WARNING", 3}, {"REPL_NONE", 0},    {"REPL_AOF", 1},
      {"REPL_SLAVE", 2},  {"REPL_REPLICA", 2}, {"REPL_ALL", 3}};
  for (const auto& [name, number] : constants) {
    lua_pushinteger(L, number);
    lua_setfield(L, -2, name);
  }
  lua_setglobal(L, "redis");
}

constexpr const char* readonly_key = "prez.readonly";

/// Pushes a read-only view of the table at `index`: an empty proxy whose reads go to the table
/// and whose writes raise "Attempt to modify a readonly table"; its metatable is hidden behind a
/// read-only view too, and setmetatable() refuses it (see guarded_setmetatable). Stock Lua 5.1
/// has no read-only tables (Redis patches its copy); proxies give scripts the same errors.
void push_readonly(lua_State* L, int index, lua_CFunction reader = nullptr) {
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  lua_newtable(L); // the proxy
  lua_newtable(L); // its metatable
  if (reader != nullptr) {
    lua_pushvalue(L, index);
    lua_pushcclosure(L, reader, 1);
  } else {
    lua_pushvalue(L, index);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, &global_write);
  lua_setfield(L, -2, "__newindex");
  lua_newtable(L); // what getmetatable() shows: a read-only view of the metatable
  lua_newtable(L);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, &global_write);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, readonly_key);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/// __index of the globals' proxy: the global, or the error Redis gives for an undefined one.
int global_read(lua_State* L) {
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  if (!lua_isnil(L, -1)) return 1;
  return global_missing(L);
}

/// setmetatable() refusing the read-only views.
int guarded_setmetatable(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, readonly_key);
  lua_pushvalue(L, 1);
  lua_rawget(L, -2);
  if (lua_toboolean(L, -1)) return luaL_error(L, "Attempt to modify a readonly table");
  lua_pop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/// Whether `text` is a precompiled chunk: Lua 5.1 does not check bytecode, and a crafted one
/// can corrupt memory, so scripts may only load source (as in Redis).
bool is_bytecode(const char* text, std::size_t size) {
  return size > 0 && text[0] == LUA_SIGNATURE[0];
}

/// loadstring() refusing bytecode: returns nil and a message, as a failed load does.
int guarded_loadstring(lua_State* L) {
  std::size_t size = 0;
  const char* text = luaL_checklstring(L, 1, &size);
  if (is_bytecode(text, size)) {
    lua_pushnil(L);
    lua_pushstring(L, "loading precompiled chunks is not allowed");
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/// Protects the globals and the libraries: after this, reading an undefined global raises
/// "Script attempted to access nonexistent global variable", and writing any global or any field
/// of redis, cjson, cmsgpack, bit, string, math or table raises "Attempt to modify a readonly
/// table", as in Redis 7. The globals table is replaced by a read-only view (so `_G` is one too);
/// chunks loaded afterwards get it as their environment.
void protect_globals(lua_State* L) {
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, readonly_key);
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, &guarded_setmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_getglobal(L, "loadstring");
  lua_pushcclosure(L, &guarded_loadstring, 1);
  lua_setglobal(L, "loadstring");
  lua_pushnil(L);
  lua_setglobal(L, "load"); // takes a reader function: bytecode could come through it
  for (const char* name : {"redis", "cjson", "cmsgpack", "bit", "string", "math", "table"}) {
    lua_getglobal(L, name);
    push_readonly(L, -1);
    lua_setglobal(L, name);
    lua_pop(L, 1);
  }
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  push_readonly(L, -1, &global_read);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "_G"); // the real table's _G names the view
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
}

void set_array(lua_State* L, const char* name, const std::vector<std::string>& items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  lua_setglobal(L, name);
}

/// The text compiled for `body`: the body itself, as Redis 7.0 compiles it, with a shebang line
/// emptied (its newline kept, so line numbers still count it).
std::string_view chunk_text(std::string_view body) {
  if (body.starts_with("#!")) {
    const auto end = body.find('\n');
    return end == std::string_view::npos ? std::string_view() : body.substr(end);
  }
  return body;
}

/// Text with CR and LF turned into spaces (a status, an error, a big number).
std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\r' || c == '\n') c = ' ';
  return text;
}

/// The string field `name` of the table on top of the stack (raw read), or nullopt.
std::optional<std::string> string_field(lua_State* L, const char* name) {
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  std::optional<std::string> out;
  if (lua_type(L, -1) == LUA_TSTRING) {
    std::size_t size = 0;
    const char* text = lua_tolstring(L, -1, &size);
    out.emplace(text, size);
  }
  lua_pop(L, 1);
  return out;
}

/// A double as Redis 7.0 writes it in RESP3 (`,<%.17g>`; inf and -inf spelled out).
std::string double_reply(lua_Number value) {
  const auto d = static_cast<double>(value);
  if (std::isinf(d)) return d > 0 ? ",inf\r\n" : ",-inf\r\n";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", d);
  return "," + std::string(buffer) + "\r\n";
}

/// Converts the value on top of the stack to a reply and pops it, as Redis 7.0 converts a
/// script's result. Written in RESP2, except for what only RESP3 can say (resp3.hpp): a table
/// with a `double`, `big_number`, `verbatim_string`, `map` or `set` field, and booleans after
/// redis.setresp(3) (`resp`); the gateway downgrades those for a RESP2 client (to_resp2).
void write_reply(lua_State* L, std::string& out, int depth, int resp) {
  if (depth > 64 || !lua_checkstack(L, 6)) {
    lua_pop(L, 1);
    out += resp::error("ERR reached lua stack limit");
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      std::size_t size = 0;
      const char* text = lua_tolstring(L, -1, &size);
      out += resp::bulk(std::string_view(text, size));
      break;
    }
    case LUA_TBOOLEAN:
      if (resp == 3)
        out += lua_toboolean(L, -1) ? "#t\r\n" : "#f\r\n";
      else
        out += lua_toboolean(L, -1) ? resp::integer(1) : resp::null_bulk();
      break;
    case LUA_TNUMBER:
      out += resp::integer(static_cast<long long>(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE: {
      // Raw reads, in Redis's order: err, ok, double, big_number, verbatim_string, map, set.
      // An error's and a status's text end at a NUL byte, as Redis reads them (C strings).
      if (auto text = string_field(L, "err")) {
        out += "-" + one_line(text->substr(0, text->find('\0'))) + "\r\n";
        break;
      }
      if (auto text = string_field(L, "ok")) {
        out += resp::simple(one_line(text->substr(0, text->find('\0'))));
        break;
      }
      lua_pushstring(L, "double");
      lua_rawget(L, -2);
      if (lua_type(L, -1) == LUA_TNUMBER) {
        out += double_reply(lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (auto text = string_field(L, "big_number")) {
        out += "(" + one_line(std::move(*text)) + "\r\n";
        break;
      }
      lua_pushstring(L, "verbatim_string");
      lua_rawget(L, -2);
      if (lua_type(L, -1) == LUA_TTABLE) {
        auto format = string_field(L, "format");
        auto text = string_field(L, "string");
        if (format && text) {
          // The format is three characters: cut, or padded with spaces, as Redis does.
          format->resize(3, ' ');
          out += "=" + std::to_string(text->size() + 4) + "\r\n" + *format + ":" + *text + "\r\n";
          lua_pop(L, 2);
          return;
        }
      }
      lua_pop(L, 1);
      for (const char* kind : {"map", "set"}) {
        lua_pushstring(L, kind);
        lua_rawget(L, -2);
        if (lua_type(L, -1) != LUA_TTABLE) {
          lua_pop(L, 1);
          continue;
        }
        const bool map = kind[0] == 'm';
        std::string items;
        std::size_t count = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) { // the table, its key, its value
          if (map) {
            lua_pushvalue(L, -2); // a copy of the key is converted; lua_next needs the key
            write_reply(L, items, depth + 1, resp);
            write_reply(L, items, depth + 1, resp);
          } else {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            write_reply(L, items, depth + 1, resp);
          }
          ++count;
        }
        out += std::string(map ? "%" : "~") + std::to_string(count) + "\r\n";
        out += items;
        lua_pop(L, 2);
        return;
      }
      std::string items;
      std::size_t count = 0;
      for (int i = 1;; ++i) {
        lua_rawgeti(L, -1, i);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        write_reply(L, items, depth + 1, resp);
        ++count;
      }
      out += resp::array_header(count);
      out += items;
      break;
    }
    default:
      out += resp::null_bulk();
  }
  lua_pop(L, 1);
}

struct state_closer {
  void operator()(lua_State* L) const { lua_close(L); }
};

} // namespace

std::string parse_script_flags(std::string_view body, script_flags& flags) {
  flags = {};
  if (!body.starts_with("#!")) return {};
  flags.shebang = true;
  const auto end = body.find('\n');
  if (end == std::string_view::npos) return resp::error("ERR Invalid script shebang");
  std::string_view line = body.substr(0, end);
  std::vector<std::string_view> parts;
  while (!line.empty()) {
    const auto space = line.find_first_of(" \t\r");
    if (space != 0) parts.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  if (parts.empty()) return resp::error("ERR Invalid engine in script shebang");
  if (parts[0] != "#!lua")
    return resp::error("ERR Unexpected engine in script shebang: " + std::string(parts[0]));
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (!parts[i].starts_with("flags="))
      return resp::error("ERR Unknown lua shebang option: " + std::string(parts[i]));
    std::string_view list = parts[i].substr(6);
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view flag = list.substr(0, comma);
      if (flag == "no-writes")
        flags.no_writes = true;
      else if (flag != "allow-oom" && flag != "allow-stale" && flag != "no-cluster" &&
               flag != "allow-cross-slot-keys")
        return resp::error("ERR Unexpected flag in script shebang: " + std::string(flag));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return {};
}

std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    out += hex[byte >> 4];
    out += hex[byte & 0xf];
  }
  return out;
}

std::string compile_script(std::string_view body) {
  run_state run;
  std::unique_ptr<lua_State, state_closer> owner(lua_newstate(&allocate, &run));
  if (owner == nullptr) return resp::error("ERR Error compiling script: out of memory");
  lua_State* L = owner.get();
  const std::string_view text = chunk_text(body);
  if (luaL_loadbuffer(L, text.data(), text.size(), "@user_script") != 0) {
    const char* message = lua_tostring(L, -1);
    return resp::error("ERR Error compiling script (new function): " +
                       std::string(message == nullptr ? "?" : message));
  }
  return {};
}

namespace {

/// A Lua state ready for a run: libraries, the redis table, the run's bookkeeping, and the
/// error handler at stack index 1. Null when even that does not fit in memory.
std::unique_ptr<lua_State, state_closer> new_state(run_state& run) {
  std::unique_ptr<lua_State, state_closer> owner(lua_newstate(&allocate, &run));
  if (owner == nullptr) return owner;
  lua_State* L = owner.get();
  lua_pushlightuserdata(L, &run);
  lua_setfield(L, LUA_REGISTRYINDEX, run_key);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, functions_key);
  // Setting up can only fail for memory; the limit is far above what it needs.
  lua_pushcfunction(L, [](lua_State* S) {
    prepare(S);
    return 0;
  });
  if (lua_pcall(L, 0, 0, 0) != 0) owner.reset();
  return owner;
}

/// The reply to a failed run (status from lua_pcall, the error on top of the stack), naming
/// the script `name` (a script's SHA1, a function's name) as Redis does.
std::string failure_reply(lua_State* L, const run_state& run, int status, const std::string& name) {
  if (run.out_of_instructions)
    return resp::error("ERR Script killed: it ran more than " +
                       std::to_string(limits::script_instructions_max) +
                       " Lua instructions (prez's deterministic script limit) script: " + name);
  if (status == LUA_ERRMEM || run.out_of_memory)
    return resp::error("ERR Error running script " + name + ", used more than " +
                       std::to_string(limits::script_memory_bytes_max) +
                       " bytes of Lua memory (prez's script limit)");
  if (lua_type(L, -1) != LUA_TTABLE) {
    const char* message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
    return resp::error("ERR Error running script " + name + ", " +
                       std::string(message == nullptr ? "execution failure" : message));
  }
  // Raw reads: the error may be any table of the script's, with metamethods that raise, and
  // nothing here runs under a protected call.
  lua_pushstring(L, "err");
  lua_rawget(L, -2);
  std::string message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "ERR unknown error";
  lua_pop(L, 1);
  lua_pushstring(L, "source");
  lua_rawget(L, -2);
  lua_pushstring(L, "line");
  lua_rawget(L, -3);
  if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER)
    message += " script: " + name + ", on " + lua_tostring(L, -2) + ":" +
               std::to_string(static_cast<long long>(lua_tonumber(L, -1))) + ".";
  lua_pop(L, 2);
  for (auto& c : message)
    if (c == '\r' || c == '\n') c = ' ';
  return "-" + message + "\r\n";
}

/// Calls the function below `nargs` arguments on top of the stack under the instruction hook,
/// with the error handler at index 1; returns the reply.
std::string call_and_reply(lua_State* L, run_state& run, int nargs, const std::string& name) {
  lua_sethook(L, &count_hook, LUA_MASKCOUNT, hook_every);
  run.limited = true;
  const int status = lua_pcall(L, nargs, 1, 1);
  run.limited = false;
  lua_sethook(L, nullptr, 0, 0);
  if (status != 0 || run.out_of_instructions) return failure_reply(L, run, status, name);
  std::string out;
  write_reply(L, out, 0, run.resp);
  return out;
}

void push_array(lua_State* L, const std::vector<std::string>& items) {
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    lua_pushlstring(L, items[i].data(), items[i].size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

/// Runs a library's code in `L` (its functions register themselves); returns the error reply
/// of FUNCTION LOAD, empty on success.
std::string define_library(lua_State* L, run_state& run, std::string_view code,
                           std::vector<function_info>& registered) {
  const std::string_view text = chunk_text(code);
  if (luaL_loadbuffer(L, text.data(), text.size(), "@user_function") != 0) {
    const char* message = lua_tostring(L, -1);
    return resp::error("ERR Error compiling function: " +
                       std::string(message == nullptr ? "?" : message));
  }
  run.loading = true;
  run.registered = &registered;
  lua_sethook(L, &count_hook, LUA_MASKCOUNT, hook_every);
  run.limited = true;
  const int status = lua_pcall(L, 0, 0, 1);
  run.limited = false;
  lua_sethook(L, nullptr, 0, 0);
  run.loading = false;
  run.registered = nullptr;
  if (status != 0 || run.out_of_instructions) {
    if (run.out_of_instructions) return resp::error("ERR FUNCTION LOAD timeout");
    std::string message = "execution failure";
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushstring(L, "err");
      lua_rawget(L, -2);
      if (lua_type(L, -1) == LUA_TSTRING) message = lua_tostring(L, -1);
      lua_pop(L, 1);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
      message = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
    for (auto& c : message)
      if (c == '\r' || c == '\n') c = ' ';
    return resp::error("ERR Error registering functions: " + message);
  }
  if (registered.empty()) return resp::error("ERR No functions registered");
  return {};
}

} // namespace

std::string run_script(std::string_view body, std::string_view sha,
                       const std::vector<std::string>& keys, const std::vector<std::string>& args,
                       std::uint64_t seed, script_host& host) {
  run_state run;
  run.host = &host;
  run.rand48 = seed & rand48_mask;
  auto owner = new_state(run);
  if (owner == nullptr) return resp::error("ERR cannot set up Lua: out of memory");
  lua_State* L = owner.get();
  set_array(L, "KEYS", keys);
  set_array(L, "ARGV", args);
  protect_globals(L);
  lua_pushcfunction(L, &error_handler);
  const std::string_view text = chunk_text(body);
  if (luaL_loadbuffer(L, text.data(), text.size(), "@user_script") != 0) {
    const char* message = lua_tostring(L, -1);
    return resp::error("ERR Error compiling script (new function): " +
                       std::string(message == nullptr ? "?" : message));
  }
  return call_and_reply(L, run, 0, std::string(sha)); // Redis 7.0 names a script by its SHA1
}

std::string parse_library_name(std::string_view code, std::string& name) {
  if (!code.starts_with("#!")) return resp::error("ERR Missing library metadata");
  const auto end = code.find('\n');
  if (end == std::string_view::npos) return resp::error("ERR Invalid library metadata");
  std::string_view line = code.substr(2, end - 2);
  std::vector<std::string_view> parts;
  while (!line.empty()) {
    const auto space = line.find_first_of(" \t\r");
    if (space != 0) parts.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  if (parts.empty()) return resp::error("ERR Invalid library metadata");
  bool named = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string lower(parts[i].substr(0, 5));
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower != "name=")
      return resp::error("ERR Invalid metadata value given: " + std::string(parts[i]));
    if (named)
      return resp::error("ERR Invalid metadata value, name argument was given multiple times");
    name = std::string(parts[i].substr(5));
    named = true;
  }
  if (!named) return resp::error("ERR Library name was not given");
  if (!valid_name(name))
    return resp::error("ERR Library names can only contain letters, numbers, or underscores(_) "
                       "and must be at least one character long");
  if (parts[0] != "lua") return resp::error("ERR Engine '" + std::string(parts[0]) + "' not found");
  return {};
}

std::string load_library(std::string_view code, library_info& out) {
  out = {};
  if (auto error = parse_library_name(code, out.name); !error.empty()) return error;
  run_state run;
  auto owner = new_state(run);
  if (owner == nullptr) return resp::error("ERR cannot set up Lua: out of memory");
  lua_State* L = owner.get();
  protect_globals(L);
  lua_pushcfunction(L, &error_handler);
  return define_library(L, run, code, out.functions);
}

std::string call_function(std::string_view code, std::string_view function,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args, std::uint64_t seed,
                          script_host& host) {
  run_state run;
  run.host = &host;
  run.rand48 = seed & rand48_mask;
  auto owner = new_state(run);
  if (owner == nullptr) return resp::error("ERR cannot set up Lua: out of memory");
  lua_State* L = owner.get();
  protect_globals(L);
  lua_pushcfunction(L, &error_handler);
  std::vector<function_info> registered;
  if (auto error = define_library(L, run, code, registered); !error.empty()) return error;
  lua_getfield(L, LUA_REGISTRYINDEX, functions_key);
  lua_getfield(L, -1, std::string(function).c_str());
  lua_remove(L, -2);
  if (!lua_isfunction(L, -1)) return resp::error("ERR Function not found");
  push_array(L, keys);
  push_array(L, args);
  return call_and_reply(L, run, 2, std::string(function));
}

} // namespace prez::kv
