// AttnPrefetch (attention_prefetch.h): the walk that asks for the next block of keys while decode
// computes this one. Prefetches change no result, so what can go wrong is the walk: a line of the
// block never asked for (it then arrives late, from memory, inside the arithmetic), a line asked
// for twice, or an address outside the rows. These tests follow the walk's addresses.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ops/attention_prefetch.h"

namespace hearth::ops {
namespace {

std::vector<int64_t> walk(AttnPrefetch& pf, const char* origin) {
  std::vector<int64_t> out;
  for (const char* a = pf.next(); a != nullptr; a = pf.next()) out.push_back(a - origin);
  return out;
}

// Every line of bytes [offset, offset + count) of `rows` rows, row_bytes apart, in address order.
std::vector<int64_t> lines(int64_t first, int64_t row_bytes, int64_t offset, int64_t count, int64_t rows) {
  std::vector<int64_t> out;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < count; b += 64) out.push_back(first + r * row_bytes + offset + b);
  }
  return out;
}

TEST(AttnPrefetch, WalksTheKeyRowsThenTheValueRowsLineByLine) {
  // Two KV heads of 96 F16 elements (192 bytes: three lines) out of four, rows 384 bytes
  // apart; Q8_0-like odd counts in the values (2 x 34 bytes: the last line is partial).
  static char mem[128 * 1024];
  char *k = mem, *v = mem + 64 * 1024;
  AttnPrefetch pf;
  pf.start(k + 5 * 768 + 192, 768, 384, 7, v + 5 * 272 + 68, 272, 136, 7, 1000);
  std::vector<int64_t> want = lines(5 * 768, 768, 192, 384, 7);
  for (int64_t a : lines(5 * 272, 272, 68, 136, 7)) want.push_back(a + (v - k));
  EXPECT_EQ(walk(pf, k), want);
  EXPECT_EQ(pf.next(), nullptr);
}

TEST(AttnPrefetch, WholeRowsAreOneRangeOfLines) {
  // A tile over every KV head reads whole rows: 5 rows of 272 bytes (Q8_0, 2 heads of 4 blocks)
  // are one range of 1,360 bytes, asked for a line at a time from its first byte; no line of the
  // range is missed and none past it is asked for.
  static char mem[8192];
  AttnPrefetch pf;
  pf.start(mem + 3 * 272, 272, 272, 5, mem + 4096, 512, 512, 5, 1000);
  std::vector<int64_t> want;
  for (int64_t b = 0; b < 5 * 272; b += 64) want.push_back(3 * 272 + b);
  for (int64_t b = 0; b < 5 * 512; b += 64) want.push_back(4096 + b);
  EXPECT_EQ(walk(pf, mem), want);
}

TEST(AttnPrefetch, TiledKeysAreWalkedATileAtATime) {
  // Keys in tiles of 16 positions (attention.h kKvKeyTile), 2 KV heads of 64 F16 elements: a
  // tile is 16 x 256 bytes, head 1's slice of it the 2,048 bytes from 2,048. 37 keys are 3
  // tiles (the last one partial); the values stay rows, 37 of them.
  static char k[16 * 4096], v[16 * 4096];
  AttnPrefetch pf;
  pf.start(k + 2048, 4096, 2048, 3, v + 128, 256, 128, 37, 1000);
  std::vector<int64_t> want = lines(0, 4096, 2048, 2048, 3);
  for (int64_t a : lines(0, 256, 128, 128, 37)) want.push_back(a + (v - k));
  EXPECT_EQ(walk(pf, k), want);
  // Over both heads the tiles are one range: 3 x 4,096 bytes.
  pf.start(k, 4096, 4096, 3, v, 256, 256, 37, 1000);
  want = lines(0, 4096, 0, 4096, 3);
  for (int64_t a : lines(0, 256, 0, 256, 37)) want.push_back(a + (v - k));
  EXPECT_EQ(walk(pf, k), want);
}

TEST(AttnPrefetch, NoValueBytesMeansKeysOnly) {
  static char k[4096];
  AttnPrefetch pf;
  pf.start(k, 576 * 2, 576 * 2, 3, k, 576 * 2, 0, 3, 100);
  EXPECT_EQ(walk(pf, k), lines(0, 1152, 0, 1152, 3));
}

TEST(AttnPrefetch, NoRowsOrStopAskForNothing) {
  static char k[4096];
  AttnPrefetch pf;
  pf.start(k, 256, 256, 0, k + 2048, 256, 256, 0, 100);
  EXPECT_EQ(pf.next(), nullptr);
  pf.start(k, 256, 256, 4, k + 2048, 256, 256, 4, 100);
  EXPECT_NE(pf.next(), nullptr);
  pf.stop();
  EXPECT_EQ(pf.next(), nullptr);
}

TEST(AttnPrefetch, TheBlocksWorkAsksForTheWholeBlockAndNoMore) {
  // 64 keys, two heads of 128 F16 elements in K and V: 1,024 lines. The kernels report the
  // block's work in pieces (the scores' 4-key steps, then the accumulation's per-key steps);
  // the walk must be done when the last piece is reported, not before three quarters of it.
  static char k[64 * 512], v[64 * 512];
  const int64_t work = 2 * 6 * 64 * (128 + 128);
  AttnPrefetch pf;
  pf.start(k, 512, 512, 64, v, 512, 512, 64, work);
  int64_t done = 0;
  for (int i = 0; i < 2 * 16; ++i) pf.step(6 * 4 * 128), done += 6 * 4 * 128;
  for (int i = 0; i < 2 * 2 * 64; ++i) {
    if (done < work * 3 / 4) {
      EXPECT_NE(pf.which, 2) << "finished early, at work " << done;
    }
    pf.step(6 * 64), done += 6 * 64;
  }
  EXPECT_EQ(done, work);
  EXPECT_EQ(pf.next(), nullptr);
}

}  // namespace
}  // namespace hearth::ops
