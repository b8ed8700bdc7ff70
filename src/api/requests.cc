#include "api/requests.h"

#include <cctype>
#include <cmath>

#include "engine/scheduler.h"
#include "sample/json_schema.h"
#include "util/error.h"

namespace hearth::api {

namespace {

Error field_error(const std::string& key, const char* want) {
  return Error(ErrorCode::invalid_argument,
               "invalid value for field \"" + key + "\": expected " + std::string(want));
}

std::vector<std::string> get_images(const Json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) throw field_error(key, "an array of base64 strings");
  for (const auto& v : *it) {
    if (!v.is_string()) throw field_error(key, "an array of base64 strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::vector<ToolCall> parse_tool_calls(const Json& v) {
  std::vector<ToolCall> out;
  if (v.is_null()) return out;
  if (!v.is_array()) throw field_error("tool_calls", "an array");
  int index = 0;
  for (const auto& c : v) {
    if (!c.is_object()) throw field_error("tool_calls", "an array of objects");
    ToolCall call;
    call.id = get_string(c, "id");
    call.index = index++;
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) throw field_error("tool_calls.function", "an object");
    call.name = get_string(*fn, "name");
    if (auto idx = fn->find("index"); idx != fn->end() && idx->is_number_integer()) {
      call.index = idx->get<int>();
    }
    auto args = fn->find("arguments");
    if (args != fn->end() && !args->is_null()) {
      if (args->is_object()) {
        call.arguments = *args;
      } else if (args->is_string()) {  // OpenAI style: JSON text
        Json parsed = Json::parse(args->get<std::string>(), nullptr, false);
        if (!parsed.is_object()) throw field_error("tool_calls.function.arguments", "a JSON object");
        call.arguments = std::move(parsed);
      } else {
        throw field_error("tool_calls.function.arguments", "an object");
      }
    }
    out.push_back(std::move(call));
  }
  return out;
}

void read_common(const Json& b, Options& options, std::optional<std::chrono::nanoseconds>& keep_alive,
                 std::optional<std::string>& think, bool& stream, bool& truncate, std::optional<bool>& shift,
                 bool& logprobs, int& top_logprobs, bool& debug_render_only, Json& format) {
  if (auto it = b.find("options"); it != b.end()) options = Options::parse(*it);
  if (auto it = b.find("keep_alive"); it != b.end()) keep_alive = parse_keep_alive_field(*it);
  if (auto it = b.find("think"); it != b.end()) think = parse_think_field(*it);
  stream = get_bool(b, "stream", true);
  truncate = get_bool(b, "truncate", true);
  if (auto it = b.find("shift"); it != b.end() && !it->is_null()) shift = get_bool(b, "shift", true);
  logprobs = get_bool(b, "logprobs", false);
  if (auto it = b.find("top_logprobs"); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw field_error("top_logprobs", "an integer");
    int64_t n = it->get<int64_t>();
    if (n < 0 || n > 20) {
      throw Error(ErrorCode::invalid_argument, "top_logprobs must be between 0 and 20");
    }
    top_logprobs = static_cast<int>(n);
  }
  if (auto it = b.find("_debug_render_only"); it != b.end() && !it->is_null()) {
    if (!it->is_boolean()) throw field_error("_debug_render_only", "a boolean");
    debug_render_only = it->get<bool>();
  }
  if (auto it = b.find("format"); it != b.end()) {
    validate_format(*it);
    format = *it;
  }
}

}  // namespace

Json parse_body(const std::string& body) {
  bool blank = true;
  for (char c : body) {
    if (!std::isspace(static_cast<unsigned char>(c))) blank = false;
  }
  if (blank) throw Error(ErrorCode::invalid_argument, "missing request body");
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::parse_error& e) {
    throw Error(ErrorCode::invalid_argument, std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object()) throw Error(ErrorCode::invalid_argument, "request body must be a JSON object");
  return j;
}

std::string get_string(const Json& obj, const char* key, const std::string& fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw field_error(key, "a string");
  return it->get<std::string>();
}

bool get_bool(const Json& obj, const char* key, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw field_error(key, "a boolean");
  return it->get<bool>();
}

std::string get_model_field(const Json& obj) {
  std::string m = get_string(obj, "model");
  if (m.empty()) m = get_string(obj, "name");
  return m;
}

std::optional<std::chrono::nanoseconds> parse_keep_alive_field(const Json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_number()) {
    double seconds = v.get<double>();
    if (!std::isfinite(seconds)) throw field_error("keep_alive", "a duration");
    if (seconds < 0) return std::chrono::nanoseconds(-1);
    double ns = std::min(seconds * 1e9, 9.2e18);
    return std::chrono::nanoseconds(static_cast<int64_t>(ns));
  }
  if (v.is_string()) {
    auto d = engine::parse_keep_alive(v.get<std::string>(), false);
    if (d.count() < 0) return std::chrono::nanoseconds(-1);
    return d;
  }
  throw field_error("keep_alive", "a duration string or a number of seconds");
}

std::optional<std::string> parse_think_field(const Json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "low" || s == "medium" || s == "high" || s == "max") return s;
    if (s == "true" || s == "false") return s;
  }
  throw Error(ErrorCode::invalid_argument, "invalid think value");
}

void validate_format(const Json& v) {
  if (v.is_null()) return;
  if (v.is_string() && (v.get<std::string>().empty() || v.get<std::string>() == "json")) return;
  if (v.is_object()) {
    // A schema the grammar compiler cannot use (wrong keyword types, unknown types, dangling
    // $ref) is the client's error.
    try {
      sample::json_schema_grammar(v.dump());
    } catch (const Error& e) {
      throw Error(ErrorCode::invalid_argument, std::string("invalid format: ") + e.what());
    }
    return;
  }
  throw Error(ErrorCode::invalid_argument,
              "invalid format: " + v.dump() + "; expected \"json\" or a valid JSON Schema object");
}

std::string tool_name_for(const std::vector<Message>& history, const std::string& call_id) {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    for (const auto& c : it->tool_calls) {
      if (c.id == call_id) return c.name;
    }
  }
  return "";
}

Message parse_message(const Json& m) {
  if (!m.is_object()) throw field_error("messages", "an array of objects");
  Message msg;
  msg.role = get_string(m, "role");
  for (auto& c : msg.role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto content = m.find("content");
  if (content != m.end() && !content->is_null()) {
    if (content->is_string()) {
      msg.content = content->get<std::string>();
    } else {
      throw field_error("messages.content", "a string");
    }
  }
  msg.thinking = get_string(m, "thinking");
  msg.images = get_images(m, "images");
  if (auto it = m.find("tool_calls"); it != m.end()) msg.tool_calls = parse_tool_calls(*it);
  msg.tool_name = get_string(m, "tool_name");
  msg.tool_call_id = get_string(m, "tool_call_id");
  if (msg.tool_name.empty() && !msg.tool_call_id.empty() && msg.role == "tool") {
    msg.tool_name = msg.tool_call_id;
  }
  return msg;
}

GenerateRequest parse_generate_request(const Json& b) {
  GenerateRequest r;
  r.model = get_model_field(b);
  r.prompt = get_string(b, "prompt");
  r.suffix = get_string(b, "suffix");
  r.system = get_string(b, "system");
  r.template_text = get_string(b, "template");
  r.raw = get_bool(b, "raw", false);
  r.images = get_images(b, "images");
  if (auto it = b.find("context"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw field_error("context", "an array of integers");
    std::vector<int32_t> ctx;
    for (const auto& t : *it) {
      if (!t.is_number_integer()) throw field_error("context", "an array of integers");
      int64_t x = t.get<int64_t>();
      if (x < 0 || x > INT32_MAX) throw field_error("context", "an array of token ids");
      ctx.push_back(static_cast<int32_t>(x));
    }
    r.context = std::move(ctx);
  }
  read_common(b, r.options, r.keep_alive, r.think, r.stream, r.truncate, r.shift, r.logprobs,
              r.top_logprobs, r.debug_render_only, r.format);
  if (r.raw && (!r.template_text.empty() || !r.system.empty() || r.context)) {
    throw Error(ErrorCode::invalid_argument, "raw mode does not support template, system, or context");
  }
  return r;
}

ChatRequest parse_chat_request(const Json& b) {
  ChatRequest r;
  r.model = get_model_field(b);
  if (auto it = b.find("messages"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw field_error("messages", "an array");
    for (const auto& m : *it) r.messages.push_back(parse_message(m));
  }
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw field_error("tools", "an array");
    for (const auto& t : *it) {
      if (!t.is_object()) throw field_error("tools", "an array of objects");
    }
    r.tools = *it;
  }
  read_common(b, r.options, r.keep_alive, r.think, r.stream, r.truncate, r.shift, r.logprobs,
              r.top_logprobs, r.debug_render_only, r.format);
  return r;
}

}  // namespace hearth::api
