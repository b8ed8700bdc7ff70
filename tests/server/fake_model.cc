#include "fake_model.h"

#include <chrono>
#include <thread>

#include "engine/chat_format.h"
#include "util/error.h"

namespace hearth::testing {

FakeModel::FakeModel(std::shared_ptr<FakeWorld> world, engine::LoadSpec spec)
    : world_(std::move(world)) {
  facts_.arch = "fake";
  facts_.context_length = 2048;
  facts_.thinking = world_->thinking;
  facts_.tools = true;
  facts_.insert = false;
  facts_.adds_bos = world_->bos;
  num_ctx_ = std::min(spec.num_ctx, 2048);
  std::lock_guard<std::mutex> lk(world_->mu);
  auto it = world_->bytes_by_path.find(spec.model_path);
  bytes_ = it != world_->bytes_by_path.end() ? it->second : 1000;
  auto v = world_->vram_by_path.find(spec.model_path);
  vram_ = v != world_->vram_by_path.end() ? v->second : world_->vram_default;
  ++world_->loads;
}

FakeModel::~FakeModel() { ++world_->unloads; }

std::vector<int32_t> FakeModel::tokenize(std::string_view text, bool add_special) const {
  std::vector<int32_t> out;
  if (add_special && world_->bos) out.push_back(256);
  for (unsigned char c : text) out.push_back(c);
  if (add_special && world_->eos) out.push_back(257);
  return out;
}

std::string FakeModel::detokenize(std::span<const int32_t> tokens) const {
  std::string out;
  for (int32_t t : tokens) {
    if (t >= 0 && t < 256) out += static_cast<char>(t);
  }
  return out;
}

std::unique_ptr<engine::OutputParser> FakeModel::make_output_parser(const engine::RenderRequest& r,
                                                                     std::string_view) const {
  if (engine::harmony_applies(r, facts_.arch, "")) return engine::make_harmony_output_parser(r);
  return nullptr;
}

std::string FakeModel::render(const engine::RenderRequest& r) const {
  if (engine::harmony_applies(r, facts_.arch, "")) return engine::render_harmony_request(r, facts_.thinking);
  std::string out;
  const std::string& tmpl = !r.request_template.empty() ? r.request_template : r.modelfile_template;
  if (!tmpl.empty()) out += "{tmpl:" + tmpl + "}";
  if (r.strip_earlier_thinking) out += "{strip-thinking}";
  if (!r.prefer_go_template) out += "{jinja-first}";
  if (!r.tools_json.empty()) out += "[tools]" + r.tools_json + "\n";
  for (const auto& m : r.messages) {
    out += "[" + m.role + "]" + m.content;
    for (const auto& c : m.tool_calls) out += "<call " + c.name + " " + c.arguments.dump() + ">";
    out += "\n";
  }
  if (r.add_generation_prompt) out += "[assistant]";
  return out;
}

engine::CompletionOutcome FakeModel::complete(const engine::CompletionJob& job) {
  int now = ++world_->active;
  int prev = world_->max_active.load();
  while (now > prev && !world_->max_active.compare_exchange_weak(prev, now)) {
  }
  struct Leave {
    FakeWorld* w;
    ~Leave() { --w->active; ++w->completes; }
  } leave{world_.get()};
  {
    std::unique_lock<std::mutex> lk(world_->mu);
    world_->cv.wait(lk, [&] { return !world_->gate_closed; });
  }
  {
    std::lock_guard<std::mutex> lk(world_->mu);
    world_->last_render_special = job.render_special;
    world_->last_format_after = job.format_after;
    world_->last_prompt = detokenize(job.prompt);
    world_->last_shift = job.shift;
  }
  engine::CompletionOutcome out;
  out.prompt_eval_count = static_cast<int>(job.prompt.size());
  out.prompt_eval_ns = 1000;
  out.context = job.prompt;
  std::string reply = world_->reply;
  size_t pos = 0;
  int produced = 0;
  for (;;) {
    if (job.num_predict >= 0 && produced >= job.num_predict) {
      out.done_reason = "length";
      break;
    }
    if (!world_->endless && pos >= reply.size()) {
      out.done_reason = "stop";
      break;
    }
    std::string piece;
    if (world_->endless) {
      piece = "tick ";
    } else {
      piece = reply.substr(pos, world_->piece_size);
      pos += piece.size();
    }
    if (world_->piece_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(world_->piece_delay_ms));
    }
    ++produced;
    for (unsigned char c : piece) out.context.push_back(c);
    if (job.on_logprob) {  // one "token" per piece: its text at -0.25, then made-up alternatives
      engine::GeneratedLogprob lp{{piece, -0.25}, {}};
      for (int i = 0; i < job.top_logprobs; ++i) lp.top.push_back({i == 0 ? piece : "alt" + std::to_string(i), -0.25 - i});
      job.on_logprob(std::move(lp));
    }
    if (!job.on_piece(piece)) {
      ++world_->cancels;
      out.done_reason = "cancelled";
      break;
    }
  }
  out.eval_count = produced;
  out.eval_ns = 2000 + produced;
  return out;
}

engine::EmbedOutcome FakeModel::embed(const std::vector<std::vector<int32_t>>& inputs,
                                        const std::function<bool()>& cancelled) {
  engine::EmbedOutcome out;
  for (const auto& in : inputs) {
    if (cancelled && cancelled()) {
      ++world_->embed_cancels;
      throw Error(ErrorCode::cancelled, "request canceled");
    }
    if (world_->embed_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(world_->embed_delay_ms));
    }
    out.vectors.push_back({static_cast<float>(in.size()), static_cast<float>(in.back()), 1.0f, 0.5f});
    out.prompt_eval_count += static_cast<int>(in.size());
    ++world_->embed_inputs;
  }
  return out;
}

uint64_t FakeLoader::estimate_bytes(const engine::LoadSpec& spec) {
  std::lock_guard<std::mutex> lk(world_->mu);
  auto it = world_->bytes_by_path.find(spec.model_path);
  return it != world_->bytes_by_path.end() ? it->second : 1000;
}

std::unique_ptr<engine::LoadedModel> FakeLoader::load(const engine::LoadSpec& spec) {
  {
    std::lock_guard<std::mutex> lk(world_->mu);
    world_->load_specs.push_back(spec);
  }
  return std::make_unique<FakeModel>(world_, spec);
}

}  // namespace hearth::testing
