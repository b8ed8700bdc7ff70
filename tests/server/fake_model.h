#pragma once
// A LoadedModel that needs no model: one token per byte, a fixed chat format, and a scripted
// reply streamed in small pieces. Tests hold requests inside complete() with a gate and count
// loads, unloads, concurrent sequences and cancellations.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/loaded_model.h"

namespace hearth::testing {

struct FakeWorld {
  std::mutex mu;
  std::condition_variable cv;
  std::string reply = "Hello from the fake model.";
  size_t piece_size = 3;
  bool thinking = false;        // facts().thinking
  bool bos = true, eos = false;  // tokenize(text, true) puts 256 first, 257 last
  bool endless = false;         // keep generating until cancelled or num_predict
  bool gate_closed = false;     // complete() waits while true
  int piece_delay_ms = 0;
  int embed_delay_ms = 0;       // embed() takes this long per input
  std::atomic<int> embed_inputs{0}, embed_cancels{0};  // inputs embedded; embed calls cancelled
  std::atomic<int> loads{0}, unloads{0}, active{0}, max_active{0}, cancels{0}, completes{0};
  std::map<std::string, uint64_t> bytes_by_path;  // estimate per model path (default 1000)
  std::map<std::string, uint64_t> vram_by_path;   // vram_bytes() per model path
  uint64_t vram_default = 0;                      // for the paths not there
  std::vector<engine::LoadSpec> load_specs;       // what each load was asked, in order
  // The last completion's job as the server set it up (harmony: control tokens as text, the
  // format's start), and its prompt as text.
  bool last_render_special = false;
  std::string last_format_after, last_prompt;
  bool last_shift = true;  // the job's context shift, as the server resolved it

  void open_gate() {
    {
      std::lock_guard<std::mutex> lk(mu);
      gate_closed = false;
    }
    cv.notify_all();
  }
};

class FakeModel : public engine::LoadedModel {
 public:
  FakeModel(std::shared_ptr<FakeWorld> world, engine::LoadSpec spec);
  ~FakeModel() override;
  const engine::ModelFacts& facts() const override { return facts_; }
  int num_ctx() const override { return num_ctx_; }
  uint64_t memory_bytes() const override { return bytes_; }
  uint64_t vram_bytes() const override { return vram_; }
  std::vector<int32_t> tokenize(std::string_view text, bool add_special) const override;
  std::string detokenize(std::span<const int32_t> tokens) const override;
  std::string render(const engine::RenderRequest& request) const override;
  // A model of the gpt-oss family (manifest model_family gptoss) with a harmony TEMPLATE gets the
  // production harmony rendering and parser (engine/chat_format.h); others the server's parser.
  std::unique_ptr<engine::OutputParser> make_output_parser(const engine::RenderRequest& request,
                                                           std::string_view) const override;
  engine::CompletionOutcome complete(const engine::CompletionJob& job) override;
  // One input at a time, asking `cancelled` before each: a 4-float vector per input.
  engine::EmbedOutcome embed(const std::vector<std::vector<int32_t>>& inputs,
                             const std::function<bool()>& cancelled) override;

 private:
  std::shared_ptr<FakeWorld> world_;
  engine::ModelFacts facts_;
  int num_ctx_;
  uint64_t bytes_;
  uint64_t vram_ = 0;
};

class FakeLoader : public engine::ModelLoader {
 public:
  explicit FakeLoader(std::shared_ptr<FakeWorld> world) : world_(std::move(world)) {}
  uint64_t estimate_bytes(const engine::LoadSpec& spec) override;
  std::unique_ptr<engine::LoadedModel> load(const engine::LoadSpec& spec) override;

 private:
  std::shared_ptr<FakeWorld> world_;
};

}  // namespace hearth::testing
