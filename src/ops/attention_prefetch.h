#pragma once
// How decode attention (attention_tile.h) gets its cache rows from memory while it computes: the
// first block of a tile's keys touched at once (attn_touch_bytes), each later block asked for
// while the block before it is computed (AttnPrefetch). Prefetches change no result; the tests
// (tests/ops/attention_prefetch_test.cc) follow the walk's addresses.

#include <algorithm>
#include <cstdint>

namespace hearth::ops {
// Internal to each file that includes this: the tier files compile it with their ISA's flags,
// and an inline function or member with external linkage would be one copy for all of them, the
// linker's pick (it picked the baseline one so far; an AVX-512 one would fault on other CPUs).
namespace {

// Asks for the next block of keys' K and V rows while this block is computed, so that decode's
// arithmetic and its reads from memory overlap. The kernels call step(work) as they go, with
// the multiply-adds they did; the lines are requested in address order (K rows, then V rows) at
// a rate that spreads the whole block over this block's work. Prefetched into L2 (hint 2): both
// blocks' rows do not fit in L1. ops_attention decode_ctx16384_cold (hearth_bench, alternated
// twice), against touching each block's rows before computing it: 1 thread 91 -> 113-118, 2
// threads 166-171 -> 202-214 M head-keys/s (F16, cold).
struct AttnPrefetch {
  const char* base[2] = {nullptr, nullptr};  // K, V: row 0 of the next block, at the tile's heads
  int64_t row_bytes[2] = {0, 0};
  int64_t count[2] = {0, 0};                 // bytes of each row to request
  int64_t rows[2] = {0, 0};                  // K's rows may be tiles of keys (kKvKeyTile), V's not
  int64_t work_per_line = 1;
  int64_t credit = 0;
  int which = 2;                             // 0: K rows, 1: V rows, 2: done
  int64_t row = 0;                           // the row of `which` that holds the current span
  // The current span's next line and its end: one row's bytes, or all rows' when they are
  // contiguous (a tile over every KV head reads whole rows). step() walks it with two pointers
  // in registers: the walk's bookkeeping, kept in memory, once drew ~17 % of the F16 decode scores
  // kernel's samples and ~25 % of the value kernel's (perf annotate, ops_attention/decode_ctx16384).
  const char* cur = nullptr;
  const char* span_end = nullptr;

  // `work`: the multiply-adds of this block (per line requested: work / lines).
  void start(const void* k, int64_t k_row_bytes, int64_t k_count, int64_t k_rows, const void* v,
             int64_t v_row_bytes, int64_t v_count, int64_t v_rows, int64_t work) {
    base[0] = static_cast<const char*>(k);
    base[1] = static_cast<const char*>(v);
    row_bytes[0] = k_row_bytes;
    row_bytes[1] = v_row_bytes;
    count[0] = k_rows > 0 ? k_count : 0;
    count[1] = v_rows > 0 ? v_count : 0;
    rows[0] = k_rows;
    rows[1] = v_rows;
    const int64_t lines = k_rows * ((count[0] + 63) / 64) + v_rows * ((count[1] + 63) / 64);
    work_per_line = std::max<int64_t>(1, lines > 0 ? work / lines : 1);
    credit = 0;
    which = lines > 0 ? (count[0] > 0 ? 0 : 1) : 2;
    row = 0;
    if (which != 2) open_span();
  }
  void stop() { which = 2; }
  // The next line's address in the walk (null past the last).
  const char* next() {
    if (which == 2 || (cur >= span_end && !next_span())) return nullptr;
    const char* a = cur;
    cur += 64;
    return a;
  }
  void step(int64_t work) {
    int64_t cr = credit + work;
    const int64_t per = work_per_line;
    if (cr < per || which == 2) {
      credit = cr;
      return;
    }
    const char* c = cur;
    const char* e = span_end;
    for (; cr >= per; cr -= per) {
      if (c >= e) {
        cur = c;
        if (!next_span()) break;
        c = cur;
        e = span_end;
      }
      __builtin_prefetch(c, 0, 2);
      c += 64;
    }
    cur = c;
    credit = cr;
  }

 private:
  void open_span() {
    cur = base[which] + row * row_bytes[which];
    if (count[which] == row_bytes[which]) {  // the rows are one range
      span_end = cur + (rows[which] - row) * row_bytes[which];
      row = rows[which] - 1;
    } else {
      span_end = cur + count[which];
    }
  }
  // Moves to the next row's span (or the values' first); false when the walk is done.
  bool next_span() {
    if (++row == rows[which]) {
      row = 0;
      if (which != 0 || count[1] == 0) {
        which = 2;
        return false;
      }
      which = 1;
    }
    open_span();
    return true;
  }
};

// Reads one byte of every cache line of bytes [offset, offset + count) of rows [first, first + n)
// (row_bytes apart): a loop of independent loads keeps many misses in flight, so the block arrives
// from memory at the rate the memory gives, and the kernels then read it from cache. Read in place
// by the FMA loops, each miss would wait behind the arithmetic of the rows before it.
static inline void attn_touch_bytes(const void* base, int64_t row_bytes, int64_t first, int64_t n, int64_t offset,
                                    int64_t count) {
  const char* p = static_cast<const char*>(base) + first * row_bytes + offset;
  uint32_t sink = 0;
  for (int64_t j = 0; j < n; ++j) {
    const char* r = p + j * row_bytes;
    for (int64_t b = 0; b < count; b += 64) sink += static_cast<uint8_t>(r[b]);
    sink += static_cast<uint8_t>(r[count - 1]);  // the last line, when the range starts mid-line
  }
  asm volatile("" : : "r"(sink));
}

}  // namespace
}  // namespace hearth::ops
