// The production ModelLoader: engine::Runner behind the LoadedModel interface, with prompts
// rendered by chat/ (the Modelfile's Go TEMPLATE or the GGUF's Jinja chat_template, as
// chat::choose_template decides) and output split by chat/'s thinking and tool-call parsers.

#include <sys/stat.h>

#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "chat/capabilities.h"
#include "chat/harmony.h"
#include "chat/go_template.h"
#include "chat/jinja_template.h"
#include "chat/prompt.h"
#include "chat/thinking.h"
#include "chat/tool_calls.h"
#include "engine/chat_format.h"
#include "engine/loaded_model.h"
#include "engine/runner.h"
#include "gguf/gguf_file.h"
#include "model/compute_backend.h"
#include "model/kv_cache.h"
#include "util/error.h"
#include "util/log.h"

namespace hearth::engine {

namespace {


// chat/'s thinking splitter followed by its tool-call parser over the content part.
class ChatOutputParser : public OutputParser {
 public:
  ChatOutputParser(std::optional<chat::ThinkingParser> thinking, std::optional<chat::ToolCallParser> tools)
      : thinking_(std::move(thinking)), tools_(std::move(tools)) {}

  OutputDelta add(std::string_view piece) override {
    OutputDelta d;
    if (thinking_) {
      auto t = thinking_->add(piece);
      d.thinking = std::move(t.thinking);
      content(d, t.content, false);
    } else {
      content(d, piece, false);
    }
    return d;
  }

  OutputDelta finish() override {
    OutputDelta d;
    if (thinking_) {
      auto t = thinking_->finish();
      d.thinking = std::move(t.thinking);
      content(d, t.content, true);
    } else {
      content(d, "", true);
    }
    return d;
  }

 private:
  void content(OutputDelta& d, std::string_view text, bool final) {
    if (!tools_) {
      d.content += text;
      return;
    }
    auto o = tools_->add(text);
    d.content += o.content;
    take_calls(d, o.calls);
    if (final) {
      auto f = tools_->finish();
      d.content += f.content;
      take_calls(d, f.calls);
    }
  }
  static void take_calls(OutputDelta& d, const std::vector<chat::ToolCall>& calls) {
    d.tool_calls.insert(d.tool_calls.end(), calls.begin(), calls.end());
  }

  std::optional<chat::ThinkingParser> thinking_;
  std::optional<chat::ToolCallParser> tools_;
};

class RunnerModel : public LoadedModel {
 public:
  explicit RunnerModel(std::unique_ptr<Runner> runner) : runner_(std::move(runner)) {
    facts_.arch = runner_->arch();
    facts_.context_length = runner_->context_length();
    facts_.parameter_count = runner_->parameter_count();
    facts_.file_size = runner_->file_size();
    facts_.quantization = runner_->quantization();
    facts_.chat_template = runner_->chat_template();
    facts_.bos_token = runner_->bos_token();
    facts_.eos_token = runner_->eos_token();
    facts_.adds_bos = runner_->vocab().add_bos;
    facts_.thinking = chat::infer_thinking_tags(facts_.chat_template, chat::TemplateKind::jinja).has_value();
    facts_.tools = chat::template_supports_tools(facts_.chat_template);
    // Ollama gives the gpt-oss family thinking whatever its template says, and its harmony
    // parser reads tool calls.
    if (chat::is_harmony_family(facts_.arch)) facts_.thinking = facts_.tools = true;
    facts_.insert = false;
  }

  const ModelFacts& facts() const override { return facts_; }
  int num_ctx() const override { return runner_->num_ctx(); }
  uint64_t memory_bytes() const override { return runner_->memory_bytes(); }
  uint64_t vram_bytes() const override { return runner_->device_bytes(); }

  std::vector<int32_t> tokenize(std::string_view text, bool add_special) const override {
    std::vector<int32_t> t = runner_->tokenize(text, add_special, true);
    // Jinja templates write bos_token themselves; the vocabulary's add_bos would double it.
    int32_t bos = runner_->vocab().bos;
    if (t.size() >= 2 && t[0] == bos && t[1] == bos) t.erase(t.begin());
    return t;
  }

  std::string detokenize(std::span<const int32_t> tokens) const override {
    return runner_->detokenize(tokens);
  }

  std::string render(const RenderRequest& r) const override {
    chat::TemplateChoice choice =
        chat::choose_template(r.request_template, r.modelfile_template, facts_.chat_template, r.prefer_go_template);
    chat::ThinkSetting think = think_setting(r.think, facts_.thinking);
    std::vector<chat::ToolDefinition> tools = request_tools(r);
    std::vector<chat::Message> messages = r.messages;
    if (r.strip_earlier_thinking) chat::filter_think_tags(messages);
    try {
      if (harmony_applies(r, facts_.arch, facts_.chat_template)) return render_harmony_request(r, facts_.thinking);
      if (choice.kind == chat::TemplateKind::jinja) {
        chat::PromptInputs in;
        in.messages = std::move(messages);
        in.tools = std::move(tools);
        in.think = think;
        in.add_generation_prompt = r.add_generation_prompt;
        in.bos_token = facts_.bos_token;
        in.eos_token = facts_.eos_token;
        chat::JinjaTemplate tmpl = chat::JinjaTemplate::parse(choice.source);
        return chat::render_jinja_chat(tmpl, choice.source, in);
      }
      chat::GoTemplate tmpl = chat::GoTemplate::parse(choice.source);
      chat::GoTemplateValues v;
      v.tools = std::move(tools);
      v.think = think;
      if (!r.suffix.empty()) {
        for (const auto& m : messages) {
          if (m.role == "user") v.prompt = m.content;
        }
        v.suffix = r.suffix;
      }
      v.messages = std::move(messages);
      return chat::render_go_template(tmpl, v);
    } catch (const chat::TemplateRaise&) {
      throw;
    } catch (const Error& e) {
      throw Error(ErrorCode::invalid_argument, std::string("template: ") + e.what());
    }
  }

  std::unique_ptr<OutputParser> make_output_parser(const RenderRequest& r, std::string_view prompt) const override {
    if (harmony_applies(r, facts_.arch, facts_.chat_template)) return make_harmony_output_parser(r);
    chat::TemplateChoice choice =
        chat::choose_template(r.request_template, r.modelfile_template, facts_.chat_template, r.prefer_go_template);
    std::optional<chat::ThinkingParser> thinking;
    chat::ThinkSetting think = think_setting(r.think, facts_.thinking);
    if (think.enabled) {
      auto tags = chat::infer_thinking_tags(choice.source, choice.kind);
      std::string open = tags ? tags->first : "<think>", close = tags ? tags->second : "</think>";
      thinking.emplace(open, close, chat::prompt_opens_thinking(prompt, open));
    }
    std::optional<chat::ToolCallParser> tools;
    if (!r.tools_json.empty()) {
      std::vector<std::string> names;
      for (const auto& x : request_tools(r)) {
        if (x.contains("function") && x["function"].contains("name") && x["function"]["name"].is_string()) {
          names.push_back(x["function"]["name"].get<std::string>());
        }
      }
      chat::ToolCallFormat format = chat::detect_tool_call_format(choice.source);
      if (format != chat::ToolCallFormat::none) tools.emplace(format, std::move(names));
    }
    return std::make_unique<ChatOutputParser>(std::move(thinking), std::move(tools));
  }

  CompletionOutcome complete(const CompletionJob& job) override {
    CompletionRequest req;
    req.prompt = job.prompt;
    req.sampling = job.sampling;
    req.num_predict = job.num_predict;
    req.stop = job.stop;
    req.num_keep = job.num_keep;
    req.shift = job.shift;
    req.on_piece = job.on_piece;
    if (job.on_logprob) {
      req.top_logprobs = job.top_logprobs;
      req.on_logprobs = [this, &job](const sample::Logprobs& lp) {
        auto text = [this](const sample::TokenLogprob& t) {
          return TokenLogprob{runner_->detokenize(std::span<const int32_t>(&t.token, 1)), t.logprob};
        };
        GeneratedLogprob g;
        g.chosen = text(lp.chosen);
        for (const auto& t : lp.top) g.top.push_back(text(t));
        job.on_logprob(std::move(g));
      };
    }
    req.format = job.format;
    req.render_special = job.render_special;
    if (!req.format.empty() && !job.format_after.empty()) {
      req.format_after = job.format_after;  // the parser knows where the answer starts (harmony)
    } else if (!req.format.empty() && job.thinking && facts_.thinking && !job.prompt.empty()) {
      // Thinking on and a prompt that opens it: the thinking stays free and the answer after the
      // close tag is constrained, as Ollama does (it reruns with the thinking prefilled). A model
      // that would open thinking itself is constrained from its first token (no thinking).
      auto tags = chat::infer_thinking_tags(facts_.chat_template, chat::TemplateKind::jinja);
      const std::string open = tags ? tags->first : "<think>", close = tags ? tags->second : "</think>";
      const size_t n = std::min<size_t>(job.prompt.size(), 16);
      const std::string tail = runner_->detokenize(std::span<const int32_t>(job.prompt).last(n));
      if (chat::prompt_opens_thinking(tail, open)) req.format_after = close;
    }
    CompletionResult r = runner_->complete(req);
    CompletionOutcome out;
    out.done_reason = r.done_reason;
    out.prompt_eval_count = r.prompt_eval_count;
    out.prompt_eval_ns = r.prompt_eval_ns;
    out.eval_count = r.eval_count;
    out.eval_ns = r.eval_ns;
    out.context = std::move(r.context);
    return out;
  }

  EmbedOutcome embed(const std::vector<std::vector<int32_t>>& inputs,
                     const std::function<bool()>& cancelled) override {
    EmbedResult r = runner_->embed(inputs, cancelled);
    EmbedOutcome out;
    out.vectors = std::move(r.vectors);
    out.prompt_eval_count = r.prompt_eval_count;
    out.prompt_eval_ns = r.prompt_eval_ns;
    return out;
  }

 private:
  std::unique_ptr<Runner> runner_;
  ModelFacts facts_;
};

class RunnerLoader : public ModelLoader {
 public:
  uint64_t estimate_bytes(const LoadSpec& spec) override {
    // The file's size plus its KV cache in the chosen type, as Ollama's estimate counts them.
    // The scheduler asks on every request: the file is parsed once per (path, load options).
    const std::string key = spec.model_path + "|" + std::to_string(spec.num_ctx) + "|" +
                            std::to_string(spec.num_parallel) + "|" + spec.kv_cache_type;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = estimates_.find(key); it != estimates_.end()) return it->second;
    }
    struct stat st {};
    if (stat(spec.model_path.c_str(), &st) != 0) return 0;
    uint64_t bytes = static_cast<uint64_t>(st.st_size);
    try {
      const gguf::File f = gguf::File::open(spec.model_path);
      const std::string arch = f.get_string_or("general.architecture", "") + ".";
      const int64_t n_ctx = std::min<int64_t>(spec.num_ctx, f.get_i64_or(arch + "context_length", spec.num_ctx));
      // Sliding-window layers count their ring, sized for the runner's passes (num_batch).
      for (const uint64_t layer : model::kv_cache_bytes_by_layer(f, n_ctx, std::max(spec.num_parallel, 1),
                                                                  model::KvCache::parse_type(spec.kv_cache_type),
                                                                  LoadOptions{}.num_batch)) {
        bytes += layer;
      }
    } catch (const Error&) {
      return bytes;  // the load will say what is wrong with it
    }
    std::lock_guard<std::mutex> lock(mu_);
    estimates_[key] = bytes;
    return bytes;
  }
  std::unique_ptr<LoadedModel> load(const LoadSpec& spec) override {
    LoadOptions o;
    o.num_ctx = spec.num_ctx;
    o.num_parallel = spec.num_parallel;
    o.num_thread = spec.num_thread;
    o.kv_cache_type = spec.kv_cache_type;
    o.num_gpu = spec.num_gpu;
    o.gpu_in_use = spec.gpu_in_use;
    try {
      return std::make_unique<RunnerModel>(Runner::load(spec.model_path, o));
    } catch (const Error& e) {
      throw e.with_context("loading " + spec.name);
    }
  }

 private:
  std::mutex mu_;
  std::map<std::string, uint64_t> estimates_;  // blobs are content-addressed: a path never changes
};

}  // namespace

EmbedOutcome LoadedModel::embed(const std::vector<std::vector<int32_t>>&, const std::function<bool()>&) {
  throw Error(ErrorCode::unsupported, "this model does not support embeddings");
}

std::unique_ptr<ModelLoader> make_runner_loader() { return std::make_unique<RunnerLoader>(); }

}  // namespace hearth::engine
