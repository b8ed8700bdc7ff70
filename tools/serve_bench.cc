// serve-bench: throughput of a running `hearth serve` (or Ollama) under N concurrent streaming
// /api/chat clients. Each client asks for T tokens (num_predict=T, temperature 0) with its own
// short prompt; the tool prints aggregate generated tokens/s, per-client tokens/s, time to first
// token, and the HTTP overhead per token: the client's wall time between its first and last token
// minus the eval_duration the server reports for the same tokens (and, second figure, the whole
// request's wall time minus prompt_eval_duration + eval_duration), per generated token.
//
//   serve-bench --host 127.0.0.1:11434 --model NAME --clients 4 --tokens 128 [--prompt TEXT]
//
// A random run number starts every prompt so that the server's prompt cache cannot serve a
// rerun's prompts (each run measures real prefill). Figures are wall-clock: run on an idle machine.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <latch>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* const kPrompts[] = {
    "Write a short poem about the sea.",
    "Explain in a few sentences how a bicycle works.",
    "List some facts about the planet Mars.",
    "Tell a short story about a lost cat.",
    "Describe the water cycle for a child.",
    "What makes bread rise? Explain briefly.",
    "Give advice for a first day at a new job.",
    "Summarize the history of the printing press.",
};

struct ClientResult {
  bool ok = false;
  std::string error;
  std::string done_reason;
  int content_chunks = 0;
  int prompt_eval_count = 0, eval_count = 0;
  int64_t prompt_eval_ns = 0, eval_ns = 0, total_ns = 0;
  double t_start = 0, t_first = -1, t_end = 0;  // seconds since the common start
};

struct HostPort {
  std::string host = "127.0.0.1";
  int port = 11434;
};

HostPort parse_host(std::string s) {
  HostPort hp;
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  while (!s.empty() && s.back() == '/') s.pop_back();
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) {
    if (!s.empty()) hp.host = s;
    return hp;
  }
  if (colon > 0) hp.host = s.substr(0, colon);
  hp.port = std::stoi(s.substr(colon + 1));
  return hp;
}

ClientResult run_client(const HostPort& hp, const std::string& model, const std::string& prompt,
                        int tokens, Clock::time_point t0) {
  ClientResult r;
  httplib::Client cli(hp.host, hp.port);
  cli.set_read_timeout(3600, 0);
  cli.set_connection_timeout(10, 0);
  Json body = {{"model", model},
               {"messages", Json::array({{{"role", "user"}, {"content", prompt}}})},
               {"stream", true},
               {"options", {{"num_predict", tokens}, {"temperature", 0}}}};
  const std::string payload = body.dump();
  auto since = [t0] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  std::string buf;
  httplib::Request req;
  req.method = "POST";
  req.path = "/api/chat";
  req.body = payload;
  req.set_header("Content-Type", "application/json");
  int status = 0;
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buf.append(data, n);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line.empty()) continue;
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("error")) {
        r.error = j["error"].dump();
        continue;
      }
      const Json& msg = j.value("message", Json::object());
      const bool has_text = (msg.contains("content") && !msg["content"].get<std::string>().empty()) ||
                            (msg.contains("thinking") && !msg["thinking"].get<std::string>().empty());
      if (has_text) {
        if (r.t_first < 0) r.t_first = since();
        ++r.content_chunks;
      }
      if (j.value("done", false)) {
        r.t_end = since();
        r.done_reason = j.value("done_reason", "");
        r.prompt_eval_count = j.value("prompt_eval_count", 0);
        r.prompt_eval_ns = j.value("prompt_eval_duration", int64_t{0});
        r.eval_count = j.value("eval_count", 0);
        r.eval_ns = j.value("eval_duration", int64_t{0});
        r.total_ns = j.value("total_duration", int64_t{0});
        r.ok = true;
      }
    }
    return true;
  };
  r.t_start = since();
  auto res = cli.send(req);
  if (!res) {
    r.ok = false;
    r.error = "request failed: " + httplib::to_string(res.error());
  } else if (status != 200) {
    r.ok = false;
    r.error = "HTTP " + std::to_string(status) + " " + buf;
  }
  return r;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Concurrent streaming /api/chat throughput of a running server"};
  std::string host = "127.0.0.1:11434", model, prompt;
  int clients = 1, tokens = 128;
  bool json_out = false, warmup = true;
  app.add_option("--host", host, "server address HOST:PORT");
  app.add_option("--model", model, "model name")->required();
  app.add_option("--clients", clients, "concurrent clients")->check(CLI::Range(1, 256));
  app.add_option("--tokens", tokens, "tokens to generate per client (num_predict)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--prompt", prompt, "base prompt (each client adds its own suffix); default: built-in prompts");
  app.add_flag("--json", json_out, "print one JSON object instead of the table");
  app.add_flag("!--no-warmup", warmup, "skip the load request before the measured run");
  CLI11_PARSE(app, argc, argv);

  const HostPort hp = parse_host(host);
  if (warmup) {  // load the model so that load time is not time to first token
    httplib::Client cli(hp.host, hp.port);
    cli.set_read_timeout(3600, 0);
    Json body = {{"model", model}, {"messages", Json::array()}, {"stream", false}};
    auto res = cli.Post("/api/chat", body.dump(), "application/json");
    if (!res || res->status != 200) {
      std::fprintf(stderr, "serve-bench: loading %s failed: %s\n", model.c_str(),
                   res ? res->body.c_str() : httplib::to_string(res.error()).c_str());
      return 1;
    }
  }

  std::mt19937 rng(std::random_device{}());
  const unsigned run_id = rng() % 100000;
  std::vector<std::string> prompts;
  for (int i = 0; i < clients; ++i) {
    std::string p = prompt.empty() ? kPrompts[i % 8] : prompt + " (variant " + std::to_string(i) + ")";
    prompts.push_back("Request " + std::to_string(run_id) + "-" + std::to_string(i) + ". " + p);
  }

  std::vector<ClientResult> results(static_cast<size_t>(clients));
  std::latch ready(clients + 1);
  Clock::time_point t0;
  std::mutex t0_mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      ready.arrive_and_wait();
      Clock::time_point start;
      {
        std::lock_guard<std::mutex> lk(t0_mu);
        start = t0;
      }
      results[static_cast<size_t>(i)] = run_client(hp, model, prompts[static_cast<size_t>(i)], tokens, start);
    });
  }
  {
    std::lock_guard<std::mutex> lk(t0_mu);
    t0 = Clock::now();
  }
  ready.arrive_and_wait();
  for (auto& t : threads) t.join();

  int failed = 0;
  int64_t total_tokens = 0;
  double first_start = 1e300, last_end = 0;
  std::vector<double> ttft, client_tps, server_tps, overhead_ms, request_overhead_ms;
  Json per = Json::array();
  for (int i = 0; i < clients; ++i) {
    const ClientResult& r = results[static_cast<size_t>(i)];
    if (!r.ok || !r.error.empty()) {
      ++failed;
      std::fprintf(stderr, "client %d: %s\n", i, r.error.empty() ? "no final chunk" : r.error.c_str());
      continue;
    }
    total_tokens += r.eval_count;
    first_start = std::min(first_start, r.t_start);
    last_end = std::max(last_end, r.t_end);
    const double tt = r.t_first >= 0 ? r.t_first - r.t_start : r.t_end - r.t_start;
    ttft.push_back(tt);
    // Tokens after the first arrive over (t_end - t_first); the server's eval_duration covers
    // the forward passes that made them.
    const double gen_wall = r.t_first >= 0 ? r.t_end - r.t_first : 0.0;
    const int after_first = std::max(r.eval_count - 1, 0);
    const double ctps = gen_wall > 0 ? after_first / gen_wall : 0.0;
    const double stps = r.eval_ns > 0 ? r.eval_count / (r.eval_ns * 1e-9) : 0.0;
    // Streaming overhead: the client's wall time between its first and last token minus the
    // server's eval_duration, which covers exactly the forward passes that made tokens 2..n: the
    // rest is sampling, detokenization, one NDJSON chunk per token and the HTTP transfer (with
    // several clients, also the other clients' callbacks). It can come out slightly negative when
    // the output parser holds the first piece back (a partial "<think>" tag).
    const double ovh = after_first > 0 ? (gen_wall - r.eval_ns * 1e-9) / after_first * 1e3 : 0.0;
    // Whole request: client wall minus the server's prompt_eval + eval durations, per token. This
    // adds the request parsing, template and tokenization, and time spent waiting for a forward
    // pass that had already started without this request (queueing behind another prompt).
    const double request_wall = r.t_end - r.t_start;
    const double req_ovh = r.eval_count > 0
                               ? (request_wall - (r.prompt_eval_ns + r.eval_ns) * 1e-9) / r.eval_count * 1e3
                               : 0.0;
    client_tps.push_back(ctps);
    server_tps.push_back(stps);
    overhead_ms.push_back(ovh);
    request_overhead_ms.push_back(req_ovh);
    per.push_back({{"client", i},
                   {"prompt_tokens", r.prompt_eval_count},
                   {"eval_count", r.eval_count},
                   {"done_reason", r.done_reason},
                   {"ttft_ms", tt * 1e3},
                   {"client_tokens_per_s", ctps},
                   {"server_tokens_per_s", stps},
                   {"overhead_ms_per_token", ovh},
                   {"request_overhead_ms_per_token", req_ovh}});
  }
  const double wall = last_end > first_start ? last_end - first_start : 0.0;
  const double agg = wall > 0 ? static_cast<double>(total_tokens) / wall : 0.0;
  const double ttft_max = ttft.empty() ? 0.0 : *std::max_element(ttft.begin(), ttft.end());

  if (json_out) {
    Json out = {{"model", model},
                {"clients", clients},
                {"tokens", tokens},
                {"failed", failed},
                {"generated_tokens", total_tokens},
                {"wall_s", wall},
                {"aggregate_tokens_per_s", agg},
                {"ttft_mean_ms", mean(ttft) * 1e3},
                {"ttft_max_ms", ttft_max * 1e3},
                {"client_tokens_per_s_mean", mean(client_tps)},
                {"overhead_ms_per_token_mean", mean(overhead_ms)},
                {"request_overhead_ms_per_token_mean", mean(request_overhead_ms)},
                {"per_client", per}};
    std::printf("%s\n", out.dump(2).c_str());
    return failed == 0 ? 0 : 1;
  }
  std::printf("serve-bench: model=%s host=%s:%d clients=%d tokens=%d\n", model.c_str(), hp.host.c_str(),
              hp.port, clients, tokens);
  std::printf("%6s %10s %8s %8s %10s %12s %12s %14s %14s\n", "client", "prompt_tok", "gen_tok", "done",
              "ttft_ms", "client_t/s", "server_t/s", "stream_ovh_ms", "request_ovh_ms");
  for (const auto& p : per) {
    std::printf("%6d %10d %8d %8s %10.1f %12.2f %12.2f %14.3f %14.3f\n", p["client"].get<int>(),
                p["prompt_tokens"].get<int>(), p["eval_count"].get<int>(),
                p["done_reason"].get<std::string>().c_str(), p["ttft_ms"].get<double>(),
                p["client_tokens_per_s"].get<double>(), p["server_tokens_per_s"].get<double>(),
                p["overhead_ms_per_token"].get<double>(), p["request_overhead_ms_per_token"].get<double>());
  }
  std::printf("aggregate: %lld tokens in %.2f s = %.2f tokens/s (%d failed)\n",
              static_cast<long long>(total_tokens), wall, agg, failed);
  std::printf("per client: mean %.2f tokens/s (client-side, after the first token)\n", mean(client_tps));
  std::printf("time to first token: mean %.1f ms, max %.1f ms\n", mean(ttft) * 1e3, ttft_max * 1e3);
  std::printf("HTTP overhead per token: mean %.3f ms streaming (client wall first->last token minus server eval_duration),\n"
              "  %.3f ms whole request (client wall minus server prompt_eval+eval duration, incl. queueing)\n",
              mean(overhead_ms), mean(request_overhead_ms));
  return failed == 0 ? 0 : 1;
}
