#include "api/openai.h"

#include <map>
#include <mutex>
#include <random>

#include "api/wire.h"
#include "util/error.h"

namespace hearth::api {

namespace {

Error bad(const std::string& message) { return Error(ErrorCode::invalid_argument, message); }

// Shared sampling fields of both endpoints.
void read_sampling(const Json& b, Options& o) {
  auto number = [&](const char* key) -> std::optional<float> {
    auto it = b.find(key);
    if (it == b.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) throw bad(std::string("invalid value for '") + key + "': expected a number");
    return it->get<float>();
  };
  o.temperature = number("temperature").value_or(1.0f);
  o.top_p = number("top_p").value_or(1.0f);
  if (auto v = number("frequency_penalty")) o.frequency_penalty = *v;
  if (auto v = number("presence_penalty")) o.presence_penalty = *v;
  if (auto it = b.find("seed"); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw bad("invalid value for 'seed': expected an integer");
    o.seed = it->get<int64_t>();
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = b.find(key);
    if (it == b.end() || it->is_null()) continue;
    if (!it->is_number_integer()) throw bad(std::string("invalid value for '") + key + "': expected an integer");
    o.num_predict = static_cast<int>(std::min<int64_t>(it->get<int64_t>(), INT32_MAX));
  }
  if (auto it = b.find("stop"); it != b.end() && !it->is_null()) {
    std::vector<std::string> stops;
    if (it->is_string()) {
      stops.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const auto& s : *it) {
        if (!s.is_string()) throw bad("invalid value for 'stop': expected a string or an array of strings");
        stops.push_back(s.get<std::string>());
      }
    } else {
      throw bad("invalid value for 'stop': expected a string or an array of strings");
    }
    o.stop = std::move(stops);
  }
}

bool read_include_usage(const Json& b) {
  auto it = b.find("stream_options");
  if (it == b.end() || !it->is_object()) return false;
  return get_bool(*it, "include_usage", false);
}

Message read_message(const Json& m, const std::map<std::string, std::string>& call_names) {
  if (!m.is_object()) throw bad("invalid message: expected an object");
  Message msg;
  msg.role = get_string(m, "role");
  auto content = m.find("content");
  if (content != m.end() && !content->is_null()) {
    if (content->is_string()) {
      msg.content = content->get<std::string>();
    } else if (content->is_array()) {
      for (const auto& part : *content) {
        if (!part.is_object()) throw bad("invalid message content part");
        std::string type = get_string(part, "type");
        if (type == "text") {
          msg.content += get_string(part, "text");
        } else if (type == "image_url") {
          auto iu = part.find("image_url");
          std::string url;
          if (iu != part.end() && iu->is_string()) url = iu->get<std::string>();
          else if (iu != part.end() && iu->is_object()) url = get_string(*iu, "url");
          msg.images.push_back(image_from_data_url(url));
        } else {
          throw bad("invalid message content type: " + type);
        }
      }
    } else {
      throw bad("invalid message content: expected a string or an array of parts");
    }
  }
  msg.thinking = get_string(m, "reasoning");
  if (msg.thinking.empty()) msg.thinking = get_string(m, "reasoning_content");
  if (auto it = m.find("tool_calls"); it != m.end() && !it->is_null()) {
    Json wrapped = Json::object();
    wrapped["role"] = "assistant";
    wrapped["tool_calls"] = *it;
    msg.tool_calls = parse_message(wrapped).tool_calls;
  }
  msg.tool_call_id = get_string(m, "tool_call_id");
  if (!msg.tool_call_id.empty()) {
    auto it = call_names.find(msg.tool_call_id);
    msg.tool_name = it != call_names.end() ? it->second : get_string(m, "name");
  }
  return msg;
}

}  // namespace

OpenAIChatRequest parse_openai_chat(const Json& b) {
  OpenAIChatRequest out;
  ChatRequest& r = out.chat;
  r.model = get_string(b, "model");
  auto msgs = b.find("messages");
  if (msgs == b.end() || msgs->is_null() || (msgs->is_array() && msgs->empty())) {
    throw bad("[] is too short - 'messages'");
  }
  if (!msgs->is_array()) throw bad("invalid value for 'messages': expected an array");
  std::map<std::string, std::string> call_names;
  for (const auto& m : *msgs) {
    Message msg = read_message(m, call_names);
    for (const auto& c : msg.tool_calls) {
      if (!c.id.empty()) call_names[c.id] = c.name;
    }
    r.messages.push_back(std::move(msg));
  }
  r.stream = get_bool(b, "stream", false);
  out.include_usage = read_include_usage(b);
  read_sampling(b, r.options);
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw bad("invalid value for 'tools': expected an array");
    r.tools = *it;
  }
  if (auto it = b.find("response_format"); it != b.end() && it->is_object()) {
    std::string type = get_string(*it, "type");
    if (type == "json_object") {
      r.format = "json";
    } else if (type == "json_schema") {
      auto js = it->find("json_schema");
      if (js != it->end() && js->is_object()) {
        auto schema = js->find("schema");
        if (schema != js->end() && schema->is_object()) {
          validate_format(*schema);  // a schema the grammar cannot use is a 400, as on /api/chat
          r.format = *schema;
        }
      }
    }
  }
  // As Ollama's FromChatRequest: a `reasoning` object wins over `reasoning_effort`, even when it
  // names no effort.
  std::string effort;
  if (auto it = b.find("reasoning"); it != b.end() && it->is_object()) effort = get_string(*it, "effort");
  else effort = get_string(b, "reasoning_effort");
  if (!effort.empty()) r.think = think_from_reasoning_effort(effort);
  r.logprobs = get_bool(b, "logprobs", false);
  if (auto it = b.find("top_logprobs"); it != b.end() && it->is_number_integer()) {
    r.top_logprobs = it->get<int>();
    if (r.top_logprobs < 0 || r.top_logprobs > 20) throw bad("top_logprobs must be between 0 and 20");
  }
  return out;
}

OpenAICompletionRequest parse_openai_completion(const Json& b) {
  OpenAICompletionRequest out;
  GenerateRequest& g = out.generate;
  g.model = get_string(b, "model");
  auto prompt = b.find("prompt");
  if (prompt != b.end() && !prompt->is_null() && !prompt->is_string()) {
    throw bad("invalid value for 'prompt': only a string is supported");
  }
  g.prompt = get_string(b, "prompt");
  g.suffix = get_string(b, "suffix");
  g.stream = get_bool(b, "stream", false);
  // The legacy API's `logprobs` is a count of alternatives; as in Ollama, 0 (or none) is off.
  if (auto it = b.find("logprobs"); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw bad("invalid value for 'logprobs': expected an integer");
    const int64_t n = it->get<int64_t>();
    if (n < 0 || n > 20) throw bad("logprobs must be between 0 and 20");
    g.logprobs = n > 0;
    g.top_logprobs = static_cast<int>(n);
  }
  out.include_usage = read_include_usage(b);
  read_sampling(b, g.options);
  return out;
}

std::string image_from_data_url(const std::string& url) {
  if (url.rfind("data:", 0) == 0) {
    auto comma = url.find(',');
    if (comma == std::string::npos || url.find(";base64") == std::string::npos) {
      throw bad("invalid image input");
    }
    return url.substr(comma + 1);
  }
  throw bad("image URLs are not currently supported, please use base64 encoded data instead");
}

std::optional<std::string> think_from_reasoning_effort(const std::string& effort) {
  if (effort.empty()) return std::nullopt;
  if (effort == "none") return "false";
  if (effort == "minimal") return "low";
  if (effort == "low" || effort == "medium" || effort == "high" || effort == "max") return effort;
  if (effort == "xhigh" || effort == "ultra") return "max";
  throw bad("invalid reasoning value: \"" + effort +
            "\" (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")");
}

Json openai_error(int status, const std::string& message) {
  const char* type = status == 400 ? "invalid_request_error"
                     : status == 404 ? "not_found_error"
                                     : "api_error";
  Json err = Json::object();
  err["message"] = message;
  err["type"] = type;
  err["param"] = nullptr;
  err["code"] = nullptr;
  Json out = Json::object();
  out["error"] = std::move(err);
  return out;
}

Json openai_tool_calls(const std::vector<ToolCall>& calls) {
  Json out = Json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const ToolCall& c = calls[i];
    Json call = Json::object();
    call["id"] = c.id.empty() ? random_call_id() : c.id;
    call["index"] = static_cast<int>(i);
    call["type"] = "function";
    Json fn = Json::object();
    fn["name"] = c.name;
    fn["arguments"] = c.arguments.dump();
    call["function"] = std::move(fn);
    out.push_back(std::move(call));
  }
  return out;
}

std::string openai_finish_reason(const std::string& done_reason, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  if (done_reason == "length") return "length";
  return "stop";
}

std::string openai_id(const char* prefix) {
  static std::mutex mu;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lk(mu);
  return std::string(prefix) + std::to_string(rng() % 999);
}

}  // namespace hearth::api
