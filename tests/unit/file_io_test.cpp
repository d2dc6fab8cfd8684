// replace_file: the atomic rewrite nodes.conf goes through.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdlib.h>

#include "actors/storage/file_io.hpp"

namespace fs = std::filesystem;
using namespace prez::storage;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("replace_file writes, overwrites and leaves no temporary file", "[file_io]") {
  std::string pattern = (fs::temp_directory_path() / "prez-file-io-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  const std::string path = pattern + "/nodes.conf";
  CHECK_FALSE(replace_file(path, "a 127.0.0.1:7000\n"));
  CHECK(read_all(path) == "a 127.0.0.1:7000\n");
  CHECK_FALSE(replace_file(path, "b 127.0.0.1:7001\n"));
  CHECK(read_all(path) == "b 127.0.0.1:7001\n");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(pattern)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
  auto error = replace_file(pattern + "/missing/nodes.conf", "x");
  REQUIRE(error);
  CHECK_THAT(*error, Catch::Matchers::Contains("cannot create"));
  fs::remove_all(pattern);
}
