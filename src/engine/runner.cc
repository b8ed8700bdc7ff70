#include "engine/runner.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>

#include "engine/compute_lock.h"
#include "engine/context_fit.h"
#include "engine/device_sampling.h"
#include "engine/devices.h"
#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/vocab_loader.h"
#include "sample/json_schema.h"
#include "sample/stop_matcher.h"
#include "tokenizer/stream_decoder.h"
#include "util/cpu_features.h"
#include "util/env.h"
#include "util/error.h"
#include "util/system_memory.h"
#include "util/log.h"
#include "util/thread_pool.h"

namespace hearth::engine {

namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// llama.cpp's general.file_type numbering, named as Ollama shows it.
const char* file_type_name(uint32_t ft) {
  switch (ft) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 32: return "BF16";
    case 38: return "MXFP4";
    default: return "unknown";
  }
}

}  // namespace

// The thread pool is one per process and not reentrant, and resizing it replaces it: forward
// passes of all runners (several models may be loaded) and pool resizes take turns here. They
// would compete for the same cores anyway.
std::mutex& compute_mutex() {
  static std::mutex m;
  return m;
}

// One sequence slot: its share of the KV cache and, while a request runs in it, that request's
// decoding state. Fields other than busy/active/done are touched only by the thread in step()
// while active, or by the owning complete() call while not active.
struct Runner::Slot {
  int id = 0;
  bool busy = false;    // owned by a complete() call
  bool active = false;  // step() works on it
  bool done = false;
  std::vector<int32_t> cached;  // token at each cache position of this slot

  const CompletionRequest* req = nullptr;
  std::vector<int32_t> prompt;  // as run (truncated if it did not fit)
  int keep = 0;                 // first positions a context shift keeps (context_keep)
  size_t n_past = 0;            // positions of this request already in the cache
  bool generating = false;
  int32_t pending = -1;         // sampled, not yet fed back
  std::unique_ptr<sample::Sampler> sampler;
  std::unique_ptr<tokenizer::StreamDecoder> decoder;
  std::unique_ptr<sample::StopMatcher> stop;
  std::unique_ptr<sample::GrammarMatcher> grammar;  // the request's format, if any
  bool grammar_waiting = false;  // not yet: the output has not reached req->format_after
  std::string grammar_tail;      // the last output bytes, to find format_after across tokens
  sample::GrammarScratch grammar_scratch;
  CompletionResult result;
  std::exception_ptr error;
};

Runner::~Runner() = default;

namespace {
// A mixture-of-experts file larger than the memory the system can give keeps its experts in the
// mapped file (read sparsely, paged by the OS) rather than copying them into memory, which would
// end in the OOM killer. HEARTH_EXPERTS_IN_PLACE=1 asks for it regardless.
bool experts_stay_in_file(const gguf::File& file) {
  if (env_value("HEARTH_EXPERTS_IN_PLACE") == "1") return true;
  const std::string arch = file.get_string_or("general.architecture", "");
  if (file.get_i64_or(arch + ".expert_count", 0) <= 0) return false;
  const uint64_t available = available_memory_bytes();
  if (available == 0 || file.file_size() < available / 10 * 9) return false;
  HEARTH_LOG_WARN(file.path() + ": the model (" + std::to_string(file.file_size() >> 20) +
                  " MiB) is larger than the available memory (" + std::to_string(available >> 20) +
                  " MiB): its experts are read from the file as they are chosen");
  return true;
}
}  // namespace

std::unique_ptr<Runner> Runner::load(const std::string& path, const LoadOptions& opt) {
  const Clock::time_point t0 = Clock::now();
  std::unique_ptr<Runner> r(new Runner());
  gguf::File file = gguf::File::open(path);
  r->tokenizer_ = std::make_unique<tokenizer::Tokenizer>(model::load_vocab(file));
  model::Placement placement = opt.placement;
  const std::string kv_name = opt.kv_cache_type.empty() ? env_value("HEARTH_KV_CACHE_TYPE") : opt.kv_cache_type;
  const int asked_ctx = opt.num_ctx > 0 ? opt.num_ctx : context_length_from_env();
  if (opt.num_gpu != 0 && placement.backend == "cpu" && placement.n_offload == 0) {
    const int64_t n_ctx = asked_ctx;
    const int n_seq = std::max(opt.num_parallel, 1);
    const gguf::GgmlType kv = model::KvCache::parse_type(kv_name);
    const int64_t n_batch = std::max(opt.num_batch, 1);
    placement = model::plan_placement(file, opt.num_gpu, n_ctx, n_seq, kv, opt.gpu_in_use, n_batch).placement;
  }
  placement.experts_in_place = placement.experts_in_place || experts_stay_in_file(file);
  {
    // Loading repacks weights on the shared thread pool (ops::pack_matrix): take turns with the
    // forward passes of models already loaded.
    std::lock_guard<std::mutex> lock(compute_mutex());
    r->model_ = model::load_model(std::move(file), placement);
  }
  const model::HParams& hp = r->model_->hparams();
  if (static_cast<int64_t>(r->tokenizer_->n_tokens()) > hp.n_vocab) {
    throw Error(ErrorCode::corrupt, path + ": the vocabulary has " +
                                        std::to_string(r->tokenizer_->n_tokens()) +
                                        " tokens but token_embd.weight only " +
                                        std::to_string(hp.n_vocab) + " rows");
  }

  int num_ctx = asked_ctx;
  if (num_ctx > hp.n_ctx_train) {
    HEARTH_LOG_WARN("requested context size too large for model num_ctx=" + std::to_string(num_ctx) +
                    " n_ctx_train=" + std::to_string(hp.n_ctx_train));
    num_ctx = static_cast<int>(hp.n_ctx_train);
  }
  r->num_ctx_ = std::max(num_ctx, 4);
  r->num_batch_ = std::max(opt.num_batch, 1);
  const int threads = opt.num_thread > 0 ? opt.num_thread : env_count("HEARTH_NUM_THREAD", 0);
  {
    std::lock_guard<std::mutex> lock(compute_mutex());
    global_thread_pool(threads > 0 ? threads : cpu_physical_cores());
  }

  const int n_seq = std::max(opt.num_parallel, 1);
  // A pass holds at most num_batch positions of a slot (step()): windowed layers keep a ring of
  // their window plus that.
  r->cache_ = std::make_unique<model::KvCache>(
      r->model_->make_cache(r->num_ctx_, n_seq, model::KvCache::parse_type(kv_name), r->num_batch_));
  for (int i = 0; i < n_seq; ++i) {
    r->slots_.push_back(std::make_unique<Slot>());
    r->slots_.back()->id = i;
  }
  r->best_logits_ = best_logits_on(*r->model_, opt.device_sampling);
  r->load_ns_ = ns_since(t0);
  return r;
}

std::string Runner::quantization() const {
  const gguf::File& f = model_->file();
  if (f.find("general.file_type") == nullptr) return "unknown";
  return file_type_name(f.get_u32("general.file_type"));
}

std::string Runner::chat_template() const {
  return model_->file().get_string_or("tokenizer.chat_template", "");
}

std::string Runner::bos_token() const {
  const int32_t id = vocab().bos;
  return id < 0 ? std::string() : std::string(tokenizer_->piece(id, true));
}

std::string Runner::eos_token() const {
  const int32_t id = vocab().eos;
  return id < 0 ? std::string() : std::string(tokenizer_->piece(id, true));
}

std::vector<int32_t> Runner::tokenize(std::string_view text, bool add_special,
                                      bool parse_special) const {
  tokenizer::EncodeOptions o;
  o.add_special = add_special;
  o.parse_special = parse_special;
  std::vector<int32_t> ids = tokenizer_->encode(text, o);
  // A template that writes the BOS text itself, tokenized with add_special, would start with two
  // BOS tokens; the model was trained with one.
  const int32_t bos = vocab().bos;
  if (add_special && bos >= 0 && ids.size() >= 2 && ids[0] == bos && ids[1] == bos) {
    ids.erase(ids.begin());
  }
  return ids;
}

std::string Runner::detokenize(std::span<const int32_t> tokens) const {
  return tokenizer_->decode(tokens);
}

Runner::Slot& Runner::acquire_slot(const std::vector<int32_t>& prompt,
                                   std::unique_lock<std::mutex>& lock) {
  for (;;) {
    Slot* best = nullptr;
    size_t best_lcp = 0;
    for (auto& sp : slots_) {
      Slot& s = *sp;
      if (s.busy) continue;
      size_t lcp = 0;
      while (lcp < s.cached.size() && lcp < prompt.size() && s.cached[lcp] == prompt[lcp]) ++lcp;
      // At least the last prompt token is evaluated again: its logits start the answer. A
      // sliding-window ring may no longer hold what precedes the shared part: then none is kept.
      lcp = static_cast<size_t>(cache_->reusable_prefix(s.id, static_cast<int64_t>(std::min(lcp, prompt.size() - 1))));
      if (best == nullptr || lcp > best_lcp) {
        best = &s;
        best_lcp = lcp;
      }
    }
    if (best != nullptr) {
      best->busy = true;
      best->n_past = best_lcp;
      best->cached.resize(best->n_past);
      return *best;
    }
    cv_.wait(lock);
  }
}

CompletionResult Runner::complete(const CompletionRequest& req) {
  if (req.prompt.empty()) throw Error(ErrorCode::invalid_argument, "the prompt has no tokens");
  for (int32_t t : req.prompt) {
    if (t < 0 || t >= model_->n_vocab()) {
      throw Error(ErrorCode::invalid_argument,
                  "prompt token " + std::to_string(t) + " is outside the vocabulary");
    }
  }
  auto sampler = std::make_unique<sample::Sampler>(req.sampling, num_ctx_);
  std::unique_ptr<sample::GrammarMatcher> grammar;
  if (auto g = sample::grammar_for_format(req.format)) {
    grammar = std::make_unique<sample::GrammarMatcher>(std::move(g));
    grammar_vocab();
  }

  // A prompt that does not fit keeps its first tokens and its end (the server has usually fitted
  // it already, by the same rule).
  const int keep = context_keep(req.num_keep, req.prompt.size(), vocab().add_bos, num_ctx_);
  std::vector<int32_t> prompt = prompt_fits(req.prompt.size(), num_ctx_) ? req.prompt : cut_prompt(req.prompt, num_ctx_, keep);
  for (int32_t t : prompt) sampler->accept(t);

  std::unique_lock<std::mutex> lock(mu_);
  Slot& s = acquire_slot(prompt, lock);
  s.req = &req;
  s.prompt = std::move(prompt);
  s.keep = keep;
  s.generating = false;
  s.pending = -1;
  s.sampler = std::move(sampler);
  s.decoder = std::make_unique<tokenizer::StreamDecoder>(*tokenizer_, req.render_special);
  s.stop = std::make_unique<sample::StopMatcher>(req.stop);
  s.grammar = std::move(grammar);
  s.grammar_waiting = s.grammar != nullptr && !req.format_after.empty();
  s.grammar_tail.clear();
  s.result = CompletionResult();
  s.result.context = s.prompt;
  s.error = nullptr;
  s.done = false;
  if (req.num_predict == 0) {
    s.result.done_reason = "length";
    s.done = true;
  } else {
    s.active = true;
  }
  while (!s.done) {
    if (!driving_) {
      driving_ = true;
      lock.unlock();
      const bool finished = step();
      lock.lock();
      driving_ = false;
      // Waiters need waking only when a sequence ended (theirs, or the driver's, whose thread
      // leaves and hands the driving over). Waking all of them after every step put three idle
      // threads on the two cores the step's thread pool spins on, once per token.
      if (finished) cv_.notify_all();
    } else {
      cv_.wait(lock);
    }
  }
  CompletionResult result = std::move(s.result);
  std::exception_ptr error = s.error;
  s.active = false;
  s.busy = false;
  s.req = nullptr;
  s.sampler.reset();
  s.decoder.reset();
  s.stop.reset();
  s.grammar.reset();
  s.grammar_scratch.levels.clear();  // they hold the grammar
  cv_.notify_all();
  lock.unlock();
  if (error) std::rethrow_exception(error);
  return result;
}

const sample::GrammarVocab& Runner::grammar_vocab() {
  std::call_once(grammar_vocab_once_, [this] {
    std::vector<std::string> pieces(tokenizer_->n_tokens());
    std::vector<int32_t> eog;
    for (size_t id = 0; id < pieces.size(); ++id) {
      const auto t = static_cast<int32_t>(id);
      pieces[id] = std::string(tokenizer_->piece(t));  // control tokens: empty, never allowed
      if (tokenizer_->is_end_of_generation(t)) eog.push_back(t);
    }
    grammar_vocab_ = std::make_unique<sample::GrammarVocab>(pieces, eog, static_cast<size_t>(model_->n_vocab()));
  });
  return *grammar_vocab_;
}

// Before the text that starts the constrained part (a thinking close tag): look for it in the
// output so far; the bytes after it are the start of the document.
void Runner::wait_for_format(Slot& s, std::string_view piece) {
  const std::string& tag = s.req->format_after;
  s.grammar_tail += piece;
  const size_t at = s.grammar_tail.find(tag);
  if (at == std::string::npos) {
    if (s.grammar_tail.size() > tag.size()) s.grammar_tail.erase(0, s.grammar_tail.size() - tag.size());
    return;
  }
  s.grammar_waiting = false;
  // Whatever the same token put after the tag is taken as far as the grammar allows it.
  for (size_t i = at + tag.size(); i < s.grammar_tail.size(); ++i) {
    if (!s.grammar->accept(static_cast<uint8_t>(s.grammar_tail[i]))) break;
  }
  s.grammar_tail.clear();
}

bool Runner::emit(Slot& s, const std::string& text) {
  const std::string safe = s.stop->push(text);
  if (safe.empty() || !s.req->on_piece) return true;
  try {
    return s.req->on_piece(safe);
  } catch (...) {
    return false;  // a callback that throws is a client that is gone
  }
}

void Runner::finish(Slot& s, const char* reason) {
  if (std::string(reason) != "cancelled" && !s.stop->stopped()) {
    // Flush what the decoder and the stop matcher held back.
    std::string tail = s.stop->push(s.decoder->finish());
    tail += s.stop->flush();
    if (!tail.empty() && s.req->on_piece) {
      try {
        if (!s.req->on_piece(tail)) reason = "cancelled";
      } catch (...) {
        reason = "cancelled";
      }
    }
  }
  s.result.done_reason = reason;
  s.active = false;
}

int Runner::best_logits_needed(const std::vector<Slot*>& row_slot) const {
  if (!best_logits_ || row_slot.empty()) return 0;
  int k = 0;
  for (const Slot* s : row_slot) {
    // A grammar masks tokens anywhere in the row; logprobs report the row's own distribution.
    if (s->grammar || s->req->on_logprobs) return 0;
    const int need = s->sampler->best_needed(model_->n_vocab());
    if (need == 0 || need > ops::kMaxTopLogits) return 0;
    k = std::max(k, need);
  }
  return k;
}

bool Runner::step() {
  std::vector<Slot*> act;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& sp : slots_) {
      if (sp->active && !sp->done) act.push_back(sp.get());
    }
  }
  if (act.empty()) return false;

  // Decode rows first (one per generating slot), then prompt chunks within the batch budget.
  batch_.clear();
  std::vector<Slot*> row_slot;  // the slot of each logits row, in row order
  std::vector<bool> in_prompt(act.size(), false);
  int64_t budget = num_batch_;
  for (Slot* s : act) {
    if (!s->generating) continue;
    batch_.add(s->pending, static_cast<int32_t>(s->n_past), s->id, true);
    s->cached.push_back(s->pending);
    ++s->n_past;
    row_slot.push_back(s);
    --budget;
  }
  for (size_t i = 0; i < act.size(); ++i) {
    Slot* s = act[i];
    if (s->generating || budget <= 0) continue;
    in_prompt[i] = true;
    const size_t n = std::min<size_t>(static_cast<size_t>(budget), s->prompt.size() - s->n_past);
    for (size_t j = 0; j < n; ++j) {
      const size_t pos = s->n_past + j;
      const bool last = pos + 1 == s->prompt.size();
      batch_.add(s->prompt[pos], static_cast<int32_t>(pos), s->id, last);
      s->cached.push_back(s->prompt[pos]);
      if (last) row_slot.push_back(s);
    }
    s->n_past += n;
    s->result.prompt_eval_count += static_cast<int>(n);
    budget -= static_cast<int64_t>(n);
  }
  // Rows were appended decode-first, prompt-second, matching row_slot's order.
  const int64_t n_vocab = model_->n_vocab();
  const int best_k = best_logits_needed(row_slot);
  const int64_t row_width = best_k > 0 ? ops::top_logits_width(best_k) : n_vocab;
  logits_.resize(static_cast<size_t>(batch_.n_logits() * row_width));
  const Clock::time_point t0 = Clock::now();
  try {
    std::lock_guard<std::mutex> lock(compute_mutex());
    if (best_k > 0) {
      model_->forward_best(batch_, *cache_, best_k, logits_.data());
    } else {
      model_->forward(batch_, *cache_, logits_.data());
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot* s : act) {
      s->error = std::current_exception();
      s->active = false;
      s->done = true;
    }
    return true;
  }
  const int64_t dt = ns_since(t0);
  for (size_t i = 0; i < act.size(); ++i) {
    if (act[i]->generating) act[i]->result.eval_ns += dt;
    if (in_prompt[i]) act[i]->result.prompt_eval_ns += dt;
  }

  for (size_t row = 0; row < row_slot.size(); ++row) {
    Slot& s = *row_slot[row];
    s.generating = true;
    ++(best_k > 0 ? sampling_counts_.best_rows : sampling_counts_.whole_rows);
    const std::span<const float> row_logits(logits_.data() + row * row_width, static_cast<size_t>(row_width));
    int32_t t;
    if (best_k > 0) {  // no grammar, logprobs or penalties: best_logits_needed saw to that
      const ops::TopLogitsRow top{row_logits.data(), best_k};
      best_.resize(static_cast<size_t>(std::min<int64_t>(best_k, n_vocab)));
      for (size_t i = 0; i < best_.size(); ++i) {
        best_[i] = {top.id(static_cast<int>(i)), top.value(static_cast<int>(i)), 0.0f};
      }
      t = s.sampler->sample_best(best_, n_vocab);
    } else if (s.grammar && s.grammar_waiting) {
      t = s.sampler->sample(row_logits);
      // The marker may be made of control tokens (harmony's <|channel|>final<|message|>), whose
      // grammar pieces are empty: it is looked for in the tokens' text.
      wait_for_format(s, tokenizer_->piece(t, true));
    } else if (s.grammar) {
      t = sample::sample_with_grammar(*s.sampler, *s.grammar, *grammar_vocab_, row_logits, s.grammar_scratch);
      if (t < 0) {  // the vocabulary cannot continue the document
        finish(s, "stop");
        continue;
      }
      if (!grammar_vocab_->is_end_of_generation(t)) s.grammar->accept(grammar_vocab_->piece(t));
    } else {
      t = s.sampler->sample(row_logits);
    }
    s.sampler->accept(t);
    if (tokenizer_->is_end_of_generation(t)) {
      finish(s, "stop");
      continue;
    }
    s.result.context.push_back(t);
    ++s.result.eval_count;
    if (s.req->on_logprobs) s.req->on_logprobs(sample::logprobs_of(row_logits, t, s.req->top_logprobs));
    if (!emit(s, s.decoder->push(t))) {
      finish(s, "cancelled");
    } else if (s.stop->stopped()) {
      finish(s, "stop");
    } else if (s.grammar && !s.grammar_waiting && s.grammar->is_closed()) {
      finish(s, "stop");  // the document is complete: only whitespace could follow
    } else if (s.result.eval_count >= (s.req->num_predict > 0 ? s.req->num_predict : 10 * num_ctx_)) {
      // Unlimited (-1) is bounded at ten contexts, as Ollama bounds it, since shifts never end.
      finish(s, "length");
    } else if (s.n_past >= static_cast<size_t>(num_ctx_) && !(s.req->shift && shift_context(s, t))) {
      finish(s, "length");  // no room to feed the token back
    } else {
      s.pending = t;
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  bool finished = false;
  for (Slot* s : act) {
    if (!s->active) {
      s->done = true;
      finished = true;
    }
  }
  return finished;
}

// The context is full and `t` is sampled but not fed back: keep the first positions (num_keep
// after the BOS: context_keep), drop half of the rest (the oldest), and re-run what remains
// plus `t` as this slot's prompt from there, so the generation goes on (Ollama's context shift;
// the kept tail is recomputed because its keys are rotated for its old positions; with
// sliding-window rings the kept positions too). The re-run tokens count as prompt evaluation.
// False when nothing can be dropped.
bool Runner::shift_context(Slot& s, int32_t t) {
  const size_t n = s.cached.size();
  const size_t keep = std::min(static_cast<size_t>(s.keep), n > 0 ? n - 1 : 0);
  if (n <= keep) return false;
  const size_t discard = std::min(shift_discard(n, static_cast<int>(keep)), n - keep);
  std::vector<int32_t> seq(s.cached.begin(), s.cached.begin() + static_cast<ptrdiff_t>(keep));
  seq.insert(seq.end(), s.cached.begin() + static_cast<ptrdiff_t>(keep + discard), s.cached.end());
  seq.push_back(t);
  HEARTH_LOG_DEBUG("context shift: keep=" + std::to_string(keep) + " discard=" + std::to_string(discard));
  s.prompt = std::move(seq);
  // Sliding-window rings have long overwritten the first positions: the kept ones are then
  // evaluated again with the rest.
  const size_t reuse = static_cast<size_t>(cache_->reusable_prefix(s.id, static_cast<int64_t>(keep)));
  s.cached.resize(reuse);
  s.n_past = reuse;
  s.generating = false;
  s.pending = -1;
  return true;
}

}  // namespace hearth::engine
