#!/usr/bin/env bash
# Installs everything prez needs to build and test, from Debian's archive. Run as root (or with sudo).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config     # toolchain
  libcaf-dev libmsgpack-cxx-dev libspdlog-dev       # CAF 0.17.6, msgpack-c, spdlog
  liblua5.1-0-dev lua-cjson lua-bitop               # EVAL: Lua 5.1 with cjson and bit
  libssl-dev                                        # libcrypto (cluster-secret HMAC), libssl (TLS file check)
  openssl                                           # the openssl tool: test_tls.py makes its certificates
  catch2                                            # Catch2 v2 for the tests
  python3 redis-tools redis-server python3-redis    # integration tests (redis-cli, differential Redis, redis-py)
  clang-format                                      # format check
  ccache                                            # faster rebuilds (optional for the build)
  faketime                                          # clock-skew tests (libfaketime)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# test_bullmq.py runs BullMQ + ioredis (scripts/test.sh installs them with npm ci): Node and npm
# from Debian (nodejs npm), unless a node and npm are already on the PATH (Debian's npm conflicts
# with other builds of nodejs, e.g. NodeSource's, which carry their own npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
