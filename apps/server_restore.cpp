#include "apps/server_restore.hpp"

#include <cstdio>
#include <string>
#include <variant>

#include "actors/storage/snapshot_restore.hpp"
#include "config/node_config.hpp"

namespace prez {

bool is_restore_command(int argc, char** argv) {
  return argc >= 2 && std::string(argv[1]) == "--restore";
}

int run_restore_command(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr,
                 "usage: prez-server --restore <backup file> [path/to/prez.conf]\n"
                 "  writes a new one-node cluster from the backup into the node's data dir (which\n"
                 "  must be empty or missing), then exits; start the node as usual afterwards\n");
    return 2;
  }
  const std::string backup = argv[2];
  node_config config;
  if (argc == 4) {
    auto loaded = load_node_config(argv[3]);
    if (auto* error = std::get_if<config_error>(&loaded)) {
      std::fprintf(stderr, "prez-server: %s\n", error->message.c_str());
      return 1;
    }
    config = std::get<node_config>(std::move(loaded));
  } else {
    config = default_single_node_config();
  }
  const auto target = storage::restore_target_of(config);
  auto restored = storage::restore_snapshot(backup, target);
  if (auto* error = std::get_if<std::string>(&restored)) {
    std::fprintf(stderr, "prez-server: restore refused: %s\n", error->c_str());
    return 1;
  }
  const auto& result = std::get<storage::restore_result>(restored);
  std::printf("restored %s into %s: index %llu, term %llu, %llu keys, %llu bytes; a one-voter "
              "cluster of %s%s%s\nstart it with: prez-server%s%s\n",
              backup.c_str(), target.dir.c_str(),
              static_cast<unsigned long long>(result.meta.last_index),
              static_cast<unsigned long long>(result.meta.last_term),
              static_cast<unsigned long long>(result.keys),
              static_cast<unsigned long long>(result.file_bytes), target.name.c_str(),
              target.address.empty() ? "" : " at ", target.address.c_str(), argc == 4 ? " " : "",
              argc == 4 ? argv[3] : "");
  return 0;
}

} // namespace prez
