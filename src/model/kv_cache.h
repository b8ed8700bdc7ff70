#pragma once
// The KV cache of every layer for up to n_seq sequences of n_ctx positions each. Its memory is
// the backends' (each layer's on the backend that runs the layer) and its layout is the
// attention block's (AttentionBlock::make_cache): for the llama family, per layer a K and a V
// tensor of rows [seq * n_ctx + pos] in F16 (the default: half the memory), Q8_0 (a quarter),
// Q4_0 (an eighth, roughly) or F32, so one
// sequence's keys are a contiguous block the attention walks in order (K comes from
// Backend::alloc_keys: the CPU backend keeps F16 keys in tiles of 16 positions when a sequence
// is whole tiles, ops/attention.h, the same bytes in another order), and each sequence slot
// keeps its own prefix (prompt reuse) independent of the others. A cache must not outlive the
// model that made it.
//
// A sliding-window layer (LayerSpec window W) whose passes hold at most n_batch positions of a
// sequence keeps a ring instead (ops::KvView::ring): kv_ring_slots(W, n_ctx, n_batch) slots per
// sequence, position p at slot p % ring. The last row of a pass (position p0 + n_batch - 1) is
// stored before the first (p0) attends, and p0 still needs p0 - W + 1: so a ring of
// W + n_batch - 1 slots is the least that works (rounded up to ops::kKvRingMultiple). A ring
// holds only the last `ring` positions written, so the cache tracks, per sequence, which
// positions each ring still holds (begin_pass), and prompt reuse (reusable_prefix, copy_prefix)
// keeps a prefix only if the rings still hold the window before its end.

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "ops/backend.h"

namespace hearth::model {

// Slots per sequence of a layer's ring (see above); 0 (a row per position) when the layer has
// no window or the ring would not be smaller than n_ctx. n_batch <= 0 means n_ctx.
int64_t kv_ring_slots(int64_t window, int64_t n_ctx, int64_t n_batch);

class KvCache {
 public:
  struct Layer {
    ops::Backend* backend = nullptr;
    ops::KvView view;
    int64_t window = 0;  // the layer's sliding window when view is a ring
  };

  KvCache(int64_t n_ctx, int n_seq, gguf::GgmlType type, std::vector<Layer> layers);
  KvCache(KvCache&& o) noexcept;
  KvCache& operator=(KvCache&&) = delete;
  KvCache(const KvCache&) = delete;
  ~KvCache();

  gguf::GgmlType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  uint64_t bytes() const;
  const ops::KvView& layer(int64_t il) const { return layers_[static_cast<size_t>(il)].view; }
  bool has_ring() const { return !ring_layers_.empty(); }

  // How many of the first n positions of sequence seq a pass may go on from: n, or with rings 0
  // when a ring no longer holds the window before position min(n, written) (a later position
  // overwrote it), else min(n, positions written).
  int64_t reusable_prefix(int seq, int64_t n) const;

  // Called by the model before a pass stores `rows`: with rings, checks that each sequence's
  // rows span at most the positions the rings were made for and start where reusable_prefix
  // allows (Error(invalid_argument) otherwise: the pass would read overwritten slots), and
  // records them. A sequence's rows starting at p0 drop what it held from p0 on.
  void begin_pass(const ops::SeqRows& rows);

  // Copies positions [0, n) of sequence src to sequence dst in every layer (prefix sharing);
  // a ring copies the positions it holds. Error(invalid_argument) when src's rings no longer
  // hold the window before n.
  void copy_prefix(int src, int dst, int64_t n);

  // Parses "f16" / "q8_0" / "q4_0" / "f32" (HEARTH_KV_CACHE_TYPE) in any case, white space
  // around it ignored, empty as f16; Error(invalid_argument) otherwise.
  static gguf::GgmlType parse_type(const std::string& name);

 private:
  // Positions ring layer l holds of sequence s: [max(first, end - ring), end), first =
  // first_[l * n_seq + s] (0 unless a prefix copy or a rewind left older slots stale), end =
  // end_[s] (one past the last position written).
  int64_t held_from(size_t ring_index, int seq) const;

  gguf::GgmlType type_;
  int64_t n_ctx_;
  int n_seq_;
  std::vector<Layer> layers_;
  std::vector<size_t> ring_layers_;  // indices of the layers whose view is a ring
  std::vector<int64_t> first_;       // [ring layer][seq]
  std::vector<int64_t> end_;         // [seq]
  int64_t max_span_ = 0;             // positions of one sequence a pass may hold (rings)
};

}  // namespace hearth::model
