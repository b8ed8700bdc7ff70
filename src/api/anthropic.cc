#include "api/anthropic.h"

#include <mutex>
#include <random>

#include "util/error.h"

namespace hearth::api {

namespace {

Error bad(const std::string& message) { return Error(ErrorCode::invalid_argument, message); }

// Text of a string or of the text blocks of an array (system prompts, tool results).
std::string text_of(const Json& v, const char* what) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) throw bad(std::string("invalid ") + what + ": expected a string or an array of content blocks");
  std::string out;
  for (const auto& b : v) {
    if (b.is_object() && get_string(b, "type") == "text") out += get_string(b, "text");
  }
  return out;
}

std::string image_data(const Json& block) {
  auto src = block.find("source");
  if (src == block.end() || !src->is_object()) throw bad("invalid image source");
  std::string type = get_string(*src, "type");
  if (type != "base64") {
    throw bad("invalid image source type: " + type + ". Only base64 images are supported.");
  }
  return get_string(*src, "data");
}

// One Anthropic message: its blocks become one native message plus a tool message per
// tool_result (placed before the user's text: results answer the previous assistant turn).
void append_message(const Json& m, std::vector<Message>& out) {
  if (!m.is_object()) throw bad("invalid message: expected an object");
  std::string role = get_string(m, "role");
  for (auto& c : role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Message msg;
  msg.role = role;
  std::vector<Message> results;
  auto content = m.find("content");
  if (content != m.end() && content->is_string()) {
    msg.content = content->get<std::string>();
  } else if (content != m.end() && content->is_array()) {
    for (const auto& block : *content) {
      if (!block.is_object()) throw bad("invalid content block: expected an object");
      std::string type = get_string(block, "type");
      if (type == "text") {
        msg.content += get_string(block, "text");
      } else if (type == "image") {
        msg.images.push_back(image_data(block));
      } else if (type == "tool_use") {
        ToolCall call;
        call.id = get_string(block, "id");
        call.name = get_string(block, "name");
        if (call.id.empty()) throw bad("tool_use block missing required 'id' field");
        if (call.name.empty()) throw bad("tool_use block missing required 'name' field");
        call.index = static_cast<int>(msg.tool_calls.size());
        if (auto in = block.find("input"); in != block.end() && !in->is_null()) {
          if (!in->is_object()) throw bad("invalid tool_use input: expected an object");
          call.arguments = *in;
        }
        msg.tool_calls.push_back(std::move(call));
      } else if (type == "tool_result") {
        Message r;
        r.role = "tool";
        r.tool_call_id = get_string(block, "tool_use_id");
        if (auto c = block.find("content"); c != block.end()) {
          r.content = text_of(*c, "tool_result content");
          if (c->is_array()) {
            for (const auto& part : *c) {
              if (part.is_object() && get_string(part, "type") == "image") r.images.push_back(image_data(part));
            }
          }
        }
        results.push_back(std::move(r));
      } else if (type == "thinking") {
        msg.thinking = get_string(block, "thinking");
      }
      // Other block types (redacted_thinking, documents, server tools) are skipped, as Ollama does.
    }
  } else if (content == m.end() || !content->is_null()) {
    throw bad("invalid message content: expected a string or an array of content blocks");
  }
  // Tool-call ids name the function a result came from, for templates that print it.
  for (auto& r : results) r.tool_name = tool_name_for(out, r.tool_call_id);
  bool has_own = !msg.content.empty() || !msg.images.empty() || !msg.tool_calls.empty() || !msg.thinking.empty();
  if (role == "user") out.insert(out.end(), results.begin(), results.end());
  if (has_own) out.push_back(std::move(msg));
  if (role != "user") out.insert(out.end(), results.begin(), results.end());
}

std::optional<float> number_field(const Json& b, const char* key) {
  auto it = b.find(key);
  if (it == b.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw bad(std::string("invalid value for '") + key + "': expected a number");
  return it->get<float>();
}

}  // namespace

ChatRequest parse_anthropic_messages(const Json& b) {
  ChatRequest r;
  r.model = get_string(b, "model");
  if (r.model.empty()) throw bad("model is required");
  auto max_tokens = b.find("max_tokens");
  if (max_tokens != b.end() && !max_tokens->is_null() && !max_tokens->is_number_integer()) {
    throw bad("invalid value for 'max_tokens': expected an integer");
  }
  if (max_tokens == b.end() || max_tokens->is_null() || max_tokens->get<int64_t>() <= 0) {
    throw bad("max_tokens is required and must be positive");
  }
  r.options.num_predict = static_cast<int>(std::min<int64_t>(max_tokens->get<int64_t>(), INT32_MAX));
  auto msgs = b.find("messages");
  if (msgs == b.end() || msgs->is_null() || (msgs->is_array() && msgs->empty())) throw bad("messages is required");
  if (!msgs->is_array()) throw bad("invalid value for 'messages': expected an array");

  if (auto sys = b.find("system"); sys != b.end()) {
    std::string text = text_of(*sys, "system");
    if (!text.empty()) r.messages.push_back(chat::text_message("system", text));
  }
  for (const auto& m : *msgs) append_message(m, r.messages);

  if (auto v = number_field(b, "temperature")) r.options.temperature = *v;
  if (auto v = number_field(b, "top_p")) r.options.top_p = *v;
  if (auto it = b.find("top_k"); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw bad("invalid value for 'top_k': expected an integer");
    r.options.top_k = it->get<int>();
  }
  if (auto it = b.find("stop_sequences"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw bad("invalid value for 'stop_sequences': expected an array of strings");
    std::vector<std::string> stops;
    for (const auto& s : *it) {
      if (!s.is_string()) throw bad("invalid value for 'stop_sequences': expected an array of strings");
      stops.push_back(s.get<std::string>());
    }
    if (!stops.empty()) r.options.stop = std::move(stops);
  }
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw bad("invalid value for 'tools': expected an array");
    r.tools = Json::array();
    for (const auto& t : *it) {
      if (!t.is_object()) throw bad("invalid tool: expected an object");
      Json fn = Json::object();
      fn["name"] = get_string(t, "name");
      fn["description"] = get_string(t, "description");
      auto schema = t.find("input_schema");
      if (schema != t.end() && !schema->is_null() && !schema->is_object()) {
        throw bad("invalid input_schema for tool \"" + fn["name"].get<std::string>() + "\": expected an object");
      }
      fn["parameters"] = schema != t.end() && schema->is_object() ? *schema : Json::object();
      r.tools.push_back(Json{{"type", "function"}, {"function", std::move(fn)}});
    }
  }
  // thinking {type: enabled|disabled} wins over output_config.effort.
  if (auto it = b.find("thinking"); it != b.end() && it->is_object()) {
    std::string type = get_string(*it, "type");
    if (type == "enabled") r.think = "true";
    else if (type == "disabled") r.think = "false";
  }
  if (auto it = b.find("output_config"); !r.think && it != b.end() && it->is_object()) {
    std::string effort = get_string(*it, "effort");
    for (auto& c : effort) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (effort == "xhigh") effort = "high";
    if (effort == "low" || effort == "medium" || effort == "high" || effort == "max") r.think = effort;
  }
  r.stream = get_bool(b, "stream", false);
  return r;
}

std::string anthropic_stop_reason(const std::string& done_reason, bool has_tool_calls) {
  if (has_tool_calls) return "tool_use";
  if (done_reason == "stop") return "end_turn";
  if (done_reason == "length") return "max_tokens";
  return done_reason.empty() ? "" : "stop_sequence";
}

namespace {

Json usage(int input_tokens, int output_tokens) {
  return Json{{"input_tokens", input_tokens}, {"output_tokens", output_tokens}};
}

Json tool_use_block(const ToolCall& c, bool with_input) {
  Json b = Json::object();
  b["type"] = "tool_use";
  b["id"] = c.id;
  b["name"] = c.name;
  b["input"] = with_input ? c.arguments : Json::object();
  return b;
}

}  // namespace

Json anthropic_message(const std::string& id, const std::string& model, const AnthropicAnswer& a) {
  Json content = Json::array();
  if (!a.thinking.empty()) content.push_back(Json{{"type", "thinking"}, {"thinking", a.thinking}});
  if (!a.content.empty()) content.push_back(Json{{"type", "text"}, {"text", a.content}});
  for (const auto& c : a.tool_calls) content.push_back(tool_use_block(c, true));
  Json j = Json::object();
  j["id"] = id;
  j["type"] = "message";
  j["role"] = "assistant";
  j["model"] = model;
  j["content"] = std::move(content);
  std::string reason = anthropic_stop_reason(a.done_reason, !a.tool_calls.empty());
  if (!reason.empty()) j["stop_reason"] = reason;
  j["usage"] = usage(a.input_tokens, a.output_tokens);
  return j;
}

std::vector<AnthropicStream::Event> AnthropicStream::start(int input_tokens) {
  Json msg = Json::object();
  msg["id"] = id_;
  msg["type"] = "message";
  msg["role"] = "assistant";
  msg["model"] = model_;
  msg["content"] = Json::array();
  msg["usage"] = usage(input_tokens, 0);
  return {{"message_start", Json{{"type", "message_start"}, {"message", std::move(msg)}}}};
}

void AnthropicStream::stop_block(std::vector<Event>& out) {
  if (open_ == Open::none) return;
  if (open_ == Open::thinking) thinking_done_ = true;
  out.push_back({"content_block_stop", Json{{"type", "content_block_stop"}, {"index", index_}}});
  ++index_;
  open_ = Open::none;
}

void AnthropicStream::start_block(std::vector<Event>& out, Json block) {
  Json e = Json::object();
  e["type"] = "content_block_start";
  e["index"] = index_;
  e["content_block"] = std::move(block);
  out.push_back({"content_block_start", std::move(e)});
}

Json AnthropicStream::delta(Json d) const {
  Json e = Json::object();
  e["type"] = "content_block_delta";
  e["index"] = index_;
  e["delta"] = std::move(d);
  return e;
}

std::vector<AnthropicStream::Event> AnthropicStream::add(const std::string& thinking, const std::string& content,
                                                         const std::vector<ToolCall>& calls) {
  std::vector<Event> out;
  if (!thinking.empty() && !thinking_done_) {
    if (open_ == Open::text) stop_block(out);
    if (open_ != Open::thinking) {
      start_block(out, Json{{"type", "thinking"}, {"thinking", ""}});
      open_ = Open::thinking;
    }
    out.push_back({"content_block_delta", delta(Json{{"type", "thinking_delta"}, {"thinking", thinking}})});
  }
  if (!content.empty()) {
    if (open_ == Open::thinking) stop_block(out);
    if (open_ != Open::text) {
      start_block(out, Json{{"type", "text"}, {"text", ""}});
      open_ = Open::text;
    }
    out.push_back({"content_block_delta", delta(Json{{"type", "text_delta"}, {"text", content}})});
  }
  for (const auto& c : calls) {
    stop_block(out);
    start_block(out, tool_use_block(c, false));
    out.push_back({"content_block_delta", delta(Json{{"type", "input_json_delta"}, {"partial_json", c.arguments.dump()}})});
    out.push_back({"content_block_stop", Json{{"type", "content_block_stop"}, {"index", index_}}});
    ++index_;
    any_tool_calls_ = true;
  }
  return out;
}

std::vector<AnthropicStream::Event> AnthropicStream::finish(const std::string& done_reason, int input_tokens,
                                                            int output_tokens) {
  std::vector<Event> out;
  stop_block(out);
  Json d = Json::object();
  std::string reason = anthropic_stop_reason(done_reason, any_tool_calls_);
  if (!reason.empty()) d["stop_reason"] = reason;
  out.push_back({"message_delta", Json{{"type", "message_delta"}, {"delta", std::move(d)}, {"usage", usage(input_tokens, output_tokens)}}});
  out.push_back({"message_stop", Json{{"type", "message_stop"}}});
  return out;
}

Json anthropic_error(int status, const std::string& message) {
  const char* type = "api_error";
  switch (status) {
    case 400: type = "invalid_request_error"; break;
    case 401: type = "authentication_error"; break;
    case 403: type = "permission_error"; break;
    case 404: type = "not_found_error"; break;
    case 429: type = "rate_limit_error"; break;
    case 503:
    case 529: type = "overloaded_error"; break;
    default: break;
  }
  Json err = Json::object();
  err["type"] = type;
  err["message"] = message;
  Json out = Json::object();
  out["type"] = "error";
  out["error"] = std::move(err);
  out["request_id"] = anthropic_id("req");
  return out;
}

std::string anthropic_id(const char* prefix) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  static const char kHex[] = "0123456789abcdef";
  std::lock_guard<std::mutex> lk(mu);
  std::string id = std::string(prefix) + "_";
  for (int i = 0; i < 24; ++i) id += kHex[rng() % 16];
  return id;
}

}  // namespace hearth::api
