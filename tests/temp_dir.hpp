#pragma once
// A directory of its own for one test, removed with everything in it when the test ends. Shared
// by the unit and actor tests.

#include <stdlib.h> // mkdtemp

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace prez::testing {

struct temp_dir {
  std::string path;

  /// Makes a fresh directory named `<prefix>-XXXXXX` under the system's temporary directory.
  explicit temp_dir(std::string_view prefix = "prez-test") {
    std::string pattern =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The path of `name` inside the directory (nothing is created).
  std::string file(std::string_view name) const { return path + "/" + std::string(name); }

  /// Writes `text` to `name` inside the directory, creating the folders on the way; returns its
  /// path.
  std::string write(std::string_view name, std::string_view text) const {
    const std::filesystem::path target = file(name);
    std::filesystem::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    REQUIRE(out.good());
    return target.string();
  }
};

} // namespace prez::testing
