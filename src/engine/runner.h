#pragma once
// One loaded GGUF model ready to generate: model weights, vocabulary, a KV cache with num_parallel
// sequence slots, and complete(), which streams generated text through a callback.
//
// complete() is thread-safe and batches: up to num_parallel calls run at once, and every forward
// pass carries one row per generating sequence plus prompt chunks of sequences that are starting
// (continuous batching). Whichever waiting caller is free runs the next step; callbacks of all
// sequences are made from that thread, one at a time. A prompt that shares a prefix with what a
// free slot already holds reuses that part of the cache.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"
#include "sample/grammar_sampler.h"
#include "sample/logprobs.h"
#include "sample/sampler.h"
#include "tokenizer/tokenizer.h"

namespace hearth::engine {

struct LoadOptions {
  int num_ctx = 0;       // tokens per sequence; 0: HEARTH_CONTEXT_LENGTH. Capped at the trained context
  int num_thread = 0;    // 0: HEARTH_NUM_THREAD, else physical cores
  int num_parallel = 1;  // sequence slots
  std::string kv_cache_type;  // "f16" | "f32" | "q8_0" | "q4_0"; empty: HEARTH_KV_CACHE_TYPE (default f16)
  int num_batch = 512;   // prompt tokens per forward pass
  // Layers on the GPU, as Ollama's num_gpu: -1 as many as fit (model::plan_placement), 0 none.
  // A placement given explicitly (not all on "cpu") is used as it is instead.
  int num_gpu = -1;
  uint64_t gpu_in_use = 0;  // GPU memory other models hold: the default placement leaves it
  model::Placement placement;
  // Decode steps whose every sampler needs no more than a row's best logits (greedy; top_k up
  // to ops::kMaxTopLogits; no grammar, logprobs or penalties) read only those
  // (model::Model::forward_best) instead of whole rows: the same tokens, less to copy back.
  // -1: HEARTH_DEVICE_SAMPLING (unset: where that saves a device transfer; 0 never; 1 always,
  // the CPU too); 0 never; 1 always; 2 where it saves a transfer.
  int device_sampling = -1;
};

struct CompletionRequest {
  std::vector<int32_t> prompt;  // token ids (BOS included if wanted); at least one
  sample::SamplerOptions sampling;
  int num_predict = -1;  // max generated tokens; < 0: 10 x num_ctx (Ollama's bound)
  std::vector<std::string> stop;
  // Tokens after the BOS kept at the start when a too-long prompt is truncated or the context
  // shifted; negative: the whole prompt (engine/context_fit.h).
  int num_keep = 4;
  // When the context is full during generation: drop half of what follows the kept tokens and
  // go on (Ollama's context shift), instead of ending with done_reason "length".
  bool shift = true;
  // "" free text; "json" or a JSON schema's text: the output is constrained to such a document
  // (sample/json_schema.h) and generation stops once it is closed.
  std::string format;
  // With a format: the output is free until it contains this text, and constrained after it
  // (the thinking close tag when the prompt opened thinking: Ollama constrains only the answer).
  std::string format_after;
  // Control tokens come out as their text (harmony's parser reads <|channel|>, <|message|>...);
  // end-of-generation tokens still end the output unseen.
  bool render_special = false;
  // Each piece of generated text (valid UTF-8, stop strings held back and cut). Returning false
  // cancels the request (done_reason "cancelled").
  std::function<bool(std::string_view piece)> on_piece;
  // When set, called for every generated token (before its text reaches on_piece) with its
  // log-probability in the model's distribution and the `top_logprobs` likeliest alternatives.
  std::function<void(const sample::Logprobs&)> on_logprobs;
  int top_logprobs = 0;
};

// How an embedding is pooled from the final normed hidden states of an input's tokens
// (<arch>.pooling_type: 0 none, 1 mean, 2 cls, 3 last). A decoder LLM without the key pools as
// `none`, which takes the last token's state, as Ollama's runner does (runner_embed.cc).
enum class Pooling { none, mean, cls, last };

struct EmbedResult {
  std::vector<std::vector<float>> vectors;  // one per input, n_embd each, not normalized
  int prompt_eval_count = 0;                // tokens evaluated over all inputs
  int64_t prompt_eval_ns = 0;
};

struct CompletionResult {
  std::string done_reason;  // "stop" (EOS/EOT or a stop string), "length", "cancelled"
  int prompt_eval_count = 0;  // prompt tokens evaluated (a reused prefix is not counted)
  int64_t prompt_eval_ns = 0;
  int eval_count = 0;          // tokens generated
  int64_t eval_ns = 0;
  std::vector<int32_t> context;  // prompt (as run) + generated tokens
};

class Runner {
 public:
  // Errors: Error(not_found/io/corrupt/unsupported) naming the file and the problem.
  static std::unique_ptr<Runner> load(const std::string& path, const LoadOptions& options = {});
  ~Runner();

  // Model facts.
  const std::string& arch() const { return model_->hparams().arch; }
  int64_t context_length() const { return model_->hparams().n_ctx_train; }  // trained
  int num_ctx() const { return num_ctx_; }                                   // per sequence
  int num_parallel() const { return static_cast<int>(slots_.size()); }
  int64_t parameter_count() const { return model_->n_params(); }
  uint64_t file_size() const { return model_->file().file_size(); }
  uint64_t memory_bytes() const { return file_size() + cache_->bytes(); }
  gguf::GgmlType kv_cache_type() const { return cache_->type(); }
  // Of those, the bytes on a GPU (weights copied there, its KV cache and activations).
  uint64_t device_bytes() const { return model_->device_bytes(); }
  // "cpu", or the backends' descriptions ("CPU (avx512) + Vulkan (NVIDIA A10)").
  std::string processor() const { return model_->backend_description(); }
  int64_t load_ns() const { return load_ns_; }
  std::string quantization() const;  // "Q4_K_M", "Q8_0", "F16", ... from general.file_type
  std::string chat_template() const;  // tokenizer.chat_template, or ""
  std::string bos_token() const;      // text of BOS / EOS, or ""
  std::string eos_token() const;
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  const tokenizer::Vocab& vocab() const { return tokenizer_->vocab(); }
  const model::Model& model() const { return *model_; }

  // add_special: BOS/EOS as the vocabulary asks; parse_special: control tokens written in text.
  std::vector<int32_t> tokenize(std::string_view text, bool add_special, bool parse_special) const;
  std::string detokenize(std::span<const int32_t> tokens) const;

  // Generates until EOS/EOT, a stop string, num_predict, a full context or cancellation.
  // Error(invalid_argument) for an empty prompt, a token outside the vocabulary or bad options.
  CompletionResult complete(const CompletionRequest& request);

  // Embeddings (runner_embed.cc): each input (token ids, 1..num_ctx of them) runs in a scratch
  // KV cache of its own, so running sequences and cached prefixes are untouched; forward passes
  // take turns with complete()'s. Error(invalid_argument) for an empty or too long input or a
  // token outside the vocabulary; Error(unsupported) for a pooling type it cannot do.
  // `cancelled` (optional) is asked before every forward pass; true stops the work there with
  // Error(cancelled), so a client that hung up stops costing compute.
  EmbedResult embed(const std::vector<std::vector<int32_t>>& inputs,
                    const std::function<bool()>& cancelled = nullptr);
  Pooling pooling() const;
  int64_t embedding_length() const { return model_->hparams().n_embd; }

  // Rows sampled so far from whole logits rows and from their best logits only (forward_best).
  struct SamplingCounts {
    uint64_t whole_rows = 0, best_rows = 0;
  };
  SamplingCounts sampling_counts() const { return sampling_counts_; }

 private:
  struct Slot;
  Runner() = default;
  Slot& acquire_slot(const std::vector<int32_t>& prompt, std::unique_lock<std::mutex>& lock);
  bool shift_context(Slot& s, int32_t t);
  // One forward pass over every active slot; called with mu_ NOT held. True when a slot finished.
  bool step();
  void finish(Slot& s, const char* reason);
  bool emit(Slot& s, const std::string& text);
  const sample::GrammarVocab& grammar_vocab();  // built on first use
  void wait_for_format(Slot& s, std::string_view piece);
  // How many best logits per row this step's samplers need (0: whole rows), one slot a row.
  int best_logits_needed(const std::vector<Slot*>& row_slot) const;

  std::unique_ptr<model::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<model::KvCache> cache_;
  int num_ctx_ = 0;
  int num_batch_ = 512;
  int64_t load_ns_ = 0;

  std::mutex mu_;                 // guards slot states and driving_
  std::condition_variable cv_;    // a slot finished or became free, or the driver left
  bool driving_ = false;          // a thread is inside step()
  std::vector<std::unique_ptr<Slot>> slots_;
  model::Batch batch_;
  std::vector<float> logits_;  // whole rows, or each row's best (ops/top_logits.h)
  bool best_logits_ = false;   // device_sampling resolved at load
  std::vector<sample::Candidate> best_;
  SamplingCounts sampling_counts_;
  std::once_flag grammar_vocab_once_;
  std::unique_ptr<sample::GrammarVocab> grammar_vocab_;
};

}  // namespace hearth::engine
