#!/usr/bin/env bash
# Runs Redis 7.0.15's own test suite (Debian's redis source package) against a follower of a
# 3-node prez cluster and, with the same flags, against a real redis-server, and prints a per-unit
# table of passed tests (docs/compatibility.md records a run). Not part of CI: it takes a while.
#
#   bash scripts/redis-suite.sh [path/to/prez-server] [unit ...]
#
# The source is fetched with a throw-away deb-src list under $REDIS_SUITE_DIR (default
# /tmp/prez-redis-suite); the machine's apt sources are not touched and no Redis code enters the
# repository. Needs tclsh (Debian's tcl package) and redis-server (for the comparison run).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-build/prez-server}")
shift || true
units=("$@")
if ((${#units[@]} == 0)); then
  units=(unit/protocol unit/type/string unit/type/incr unit/keyspace unit/expire unit/type/hash
         unit/type/list unit/type/list-2 unit/type/list-3 unit/type/set unit/type/zset unit/multi
         unit/info-command unit/quit unit/scan unit/bitops unit/sort unit/dump)
fi
work=${REDIS_SUITE_DIR:-/tmp/prez-redis-suite}
per_unit_timeout=${REDIS_SUITE_UNIT_TIMEOUT:-900}
# What a Raft store cannot offer (DEBUG, replication commands, SAVE, maxmemory, latency, the
# server as a local process) and the slow tests, as the issue asks.
tags="-needs:debug -needs:repl -needs:save -needs:config-maxmemory -needs:reset -needs:latency -needs:local-process -slow"
flags=(--singledb --ignore-encoding --ignore-digest --durable --clients 1 --tags "$tags")

for tool in tclsh redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "redis-suite: $tool is missing (apt-get install tcl redis-server)"; exit 1; }
done

# --- fetch Redis's source: Debian's package for the installed redis-server's upstream version ---
src=$work/src
mkdir -p "$work/aptsrc/lists/partial" "$work/aptsrc/parts" "$src"
upstream=$(dpkg-query -W -f='${Version}' redis-server | sed -E 's/^[0-9]+://; s/-.*//')
tree=$src/redis-$upstream
if [[ ! -d $tree/tests ]]; then
  awk 'BEGIN{RS="";ORS="\n\n"} /debian-archive-keyring/ && !done {sub(/Types: deb/,"Types: deb-src"); print; done=1}' \
    /etc/apt/sources.list.d/debian.sources >"$work/aptsrc/parts/debsrc.sources"
  apto=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/aptsrc/parts"
        -o Dir::State::Lists="$work/aptsrc/lists")
  apt-get "${apto[@]}" update >/dev/null
  (cd "$src" && apt-get "${apto[@]}" source --download-only redis >/dev/null 2>&1)
  tar -xzf "$src/redis_${upstream}.orig.tar.gz" -C "$src"
fi
echo "redis-suite: Redis $upstream's tests in $tree"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() {
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  ((${#pids[@]})) && wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
trap cleanup EXIT INT TERM

# Starts a fresh 3-node prez cluster; sets `port` to a follower's client port once writes through
# it work. (Not called in $(...): the server pids must reach this shell's `pids` for cleanup.)
start_prez() {
  local root=$1 ports=() cports=()
  rm -rf "$root" && mkdir -p "$root"
  for i in 0 1 2; do ports+=("$(free_port)"); cports+=("$(free_port)"); done
  for i in 0 1 2; do echo "n$i 127.0.0.1:${cports[$i]}"; done >"$root/nodes.conf"
  for i in 0 1 2; do
    mkdir -p "$root/n$i"
    printf 'name n%s\nport %s\nbind 127.0.0.1\ncluster-port %s\ncluster-config-file ../nodes.conf\ncluster-node-timeout 1000\nloglevel warning\ndir ./data\n' \
      "$i" "${ports[$i]}" "${cports[$i]}" >"$root/n$i/prez.conf"
    "$binary" "$root/n$i/prez.conf" >"$root/n$i/server.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 1 100); do
    for p in "${ports[@]}"; do
      if redis-cli -p "$p" info raft 2>/dev/null | grep -q '^role:follower'; then
        # A follower that forwards a write to the leader: the cluster is ready.
        if [[ $(redis-cli -p "$p" set redis-suite-probe 1 2>/dev/null) == OK ]]; then
          redis-cli -p "$p" del redis-suite-probe >/dev/null
          port=$p
          return 0
        fi
      fi
    done
    sleep 0.2
  done
  echo "redis-suite: the prez cluster in $root found no leader" >&2
  return 1
}

# Starts a real redis-server; sets `port` (not called in $(...), as start_prez).
start_redis() {
  port=$(free_port)
  redis-server --port "$port" --save '' --appendonly no --daemonize no >"$work/redis-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# Runs one unit against host:port; prints "ok err exception" counts. The run's log is kept.
run_unit() {
  local unit=$1 port=$2 log=$3
  (cd "$tree" && timeout "$per_unit_timeout" tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" \
     "${flags[@]}" --single "$unit" >"$log" 2>&1) || true
  sed -i 's/\x1b\[[0-9;]*m//g' "$log" # the suite colours its output
  local ok err exc
  ok=$(grep -c '^\[ok\]' "$log" || true)
  err=$(grep -c '^\[err\]' "$log" || true)
  exc=$(grep -c '^\[exception\]' "$log" || true)
  echo "$ok $err $exc"
}

mkdir -p "$work/logs"
printf '| unit | redis-server ok | prez ok | prez err | prez aborted | prez / redis |\n'
printf '|---|---|---|---|---|---|\n'
total_redis=0 total_prez=0
for unit in "${units[@]}"; do
  name=${unit//\//_}
  start_redis
  read -r rok _ _ < <(run_unit "$unit" "$port" "$work/logs/$name.redis.log")
  cleanup
  start_prez "$work/cluster"
  read -r pok perr pexc < <(run_unit "$unit" "$port" "$work/logs/$name.prez.log")
  cleanup
  aborted=no
  ((pexc > 0)) && aborted=yes
  ratio=$(python3 -c "print(f'{$pok/$rok*100:.0f} %' if $rok else '-')")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$unit" "$rok" "$pok" "$perr" "$aborted" "$ratio"
  total_redis=$((total_redis + rok)) total_prez=$((total_prez + pok))
done
ratio=$(python3 -c "print(f'{$total_prez/$total_redis*100:.1f} %' if $total_redis else '-')")
printf '| **all** | %s | %s | | | %s |\n' "$total_redis" "$total_prez" "$ratio"
echo "redis-suite: logs in $work/logs (failures: grep -A3 '^\\[err\\]\\|^\\[exception\\]')"
