#!/usr/bin/env bash
# Installs dependencies, builds a release prez-server and runs a local 3-node cluster in the
# foreground (client ports 9000-9002, cluster ports 9100-9102, data in ./local-cluster/).
# Ctrl-C stops all three; their data stays for the next start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREZ_TESTS=OFF -DPREZ_WERROR=OFF >/dev/null
cmake --build build-release --target prez-server
root=local-cluster
mkdir -p "$root"
: > "$root/nodes.conf.new"
for i in 0 1 2; do
  echo "node-900$i 127.0.0.1:910$i" >> "$root/nodes.conf.new"
done
mv "$root/nodes.conf.new" "$root/nodes.conf"
pids=()
cleanup() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "cluster stopped; data kept in $root/"
}
trap cleanup INT TERM EXIT
for i in 0 1 2; do
  mkdir -p "$root/node-900$i"
  cat > "$root/node-900$i/prez.conf" <<CONF
name node-900$i
port 900$i
bind 127.0.0.1
cluster-port 910$i
cluster-config-file ../nodes.conf
cluster-node-timeout 1000
loglevel notice
dir ./data
CONF
  ./build-release/prez-server "$root/node-900$i/prez.conf" &
  pids+=($!)
done
sleep 2
cat <<MSG

prez: 3 nodes running. Talk to any of them:
  redis-cli -p 9000 set hello world
  redis-cli -p 9001 get hello
  redis-cli -p 9002 info raft
Press Ctrl-C to stop all three (data stays in $root/).

MSG
wait
