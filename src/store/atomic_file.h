#pragma once
// Crash-safe file writes for the store: data goes to a temp file in the target's directory, is
// fsynced, renamed over the target, and the directory is fsynced. A crash at any point leaves
// either the old file or the new one, never a torn one.

#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::store {

// Creates `dir` and its parents (mode 0755). Throws Error(io).
void make_dirs(const std::string& dir);

// Writes `bytes` to `path` atomically (see above).
void write_file_atomic(const std::string& path, std::string_view bytes, unsigned mode = 0644);

// Renames `from` to `to` (same filesystem), then fsyncs `to`'s directory.
void rename_durable(const std::string& from, const std::string& to);

// fsyncs an open-able path (file or directory). Throws Error(io).
void fsync_path(const std::string& path);

// Reads a whole file of at most `max_bytes`. Throws Error(not_found / io / resource_exhausted).
std::string read_file(const std::string& path, uint64_t max_bytes);

// Copies `from` to `to` atomically (temp + fsync + rename). Throws Error(io).
void copy_file_atomic(const std::string& from, const std::string& to);

// Removes the empty directories from `dir` up to (not including) `stop`.
void remove_empty_parents(const std::string& dir, const std::string& stop);

// A unique temp name beside `path` ("<path>.tmp-<pid>-<n>").
std::string temp_path_for(const std::string& path);

bool path_exists(const std::string& path);

}  // namespace hearth::store
