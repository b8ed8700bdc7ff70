// Runner::embed: pooled final hidden states of whole inputs, for /api/embed and friends.
//
// Every call runs in scratch KV caches of its own (F32: the cache is small and short-lived, and
// embeddings gain from the precision), never in the chat slots, so a running sequence and the
// prefixes kept for reuse are untouched. Inputs are packed into groups whose cache, n_seq x the
// longest input, holds at most num_batch positions (an input longer than that is a group of its
// own); each group's rows go through the model in passes of at most num_batch rows. Rows of
// different sequences in one pass never see each other (attention reads only its own sequence).
// An encoder (bert, nomic-bert: Model::causal() false) attends over whole inputs, so each group
// goes through it in a single pass, however long (a group holds at most num_batch positions or
// one input).
// A cancel check before each pass lets a request whose client left stop between passes.

#include <algorithm>
#include <chrono>
#include <string>

#include "engine/compute_lock.h"
#include "engine/runner.h"
#include "util/error.h"

namespace hearth::engine {

namespace {

using Clock = std::chrono::steady_clock;

// Which positions of an input of `len` tokens the pooling reads.
bool pooled_row(Pooling p, size_t pos, size_t len) {
  switch (p) {
    case Pooling::mean: return true;
    case Pooling::cls: return pos == 0;
    case Pooling::none:
    case Pooling::last: return pos + 1 == len;
  }
  return false;
}

}  // namespace

Pooling Runner::pooling() const {
  const gguf::File& f = model_->file();
  const std::string key = arch() + ".pooling_type";
  if (f.find(key) == nullptr) return Pooling::none;
  uint32_t v = 0;
  try {
    v = f.get_u32(key);
  } catch (const Error&) {
    throw Error(ErrorCode::corrupt, key + " is not an unsigned integer");
  }
  switch (v) {
    case 0: return Pooling::none;
    case 1: return Pooling::mean;
    case 2: return Pooling::cls;
    case 3: return Pooling::last;
    default:
      throw Error(ErrorCode::unsupported,
                  "pooling type " + std::to_string(v) + " (" + key + ") is not supported");
  }
}

EmbedResult Runner::embed(const std::vector<std::vector<int32_t>>& inputs,
                          const std::function<bool()>& cancelled) {
  const Pooling pool = pooling();
  for (const auto& in : inputs) {
    if (in.empty()) throw Error(ErrorCode::invalid_argument, "an input has no tokens");
    if (in.size() > static_cast<size_t>(num_ctx_)) {
      throw Error(ErrorCode::invalid_argument, "the input length exceeds the context length");
    }
    for (int32_t t : in) {
      if (t < 0 || t >= model_->n_vocab()) {
        throw Error(ErrorCode::invalid_argument,
                    "input token " + std::to_string(t) + " is outside the vocabulary");
      }
    }
  }
  const int64_t n_embd = embedding_length();
  const size_t budget = static_cast<size_t>(num_batch_);
  EmbedResult result;
  result.vectors.resize(inputs.size());
  model::Batch batch;
  std::vector<float> hidden;

  size_t first = 0;
  while (first < inputs.size()) {
    size_t end = first + 1, longest = inputs[first].size();
    while (end < inputs.size()) {
      const size_t m = std::max(longest, inputs[end].size());
      if ((end + 1 - first) * m > budget) break;
      longest = m;
      ++end;
    }
    const int n_seq = static_cast<int>(end - first);
    model::KvCache cache =
        model_->make_cache(static_cast<int64_t>(longest), n_seq, gguf::GgmlType::F32);
    // Rows in sequence-major order; each pass takes the next num_batch of them, so a sequence's
    // positions stay contiguous from 0 across passes.
    std::vector<std::pair<int, size_t>> rows;  // (sequence in group, position)
    for (int s = 0; s < n_seq; ++s) {
      for (size_t p = 0; p < inputs[first + static_cast<size_t>(s)].size(); ++p) rows.emplace_back(s, p);
    }
    std::vector<std::vector<double>> acc(static_cast<size_t>(n_seq),
                                         std::vector<double>(static_cast<size_t>(n_embd), 0.0));
    const size_t step = model_->causal() ? budget : std::max<size_t>(rows.size(), 1);
    for (size_t r0 = 0; r0 < rows.size(); r0 += step) {
      if (cancelled && cancelled()) throw Error(ErrorCode::cancelled, "request canceled");
      const size_t r1 = std::min(rows.size(), r0 + step);
      batch.clear();
      for (size_t r = r0; r < r1; ++r) {
        const auto [s, p] = rows[r];
        const auto& in = inputs[first + static_cast<size_t>(s)];
        batch.add(in[p], static_cast<int32_t>(p), s, pooled_row(pool, p, in.size()));
      }
      hidden.resize(static_cast<size_t>(batch.n_logits() * n_embd));
      const Clock::time_point t0 = Clock::now();
      {
        std::lock_guard<std::mutex> lock(compute_mutex());
        model_->forward_hidden(batch, cache, hidden.data());
      }
      result.prompt_eval_ns +=
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
      result.prompt_eval_count += static_cast<int>(r1 - r0);
      int64_t out_row = 0;
      for (int64_t i = 0; i < batch.size(); ++i) {
        if (!batch.want_logits[static_cast<size_t>(i)]) continue;
        const float* h = hidden.data() + out_row++ * n_embd;
        std::vector<double>& a = acc[static_cast<size_t>(batch.seq[static_cast<size_t>(i)])];
        for (int64_t e = 0; e < n_embd; ++e) a[static_cast<size_t>(e)] += h[e];
      }
    }
    for (int s = 0; s < n_seq; ++s) {
      const size_t idx = first + static_cast<size_t>(s);
      const double div = pool == Pooling::mean ? static_cast<double>(inputs[idx].size()) : 1.0;
      std::vector<float>& v = result.vectors[idx];
      v.resize(static_cast<size_t>(n_embd));
      for (int64_t e = 0; e < n_embd; ++e) {
        v[static_cast<size_t>(e)] = static_cast<float>(acc[static_cast<size_t>(s)][static_cast<size_t>(e)] / div);
      }
    }
    first = end;
  }
  return result;
}

}  // namespace hearth::engine
