// /api/embed, /api/embeddings (legacy) and /v1/embeddings: texts are tokenized with the model's
// special tokens, fitted to num_ctx, and embedded by the loaded model apart from the chat sequences
// (engine/runner_embed.cc); vectors are L2-normalized here except on the legacy route.

#include "api/embed.h"
#include "api/openai.h"
#include "server/generation.h"

namespace hearth::server {

namespace {

using api::Json;

struct Embedded {
  std::vector<std::vector<float>> vectors;  // as the model pooled them
  int prompt_eval_count = 0;
  int64_t total_ns = 0, load_ns = 0;
};

int64_t ns_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

// Resolves and leases the model (loading it when needed), fits every input to the context and
// embeds them in one call to the model. No inputs: only the load.
Embedded run_embed(State& s, const httplib::Request& req, const api::EmbedRequest& r) {
  const auto started = std::chrono::steady_clock::now();
  if (r.model.empty()) throw Error(ErrorCode::invalid_argument, "model is required");
  ResolvedModel m = resolve_model(s, r.model);
  request_log().model = m.display;
  api::Options opts = m.params;
  opts.overlay(r.options);
  ConnectionProbe probe = probe_for(req);
  engine::Scheduler::Lease lease =
      s.scheduler->acquire(load_spec_for(s, m, opts), r.keep_alive, [&probe] { return !probe.alive(); });
  Embedded out;
  out.load_ns = ns_since(started);  // as generate: request start to model ready
  if (r.inputs.empty()) {
    out.total_ns = ns_since(started);
    return out;
  }
  engine::LoadedModel& loaded = lease.model();
  const size_t num_ctx = static_cast<size_t>(loaded.num_ctx());
  std::vector<std::vector<int32_t>> tokens;
  tokens.reserve(r.inputs.size());
  // The tokens the vocabulary puts around every text. Ollama counts a text's tokens without them
  // and keeps two positions for a BOS and an EOS whatever the vocabulary adds (it looks the flags
  // up under keys no GGUF has, so both default on): with BERT's [CLS] ... [SEP] that is the whole
  // context, with one of them one position less. A closing token (BERT's [SEP], an EOS alone)
  // stays last in a cut text, as llama-server appends it to the text Ollama cut.
  const std::vector<int32_t> framing = loaded.tokenize("", true);
  const bool closing = framing.size() == 2 || (framing.size() == 1 && !loaded.facts().adds_bos);
  const size_t text_limit = num_ctx - std::min(num_ctx - 1, framing.size() < 2 ? 2 - framing.size() : 0);
  for (const api::EmbedInput& in : r.inputs) {
    std::vector<int32_t> t = in.tokens ? *in.tokens : loaded.tokenize(in.text, true);
    if (t.empty()) throw Error(ErrorCode::invalid_argument, "invalid input: it has no tokens");
    const size_t limit = in.tokens ? num_ctx : text_limit;
    if (t.size() > limit) {
      if (!r.truncate) {
        throw Error(ErrorCode::invalid_argument, "the input length exceeds the context length");
      }
      const bool closed = !in.tokens && closing && t.back() == framing.back();
      t.resize(limit);  // the head (with BOS) is kept, as Ollama keeps the first tokens
      if (closed) t.back() = framing.back();
    }
    tokens.push_back(std::move(t));
  }
  // A client that hangs up stops the work at the next forward pass (Error(cancelled), 499),
  // which frees the model for others.
  engine::EmbedOutcome e = loaded.embed(tokens, [&probe] { return !probe.alive(); });
  s.metrics.count_tokens(e.prompt_eval_count, e.prompt_eval_ns, 0, 0);
  request_log().prompt_tokens = e.prompt_eval_count;
  out.vectors = std::move(e.vectors);
  out.prompt_eval_count = e.prompt_eval_count;
  out.total_ns = ns_since(started);
  return out;
}

}  // namespace

void handle_embed(Call& call) {
  State& s = call.s;
  const httplib::Request& req = call.req;
  httplib::Response& res = call.res;
  Json body = call.json_body();
  api::EmbedRequest r = api::parse_embed_request(body);
  Embedded e = run_embed(s, req, r);
  Json j = Json::object();
  j["model"] = r.model;
  Json vectors = Json::array();
  for (auto& v : e.vectors) vectors.push_back(api::embed_vector(std::move(v), r.dimensions));
  j["embeddings"] = std::move(vectors);
  if (!r.inputs.empty()) {
    j["total_duration"] = e.total_ns;
    j["load_duration"] = e.load_ns;
    j["prompt_eval_count"] = e.prompt_eval_count;
  }
  send_json(res, 200, j);
}

void handle_legacy_embeddings(Call& call) {
  State& s = call.s;
  const httplib::Request& req = call.req;
  httplib::Response& res = call.res;
  Json body = call.json_body();
  api::EmbedRequest r = api::parse_legacy_embeddings_request(body);
  Embedded e = run_embed(s, req, r);
  Json j = Json::object();
  Json v = Json::array();
  if (!e.vectors.empty()) {
    for (float x : e.vectors.front()) v.push_back(static_cast<double>(x));
  }
  j["embedding"] = std::move(v);
  send_json(res, 200, j);
}

void handle_openai_embeddings(Call& call) {
  State& s = call.s;
  const httplib::Request& req = call.req;
  httplib::Response& res = call.res;
  Json body = call.json_body();
  api::OpenAIEmbedRequest r = api::parse_openai_embed(body);
  Embedded e = run_embed(s, req, r.embed);
  Json data = Json::array();
  for (size_t i = 0; i < e.vectors.size(); ++i) {
    std::vector<float> v = api::embed_vector(std::move(e.vectors[i]), r.embed.dimensions);
    Json item = Json::object();
    item["object"] = "embedding";
    if (r.base64) item["embedding"] = api::base64_f32(v);
    else item["embedding"] = v;
    item["index"] = i;
    data.push_back(std::move(item));
  }
  Json j = Json::object();
  j["object"] = "list";
  j["data"] = std::move(data);
  j["model"] = r.embed.model;
  Json usage = Json::object();
  usage["prompt_tokens"] = e.prompt_eval_count;
  usage["total_tokens"] = e.prompt_eval_count;
  j["usage"] = std::move(usage);
  send_json(res, 200, j);
}

}  // namespace hearth::server
