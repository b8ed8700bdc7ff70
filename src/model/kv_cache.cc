#include "model/kv_cache.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

int64_t kv_ring_slots(int64_t window, int64_t n_ctx, int64_t n_batch) {
  if (window <= 0) return 0;
  const int64_t batch = n_batch > 0 ? n_batch : n_ctx;
  const int64_t need = window + batch - 1;
  const int64_t ring = (need + ops::kKvRingMultiple - 1) / ops::kKvRingMultiple * ops::kKvRingMultiple;
  return ring < n_ctx ? ring : 0;
}

gguf::GgmlType KvCache::parse_type(const std::string& name) {
  // Ollama lower-cases OLLAMA_KV_CACHE_TYPE before llama.cpp reads it, so Q8_0 works there.
  const char* kSpace = " \t\n\r\v\f";
  const size_t first = name.find_first_not_of(kSpace);
  std::string key = first == std::string::npos ? "" : name.substr(first, name.find_last_not_of(kSpace) + 1 - first);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (key == "f16" || key.empty()) return gguf::GgmlType::F16;
  if (key == "f32") return gguf::GgmlType::F32;
  if (key == "q8_0") return gguf::GgmlType::Q8_0;
  if (key == "q4_0") return gguf::GgmlType::Q4_0;
  throw Error(ErrorCode::invalid_argument,
              "KV cache type '" + name + "' is not supported (use f16, q8_0, q4_0 or f32)");
}

KvCache::KvCache(int64_t n_ctx, int n_seq, gguf::GgmlType type, std::vector<Layer> layers)
    : type_(type), n_ctx_(n_ctx), n_seq_(n_seq), layers_(std::move(layers)) {
  max_span_ = std::numeric_limits<int64_t>::max();
  for (size_t il = 0; il < layers_.size(); ++il) {
    const Layer& l = layers_[il];
    if (l.view.ring <= 0) continue;
    HEARTH_CHECK(l.window > 0 && l.window <= l.view.ring);
    ring_layers_.push_back(il);
    max_span_ = std::min(max_span_, l.view.ring - l.window + 1);
  }
  first_.assign(ring_layers_.size() * static_cast<size_t>(n_seq_), 0);
  end_.assign(static_cast<size_t>(n_seq_), 0);
}

KvCache::KvCache(KvCache&& o) noexcept
    : type_(o.type_),
      n_ctx_(o.n_ctx_),
      n_seq_(o.n_seq_),
      layers_(std::move(o.layers_)),
      ring_layers_(std::move(o.ring_layers_)),
      first_(std::move(o.first_)),
      end_(std::move(o.end_)),
      max_span_(o.max_span_) {
  o.layers_.clear();
}

KvCache::~KvCache() {
  for (Layer& l : layers_) {
    l.backend->release(l.view.k);
    l.backend->release(l.view.v);
  }
}

uint64_t KvCache::bytes() const {
  uint64_t n = 0;
  for (const Layer& l : layers_) {
    for (const ops::Tensor* t : {&l.view.k, &l.view.v}) {
      if (!t->empty()) n += static_cast<uint64_t>(t->row_bytes * t->n_rows());
    }
  }
  return n;
}

int64_t KvCache::held_from(size_t ring_index, int seq) const {
  const int64_t ring = layers_[ring_layers_[ring_index]].view.ring;
  const size_t s = static_cast<size_t>(seq);
  return std::max(first_[ring_index * static_cast<size_t>(n_seq_) + s], end_[s] - ring);
}

int64_t KvCache::reusable_prefix(int seq, int64_t n) const {
  HEARTH_CHECK(seq >= 0 && seq < n_seq_ && n >= 0);
  if (!has_ring() || n == 0) return n;
  const int64_t m = std::min(n, end_[static_cast<size_t>(seq)]);
  for (size_t r = 0; r < ring_layers_.size(); ++r) {
    // A pass from position m reads m - window + 1 onwards.
    const int64_t window = layers_[ring_layers_[r]].window;
    if (std::max<int64_t>(0, m - window + 1) < held_from(r, seq)) return 0;
  }
  return m;
}

void KvCache::begin_pass(const ops::SeqRows& rows) {
  if (!has_ring()) return;
  std::map<int32_t, std::pair<int64_t, int64_t>> span;  // seq -> lowest, highest position
  for (int64_t t = 0; t < rows.n; ++t) {
    auto [it, fresh] = span.try_emplace(rows.seq[t], rows.pos[t], rows.pos[t]);
    if (!fresh) {
      it->second.first = std::min<int64_t>(it->second.first, rows.pos[t]);
      it->second.second = std::max<int64_t>(it->second.second, rows.pos[t]);
    }
  }
  for (const auto& [seq, lh] : span) {
    const auto [p0, p1] = lh;
    const std::string where = "sequence " + std::to_string(seq) + ", positions " +
                              std::to_string(p0) + ".." + std::to_string(p1);
    if (p1 - p0 + 1 > max_span_) {
      throw Error(ErrorCode::invalid_argument,
                  where + ": a pass may hold at most " + std::to_string(max_span_) +
                      " positions of a sequence in this cache (its sliding-window rings)");
    }
    if (p0 > end_[static_cast<size_t>(seq)]) {
      throw Error(ErrorCode::invalid_argument,
                  where + ": positions before " + std::to_string(p0) +
                      " were not written (a sliding-window cache takes a sequence's positions in order)");
    }
    if (reusable_prefix(seq, p0) != p0) {
      throw Error(ErrorCode::invalid_argument,
                  where + ": the sliding-window cache no longer holds the positions before " +
                      std::to_string(p0) + " (start the sequence again from an earlier position)");
    }
  }
  for (const auto& [seq, lh] : span) {
    const int64_t p0 = lh.first, p1 = lh.second;
    const size_t s = static_cast<size_t>(seq);
    for (size_t r = 0; r < ring_layers_.size(); ++r) {
      int64_t& first = first_[r * static_cast<size_t>(n_seq_) + s];
      // What the ring holds below p0 stays; a restart from 0 makes every older slot stale.
      first = p0 == 0 ? 0 : held_from(r, seq);
    }
    end_[s] = p1 + 1;
  }
}

void KvCache::copy_prefix(int src, int dst, int64_t n) {
  HEARTH_CHECK(src >= 0 && src < n_seq_ && dst >= 0 && dst < n_seq_ && n >= 0 && n <= n_ctx_);
  if (src == dst || n == 0) return;
  if (has_ring() && reusable_prefix(src, n) != n) {
    throw Error(ErrorCode::invalid_argument,
                "KV cache: sequence " + std::to_string(src) + " no longer holds the sliding window before position " +
                    std::to_string(n) + " to share it");
  }
  size_t r = 0;
  for (size_t il = 0; il < layers_.size(); ++il) {
    Layer& l = layers_[il];
    const ops::KvView& v = l.view;
    // Positions [from, n) of src, as runs of consecutive rows (a ring's may wrap once).
    const int64_t from = v.ring > 0 ? held_from(r, src) : 0;
    for (int64_t p = from; p < n;) {
      const int64_t run = v.ring > 0 ? std::min(n - p, v.ring - p % v.ring) : n - p;
      for (const ops::Tensor* t : {&v.k, &v.v}) {
        if (!t->empty()) l.backend->copy_rows(*t, v.row(src, p), v.row(dst, p), run);
      }
      p += run;
    }
    if (v.ring > 0) first_[r++ * static_cast<size_t>(n_seq_) + static_cast<size_t>(dst)] = from;
  }
  end_[static_cast<size_t>(dst)] = n;
}

}  // namespace hearth::model
