// Snapshot files (docs/architecture.md §5). See snapshot_file.hpp for the format.
//
// Validation order, so that each kind of damage gets the most telling reason: the file's size,
// the header magic, the meta length, the trailer magic, the trailer's body length against the
// file size, the crc over header and body, then the meta's msgpack and the index in the name.
// Every length read from the file is checked against the file size before it is used, so no
// damaged file can make us allocate or read more than the file holds.

#include "actors/storage/snapshot_file.hpp"

#include "actors/storage/file_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/limits.hpp"

namespace prez::storage {

namespace {

constexpr std::string_view header_magic = "PREZSNP1";
constexpr std::string_view trailer_magic = "PREZEND1";
/// Magic and meta length.
constexpr std::uint64_t header_fixed_bytes = 8 + 4;
/// Body length, crc, magic.
constexpr std::uint64_t trailer_bytes = 8 + 4 + 8;
/// Body bytes a writer buffers before one write(2); also the read size of validation.
constexpr std::size_t io_piece_bytes = 1 << 20;
constexpr std::string_view name_prefix = "snapshot-";
constexpr std::size_t name_digits = 20;
constexpr std::string_view final_suffix = ".snap";
constexpr std::string_view temp_suffix = ".snap.tmp";
constexpr std::string_view receive_suffix = ".snap.recv";

void put_u32(std::string& out, std::uint32_t value) {
  put_le(out, value, 4);
}

void put_u64(std::string& out, std::uint64_t value) {
  put_le(out, value, 8);
}

/// "<path>: cannot read: <why>" for a failed read_exact.
std::string read_error(const std::string& path) {
  if (errno == 0) return path + ": file ended early (it changed while being read)";
  return path + ": cannot read: " + std::strerror(errno);
}

/// Closes a descriptor at scope exit.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

bool sync_fd(int fd, const std::string& path, const sync_observer& observer) {
  if (::fsync(fd) != 0) return false;
  if (observer) observer(path);
  return true;
}

std::string name_with_suffix(std::uint64_t last_index, std::string_view suffix) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%020" PRIu64, last_index);
  return std::string(name_prefix) + digits + std::string(suffix);
}

/// Parses "snapshot-<20 digits><suffix>"; nullopt for any other name.
std::optional<std::uint64_t> parse_name(std::string_view name, std::string_view suffix) {
  if (name.size() != name_prefix.size() + name_digits + suffix.size() ||
      name.substr(0, name_prefix.size()) != name_prefix ||
      name.substr(name_prefix.size() + name_digits) != suffix)
    return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = name_prefix.size(); i < name_prefix.size() + name_digits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string file_name_of(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string encode_meta(const snapshot_meta& meta) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, meta);
  return std::string(buffer.data(), buffer.size());
}

/// Decodes a meta under the msgpack limits of config/limits.hpp; nullopt for anything else than
/// exactly one array of the six fields (five in files written before membership changes), or a
/// configuration that breaks the membership invariant.
std::optional<snapshot_meta> decode_meta(const std::string& bytes) {
  try {
    msgpack::object_handle handle;
    std::size_t offset = 0;
    msgpack::unpack(handle, bytes.data(), bytes.size(), offset, nullptr, nullptr,
                    msgpack::unpack_limit(limits::msgpack_array_max, limits::msgpack_map_max,
                                          limits::msgpack_str_max, limits::msgpack_bin_max,
                                          limits::msgpack_ext_max, limits::msgpack_depth_max));
    const msgpack::object& root = handle.get();
    if (offset != bytes.size() || root.type != msgpack::type::ARRAY ||
        (root.via.array.size != 5 && root.via.array.size != 6))
      return std::nullopt;
    auto meta = root.as<snapshot_meta>();
    if (!check_membership(meta.config).empty()) return std::nullopt;
    return meta;
  } catch (const std::exception&) { // unpack_error, type_error (a bad_cast), bad_alloc
    return std::nullopt;
  }
}

/// The frame of a file whose size, magics and lengths check out.
struct snapshot_layout {
  std::uint64_t file_bytes = 0;
  std::uint64_t meta_bytes = 0;
  std::uint64_t body_bytes = 0;
};

/// Checks the size, magics and lengths of the open file `fd`.
std::variant<snapshot_layout, std::string> read_layout(int fd, const std::string& path) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return path + ": cannot stat: " + std::strerror(errno);
  snapshot_layout layout;
  layout.file_bytes = static_cast<std::uint64_t>(info.st_size);
  if (layout.file_bytes < header_fixed_bytes + trailer_bytes)
    return path + ": file of " + std::to_string(layout.file_bytes) +
           " bytes is shorter than a snapshot header and trailer (" +
           std::to_string(header_fixed_bytes + trailer_bytes) + " bytes)";
  if (layout.file_bytes > limits::snapshot_bytes_max)
    return path + ": file of " + std::to_string(layout.file_bytes) +
           " bytes is larger than limits::snapshot_bytes_max";
  char header[header_fixed_bytes];
  if (!read_exact(fd, header, sizeof header, 0)) return read_error(path);
  if (std::string_view(header, header_magic.size()) != header_magic)
    return path + ": bad header magic (not a prez snapshot)";
  layout.meta_bytes = get_le(header + header_magic.size(), 4);
  if (layout.meta_bytes > limits::snapshot_meta_bytes_max)
    return path + ": meta length " + std::to_string(layout.meta_bytes) +
           " is over limits::snapshot_meta_bytes_max";
  if (header_fixed_bytes + layout.meta_bytes + trailer_bytes > layout.file_bytes)
    return path + ": meta length " + std::to_string(layout.meta_bytes) +
           " runs past the end of the file";
  char trailer[trailer_bytes];
  if (!read_exact(fd, trailer, sizeof trailer, layout.file_bytes - trailer_bytes))
    return read_error(path);
  if (std::string_view(trailer + 12, trailer_magic.size()) != trailer_magic)
    return path + ": bad trailer magic (the file is incomplete or damaged)";
  layout.body_bytes = layout.file_bytes - header_fixed_bytes - layout.meta_bytes - trailer_bytes;
  const std::uint64_t stored_body_bytes = get_le(trailer, 8);
  if (stored_body_bytes != layout.body_bytes)
    return path + ": trailer says " + std::to_string(stored_body_bytes) +
           " body bytes but the file holds " + std::to_string(layout.body_bytes);
  const auto stored_crc = static_cast<std::uint32_t>(get_le(trailer + 8, 4));
  std::string piece(static_cast<std::size_t>(
                        std::min<std::uint64_t>(io_piece_bytes, layout.file_bytes - trailer_bytes)),
                    '\0');
  std::uint32_t crc = 0;
  for (std::uint64_t offset = 0; offset < layout.file_bytes - trailer_bytes;) {
    const auto size = static_cast<std::size_t>(
        std::min<std::uint64_t>(piece.size(), layout.file_bytes - trailer_bytes - offset));
    if (!read_exact(fd, piece.data(), size, offset)) return read_error(path);
    crc = crc32c_extend(crc, piece.data(), size);
    offset += size;
  }
  if (crc != stored_crc)
    return path + ": CRC mismatch (stored " + std::to_string(stored_crc) + ", computed " +
           std::to_string(crc) + ")";
  return layout;
}

/// Validates the file open as `fd` at `path`, whose name says it holds index `name_index`
/// (nullopt: a copy under any name, the index is not checked); `info.path` is set to `path`.
std::variant<snapshot_info, std::string> validate_fd(int fd, const std::string& path,
                                                     std::optional<std::uint64_t> name_index) {
  auto layout_or_error = read_layout(fd, path);
  if (auto* error = std::get_if<std::string>(&layout_or_error)) return *error;
  const auto& layout = std::get<snapshot_layout>(layout_or_error);
  std::string meta_bytes(static_cast<std::size_t>(layout.meta_bytes), '\0');
  if (!read_exact(fd, meta_bytes.data(), meta_bytes.size(), header_fixed_bytes))
    return read_error(path);
  auto meta = decode_meta(meta_bytes);
  if (!meta) return path + ": meta is not a msgpack snapshot_meta (a valid CRC: a writer bug?)";
  if (meta->last_index == 0) return path + ": meta says last index 0";
  if (name_index && meta->last_index != *name_index)
    return path + ": meta says last index " + std::to_string(meta->last_index) +
           " but the file name says " + std::to_string(*name_index);
  return snapshot_info{std::move(*meta), path, layout.file_bytes, layout.body_bytes};
}

/// validate_fd on the file at `path`, opened here.
std::variant<snapshot_info, std::string> validate_file(const std::string& path,
                                                       std::optional<std::uint64_t> name_index) {
  const fd_guard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) return path + ": cannot open: " + std::strerror(errno);
  return validate_fd(guard.fd, path, name_index);
}

/// Snapshot files in `dir` with `suffix`, as (index, path). A missing directory has none.
std::variant<std::vector<std::pair<std::uint64_t, std::string>>, std::string>
list_files(const std::string& dir, std::string_view suffix) {
  std::vector<std::pair<std::uint64_t, std::string>> found;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return found;
  for (const std::filesystem::directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (auto index = parse_name(name, suffix)) found.emplace_back(*index, it->path().string());
  }
  if (ec) return "cannot list " + dir + ": " + ec.message();
  return found;
}

/// After the snapshot of `written_index` became durable: see snapshot_writer::finish.
std::optional<std::string> prune(const std::string& dir, std::uint64_t written_index,
                                 std::size_t keep) {
  keep = std::max<std::size_t>(keep, 1);
  auto finals = list_files(dir, final_suffix);
  if (auto* error = std::get_if<std::string>(&finals)) return *error;
  auto& snapshots = std::get<0>(finals);
  std::sort(snapshots.begin(), snapshots.end(), std::greater<>());
  std::vector<std::string> doomed;
  for (std::size_t i = keep; i < snapshots.size(); ++i)
    if (snapshots[i].first < written_index) doomed.push_back(snapshots[i].second);
  for (std::string_view suffix : {temp_suffix, receive_suffix}) {
    auto temps = list_files(dir, suffix);
    if (auto* error = std::get_if<std::string>(&temps)) return *error;
    for (const auto& [index, path] : std::get<0>(temps))
      if (index <= written_index) doomed.push_back(path);
  }
  for (const std::string& path : doomed)
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return errno_text("snapshot is durable, but cannot remove old", path);
  return std::nullopt;
}

} // namespace

std::string snapshot_file_name(std::uint64_t last_index) {
  return name_with_suffix(last_index, final_suffix);
}

// --- snapshot_writer ----------------------------------------------------------------------------

snapshot_writer::snapshot_writer(std::string dir, snapshot_meta meta, int fd,
                                 sync_observer observer)
    : dir_(std::move(dir)), meta_(std::move(meta)),
      temp_path_(dir_ + "/" + name_with_suffix(meta_.last_index, temp_suffix)),
      final_path_(dir_ + "/" + snapshot_file_name(meta_.last_index)), fd_(fd),
      observer_(std::move(observer)) {}

snapshot_writer::~snapshot_writer() {
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_) ::unlink(temp_path_.c_str()); // nothing to do about a failure here
}

std::variant<std::unique_ptr<snapshot_writer>, std::string>
snapshot_writer::create(const std::string& dir, const snapshot_meta& meta, sync_observer observer) {
  if (meta.last_index == 0) return "snapshot of last index 0: there is nothing to cover";
  const std::string meta_bytes = encode_meta(meta);
  if (meta_bytes.size() > limits::snapshot_meta_bytes_max)
    return "snapshot meta encodes to " + std::to_string(meta_bytes.size()) +
           " bytes, over limits::snapshot_meta_bytes_max";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create directory " + dir + ": " + ec.message();
  const std::string temp_path = dir + "/" + name_with_suffix(meta.last_index, temp_suffix);
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("cannot create", temp_path);
  // From here the writer owns fd and removes the temp file on every failure.
  std::unique_ptr<snapshot_writer> writer(new snapshot_writer(dir, meta, fd, std::move(observer)));
  writer->buffer_.append(header_magic);
  put_u32(writer->buffer_, static_cast<std::uint32_t>(meta_bytes.size()));
  writer->buffer_.append(meta_bytes);
  writer->crc_ = crc32c(writer->buffer_.data(), writer->buffer_.size());
  if (auto error = writer->flush()) return *error;
  return writer;
}

std::optional<std::string> snapshot_writer::fail(std::string error) {
  if (!failed_) failed_ = std::move(error);
  return failed_;
}

std::optional<std::string> snapshot_writer::flush() {
  if (buffer_.empty()) return std::nullopt;
  if (!write_all(fd_, buffer_.data(), buffer_.size(), file_offset_))
    return fail(errno_text("cannot write", temp_path_));
  file_offset_ += buffer_.size();
  buffer_.clear();
  return std::nullopt;
}

std::optional<std::string> snapshot_writer::append(std::string_view body_bytes) {
  if (failed_) return failed_;
  if (finished_) return "snapshot " + final_path_ + " is already finished";
  const std::uint64_t file_bytes =
      file_offset_ + buffer_.size() + body_bytes.size() + trailer_bytes;
  if (file_bytes > limits::snapshot_bytes_max)
    return fail("snapshot " + final_path_ + " would grow to " + std::to_string(file_bytes) +
                " bytes, over limits::snapshot_bytes_max");
  crc_ = crc32c_extend(crc_, body_bytes.data(), body_bytes.size());
  body_bytes_ += body_bytes.size();
  buffer_.append(body_bytes);
  if (buffer_.size() >= io_piece_bytes) return flush();
  return std::nullopt;
}

std::variant<snapshot_info, std::string> snapshot_writer::finish(std::size_t keep) {
  if (failed_) return *failed_;
  if (finished_) return "snapshot " + final_path_ + " is already finished";
  finished_ = true;
  put_u64(buffer_, body_bytes_);
  put_u32(buffer_, crc_);
  buffer_.append(trailer_magic);
  if (auto error = flush()) return *error;
  if (!sync_fd(fd_, temp_path_, observer_)) return *fail(errno_text("cannot fsync", temp_path_));
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return *fail(errno_text("cannot close", temp_path_));
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    return *fail(errno_text("cannot rename " + temp_path_ + " to", final_path_));
  renamed_ = true;
  if (auto error = sync_directory(dir_, observer_)) return *fail(*error);
  if (auto error = prune(dir_, meta_.last_index, keep)) return *fail(*error);
  return snapshot_info{meta_, final_path_, file_offset_, body_bytes_};
}

// --- reading ------------------------------------------------------------------------------------

std::variant<snapshot_info, std::string> validate_snapshot(const std::string& path) {
  const auto name_index = parse_name(file_name_of(path), final_suffix);
  if (!name_index) return path + ": not a snapshot file name (snapshot-<20 digits>.snap)";
  return validate_file(path, *name_index);
}

std::optional<snapshot_info> newest_valid_snapshot(const std::string& dir,
                                                   std::vector<std::string>& refused) {
  auto listed = list_files(dir, final_suffix);
  if (auto* error = std::get_if<std::string>(&listed)) {
    refused.push_back(*error);
    return std::nullopt;
  }
  auto& snapshots = std::get<0>(listed);
  std::sort(snapshots.begin(), snapshots.end(), std::greater<>());
  for (const auto& [index, path] : snapshots) {
    auto validated = validate_file(path, index);
    if (auto* info = std::get_if<snapshot_info>(&validated)) return std::move(*info);
    refused.push_back(std::get<std::string>(validated));
  }
  return std::nullopt;
}

std::variant<snapshot_info, std::string> validate_snapshot_copy(const std::string& path) {
  return validate_file(path, std::nullopt);
}

bool has_snapshot_files(const std::string& dir) {
  auto listed = list_files(dir, final_suffix);
  return std::holds_alternative<std::vector<std::pair<std::uint64_t, std::string>>>(listed) &&
         !std::get<0>(listed).empty();
}

std::optional<std::string>
read_snapshot_body(const std::string& path,
                   const std::function<std::optional<std::string>(std::string_view)>& sink,
                   std::size_t piece_bytes, snapshot_info* info_out, bool any_name) {
  const auto name_index = parse_name(file_name_of(path), final_suffix);
  if (!name_index && !any_name)
    return path + ": not a snapshot file name (snapshot-<20 digits>.snap)";
  // One descriptor for validating and reading, so the body read is the one validated even if
  // the name is replaced meanwhile.
  const fd_guard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) return path + ": cannot open: " + std::strerror(errno);
  auto validated = validate_fd(guard.fd, path, any_name ? std::nullopt : name_index);
  if (auto* error = std::get_if<std::string>(&validated)) return *error;
  const auto& info = std::get<snapshot_info>(validated);
  if (info_out != nullptr) *info_out = info;
  const std::uint64_t body_offset = info.file_bytes - trailer_bytes - info.body_bytes;
  std::string piece(
      static_cast<std::size_t>(std::min<std::uint64_t>(
          std::max<std::size_t>(piece_bytes, 1), std::max<std::uint64_t>(info.body_bytes, 1))),
      '\0');
  for (std::uint64_t done = 0; done < info.body_bytes;) {
    const auto size =
        static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), info.body_bytes - done));
    if (!read_exact(guard.fd, piece.data(), size, body_offset + done)) return read_error(path);
    if (auto error = sink(std::string_view(piece.data(), size))) return error;
    done += size;
  }
  return std::nullopt;
}

snapshot_chunk read_snapshot_chunk(const std::string& path, std::uint64_t offset,
                                   std::size_t max_bytes) {
  snapshot_chunk chunk;
  const fd_guard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) {
    chunk.error = path + ": cannot open: " + std::strerror(errno);
    return chunk;
  }
  struct stat info {};
  if (::fstat(guard.fd, &info) != 0) {
    chunk.error = path + ": cannot stat: " + std::strerror(errno);
    return chunk;
  }
  chunk.file_bytes = static_cast<std::uint64_t>(info.st_size);
  if (offset > chunk.file_bytes) {
    chunk.error = path + ": offset " + std::to_string(offset) + " is past the end of the file (" +
                  std::to_string(chunk.file_bytes) + " bytes)";
    return chunk;
  }
  chunk.bytes.resize(
      static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, chunk.file_bytes - offset)));
  if (!read_exact(guard.fd, chunk.bytes.data(), chunk.bytes.size(), offset)) {
    chunk.bytes.clear();
    chunk.error = read_error(path);
  }
  return chunk;
}

// --- snapshot_receiver --------------------------------------------------------------------------

snapshot_receiver::snapshot_receiver(std::string dir, std::uint64_t last_index,
                                     std::uint64_t last_term, int fd, sync_observer observer)
    : dir_(std::move(dir)), last_index_(last_index), last_term_(last_term),
      receive_path_(dir_ + "/" + name_with_suffix(last_index, receive_suffix)),
      final_path_(dir_ + "/" + snapshot_file_name(last_index)), fd_(fd),
      observer_(std::move(observer)) {}

snapshot_receiver::~snapshot_receiver() {
  if (fd_ >= 0) ::close(fd_);
  if (!renamed_) ::unlink(receive_path_.c_str()); // nothing to do about a failure here
}

std::variant<std::unique_ptr<snapshot_receiver>, std::string>
snapshot_receiver::create(const std::string& dir, std::uint64_t last_index, std::uint64_t last_term,
                          sync_observer observer) {
  if (last_index == 0) return "snapshot of last index 0: there is nothing to receive";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create directory " + dir + ": " + ec.message();
  const std::string path = dir + "/" + name_with_suffix(last_index, receive_suffix);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text("cannot create", path);
  return std::unique_ptr<snapshot_receiver>(
      new snapshot_receiver(dir, last_index, last_term, fd, std::move(observer)));
}

std::optional<std::string> snapshot_receiver::fail(std::string error) {
  if (!failed_) failed_ = std::move(error);
  return failed_;
}

std::optional<std::string> snapshot_receiver::write(std::uint64_t offset, std::string_view bytes) {
  if (failed_) return failed_;
  if (finished_) return receive_path_ + ": the snapshot is already finished";
  if (offset != received_)
    return receive_path_ + ": chunk at offset " + std::to_string(offset) + " where " +
           std::to_string(received_) + " was expected";
  if (bytes.size() > limits::snapshot_bytes_max - received_)
    return receive_path_ + ": a chunk of " + std::to_string(bytes.size()) + " bytes at offset " +
           std::to_string(offset) + " would take the file over limits::snapshot_bytes_max";
  if (!write_all(fd_, bytes.data(), bytes.size(), received_))
    return fail(errno_text("cannot write", receive_path_));
  received_ += bytes.size();
  return std::nullopt;
}

std::variant<snapshot_info, std::string> snapshot_receiver::finish(std::size_t keep) {
  if (failed_) return *failed_;
  if (finished_) return receive_path_ + ": the snapshot is already finished";
  finished_ = true;
  auto validated = validate_fd(fd_, receive_path_, last_index_);
  if (auto* error = std::get_if<std::string>(&validated)) return *error;
  auto& info = std::get<snapshot_info>(validated);
  if (info.meta.last_term != last_term_)
    return receive_path_ + ": meta says last term " + std::to_string(info.meta.last_term) +
           " but the leader announced " + std::to_string(last_term_);
  if (info.file_bytes != received_)
    return receive_path_ + ": holds " + std::to_string(info.file_bytes) + " bytes but " +
           std::to_string(received_) + " were received";
  if (!sync_fd(fd_, receive_path_, observer_))
    return *fail(errno_text("cannot fsync", receive_path_));
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return *fail(errno_text("cannot close", receive_path_));
  if (::rename(receive_path_.c_str(), final_path_.c_str()) != 0)
    return *fail(errno_text("cannot rename " + receive_path_ + " to", final_path_));
  renamed_ = true;
  if (auto error = sync_directory(dir_, observer_)) return *fail(*error);
  if (auto error = prune(dir_, last_index_, keep)) return *fail(*error);
  info.path = final_path_;
  return std::move(info);
}

} // namespace prez::storage
