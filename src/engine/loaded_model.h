#pragma once
// What the scheduler and the server's handlers need from one loaded model, as a small abstract
// interface so the server can be driven by a fake in tests. The real implementation adapts
// engine::Runner (runner_model.cc). Nothing here knows HTTP; conversations are chat::Message
// (the one message type), tool definitions JSON text the chat templates consume as they are.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/message.h"
#include "sample/sampler.h"

namespace hearth::engine {

// Facts about a loaded model (from its GGUF), for /api/show, /api/ps and prompt building.
struct ModelFacts {
  std::string arch;                 // general.architecture
  int64_t context_length = 0;       // trained context (<arch>.context_length)
  int64_t parameter_count = 0;
  uint64_t file_size = 0;
  std::string quantization;         // "Q8_0", "F32", ... (general.file_type)
  std::string chat_template;        // tokenizer.chat_template (Jinja), may be empty
  std::string bos_token, eos_token;
  bool adds_bos = false;            // tokenize(text, true) puts the BOS first
  bool thinking = false;            // the template understands a thinking switch
  bool tools = false;               // the template renders tools
  bool insert = false;              // fill-in-middle (suffix) supported
  bool vision = false;              // takes images (none does yet: there is no projector support)
};

// Everything a chat template needs. Which template renders is chat::choose_template's rule: the
// request's own `template` first, then the Modelfile's Go TEMPLATE or the GGUF's Jinja one.
struct RenderRequest {
  std::vector<chat::Message> messages;
  std::string tools_json;              // JSON array of tool definitions, or empty
  std::optional<std::string> think;    // unset, "true", "false", "low", "medium", "high", "max"
  std::string request_template;        // the request's `template` (/api/generate), Go syntax
  std::string modelfile_template;      // the Modelfile's (or registry's) Go TEMPLATE
  bool prefer_go_template = true;      // HEARTH_GO_TEMPLATE: the Go TEMPLATE over the GGUF's Jinja
  // Ollama's filterThinkTags: <think> blocks are removed from assistant turns before the last user
  // message (the server sets it for the qwen3 family and models named deepseek-r1).
  bool strip_earlier_thinking = false;
  std::string suffix;                  // fill-in-middle suffix (generate)
  bool add_generation_prompt = true;
  // The model's family (the manifest's config model_family; empty: general.architecture). With
  // gptoss / gpt-oss and a harmony template the chat is harmony (chat/harmony.h), as in Ollama.
  std::string model_family;
};

// A token's log-probability in the model's distribution, with the token's text.
struct TokenLogprob {
  std::string token;
  double logprob = 0;
};
// One generated token's and its likeliest alternatives' (Ollama's logprobs / top_logprobs).
struct GeneratedLogprob {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};

// One piece of parsed model output.
struct OutputDelta {
  std::string content;
  std::string thinking;
  std::vector<chat::ToolCall> tool_calls;  // ids may be empty (the server assigns them)
  std::vector<GeneratedLogprob> logprobs;  // of the tokens generated since the last delta
  bool empty() const { return content.empty() && thinking.empty() && tool_calls.empty(); }
};

// Splits the raw text stream into content, thinking and tool calls for one response.
class OutputParser {
 public:
  virtual ~OutputParser() = default;
  virtual OutputDelta add(std::string_view piece) = 0;
  virtual OutputDelta finish() = 0;  // flushes what was held back
  // The parser reads control tokens (harmony's <|channel|>, <|message|>...): the run must pass
  // them on as text (CompletionJob::render_special).
  virtual bool needs_special_tokens() const { return false; }
  // With a format: the text after which the answer (the constrained part) begins; empty: the
  // runner's own rule (after the thinking close tag when the prompt opened thinking).
  virtual std::string answer_marker() const { return {}; }
};

struct CompletionJob {
  std::vector<int32_t> prompt;  // tokens, already fitted to the context
  sample::SamplerOptions sampling;  // merged: defaults < model params < request options
  int num_predict = -1;         // -1: until the context is full
  std::vector<std::string> stop;
  int num_keep = 4;
  bool shift = true;  // a generation reaching the context shifts it (Ollama's shift) instead of ending
  std::string format;           // "" (free), "json", or a JSON schema (serialized)
  bool thinking = false;        // thinking is on: a format constrains only the answer after it
  std::string format_after;     // with a format: constrain only after this text (OutputParser::answer_marker)
  bool render_special = false;  // control tokens reach on_piece as their text (OutputParser::needs_special_tokens)
  // Called with each decoded piece of text (stop strings already held back and removed).
  // Returning false cancels the sequence at once and frees its slot (the client is gone).
  std::function<bool(std::string_view piece)> on_piece;
  // When set: called for each generated token, before its text reaches on_piece, with its
  // log-probability and `top_logprobs` alternatives.
  std::function<void(GeneratedLogprob)> on_logprob;
  int top_logprobs = 0;
};

struct CompletionOutcome {
  std::string done_reason;  // "stop", "length" or "cancelled"
  int prompt_eval_count = 0;
  int64_t prompt_eval_ns = 0;
  int eval_count = 0;
  int64_t eval_ns = 0;
  std::vector<int32_t> context;  // prompt + generated tokens
};

struct EmbedOutcome {
  std::vector<std::vector<float>> vectors;  // one per input, pooled, NOT normalized
  int prompt_eval_count = 0;
  int64_t prompt_eval_ns = 0;
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;

  virtual const ModelFacts& facts() const = 0;
  // The context length one sequence gets (num_ctx after capping to the trained length).
  virtual int num_ctx() const = 0;
  // Bytes this model holds (weights + KV cache), for the memory budget and /api/ps.
  virtual uint64_t memory_bytes() const = 0;
  // Of those, the bytes in GPU memory (/api/ps size_vram); 0 when the model runs on the CPU.
  virtual uint64_t vram_bytes() const { return 0; }

  virtual std::vector<int32_t> tokenize(std::string_view text, bool add_special) const = 0;
  virtual std::string detokenize(std::span<const int32_t> tokens) const = 0;

  // Renders a conversation to prompt text with the model's (or the overriding) chat template.
  // Throws hearth::Error(invalid_argument) for a template that fails to render.
  virtual std::string render(const RenderRequest& request) const = 0;

  // A parser for the output of a prompt rendered from `request` (it may start in thinking mode
  // when `prompt` ends with an opening think tag). nullptr: the server's generic parser.
  virtual std::unique_ptr<OutputParser> make_output_parser(const RenderRequest& request,
                                                           std::string_view prompt) const = 0;

  // Thread-safe: up to num_parallel calls run at once. Never throws for a cancelled callback;
  // throws hearth::Error for a job it cannot run.
  virtual CompletionOutcome complete(const CompletionJob& job) = 0;

  // Pooled embeddings of whole inputs (token ids, each 1..num_ctx long), computed apart from the
  // running sequences. Thread-safe. Error(invalid_argument) for a bad input; the default, for
  // models without embeddings, is Error(unsupported). `cancelled` (may be empty) is polled
  // between units of work (forward passes); once it says true, embed throws Error(cancelled).
  virtual EmbedOutcome embed(const std::vector<std::vector<int32_t>>& inputs,
                             const std::function<bool()>& cancelled = {});
};

// What to load: the scheduler's key is `name`; any other difference forces a reload.
struct LoadSpec {
  std::string name;       // display name of the model ("llama3.2:latest")
  std::string model_path;  // GGUF blob path
  std::string digest;
  int num_ctx = 4096;
  int num_parallel = 1;
  int num_thread = 0;
  std::string kv_cache_type = "f16";
  int num_gpu = -1;  // layers on the GPU (Ollama's num_gpu); -1: as many as fit
  // GPU memory other loaded models hold, which this one's placement must leave them (set by the
  // scheduler when it loads; not part of what makes two loads the same).
  uint64_t gpu_in_use = 0;

  bool same_load(const LoadSpec& o) const {
    return model_path == o.model_path && num_ctx == o.num_ctx && num_parallel == o.num_parallel &&
           num_thread == o.num_thread && kv_cache_type == o.kv_cache_type && num_gpu == o.num_gpu;
  }
};

// Loads models for the scheduler. The real one wraps engine::Runner::load.
class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  // Predicted bytes before loading (weights + KV cache), for the memory budget.
  virtual uint64_t estimate_bytes(const LoadSpec& spec) = 0;
  virtual std::unique_ptr<LoadedModel> load(const LoadSpec& spec) = 0;
};

// The loader over engine::Runner (runner_model.cc).
std::unique_ptr<ModelLoader> make_runner_loader();

}  // namespace hearth::engine
