#include <catch2/catch.hpp>

#include <string>

#include "actors/state_machine/command_counts.hpp"

using prez::command_counts;

TEST_CASE("Applied commands are counted by lower-case name") {
  command_counts counts;
  counts.count("SET");
  counts.count("set");
  counts.count("Incr");
  counts.count("raft.node");
  CHECK(counts.counts().at("set") == 2);
  CHECK(counts.counts().at("incr") == 1);
  CHECK(counts.counts().at("raft.node") == 1);
  CHECK(counts.counts().size() == 3);
}

TEST_CASE("Odd names count as other, and the number of names is bounded") {
  command_counts counts;
  counts.count("");
  counts.count(std::string(command_counts::name_bytes_max + 1, 'a'));
  counts.count("se t");
  counts.count("s\"et");
  counts.count("\n");
  CHECK(counts.counts().at("other") == 5);
  CHECK(counts.counts().size() == 1);
  for (std::size_t i = 0; i < command_counts::names_max + 50; ++i)
    counts.count("cmd" + std::to_string(i));
  CHECK(counts.counts().size() == command_counts::names_max + 1);
  CHECK(counts.counts().at("other") == 5 + 50);
}
