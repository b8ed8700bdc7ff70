#include "api/responses.h"

#include <ctime>
#include <mutex>
#include <random>

#include "api/openai.h"
#include "util/error.h"

namespace hearth::api {

namespace {

Error bad(const std::string& message) { return Error(ErrorCode::invalid_argument, message); }

// Text and images of a content array (input_text, output_text, input_image); files are refused.
void read_content(const Json& content, Message& msg, const std::string& where) {
  if (content.is_null()) return;
  if (content.is_string()) {
    msg.content += content.get<std::string>();
    return;
  }
  if (!content.is_array()) throw bad(where + ": content must be a string or array");
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    const std::string at = where + ": content[" + std::to_string(i) + "]";
    if (!part.is_object()) throw bad(at + ": expected an object");
    std::string type = get_string(part, "type");
    if (type == "input_text" || type == "output_text") {
      msg.content += get_string(part, "text");
    } else if (type == "input_image") {
      std::string url = get_string(part, "image_url");
      if (!url.empty()) msg.images.push_back(image_from_data_url(url));
    } else if (type == "input_file") {
      throw bad("file inputs are not currently supported");
    } else {
      throw bad(at + ": unknown content type: \"" + type + "\"");
    }
  }
}

// Function tools, with a namespace's members flattened to "namespace.member".
void add_tools(const Json& t, const std::string& prefix, Json& out) {
  if (!t.is_object()) throw bad("invalid tool: expected an object");
  std::string name = get_string(t, "name");
  if (get_string(t, "type") == "namespace") {
    if (auto members = t.find("tools"); members != t.end() && members->is_array()) {
      for (const auto& m : *members) add_tools(m, prefix + (name.empty() ? "" : name + "."), out);
    }
    return;
  }
  Json fn = Json::object();
  fn["name"] = name.rfind(prefix, 0) == 0 ? name : prefix + name;
  fn["description"] = get_string(t, "description");
  auto params = t.find("parameters");
  if (params != t.end() && !params->is_null() && !params->is_object()) {
    throw bad("invalid parameters for tool \"" + name + "\": expected an object");
  }
  fn["parameters"] = params != t.end() && params->is_object() ? *params : Json::object();
  out.push_back(Json{{"type", "function"}, {"function", std::move(fn)}});
}

std::optional<double> optional_number(const Json& b, const char* key) {
  auto it = b.find(key);
  if (it == b.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw bad(std::string("invalid value for '") + key + "': expected a number");
  return it->get<double>();
}

// The input items in order; Ollama's merging rules: reasoning items give the next assistant turn
// its thinking, function_call items join the preceding assistant message.
void read_items(const Json& items, std::vector<Message>& messages) {
  std::string pending_thinking;
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& item = items[i];
    const std::string at = "input[" + std::to_string(i) + "]";
    if (!item.is_object()) throw bad(at + ": expected an object");
    std::string type = get_string(item, "type");
    if (type.empty() && !get_string(item, "role").empty()) type = "message";
    if (type == "reasoning") {
      pending_thinking = get_string(item, "encrypted_content");
    } else if (type == "message") {
      Message msg;
      msg.role = get_string(item, "role");
      if (auto c = item.find("content"); c != item.end()) read_content(*c, msg, at);
      if (msg.role == "assistant" && !pending_thinking.empty()) msg.thinking = std::exchange(pending_thinking, "");
      // An assistant text that accompanies the tool call answered next joins that call's message.
      std::string next_call;
      if (i + 1 < items.size() && items[i + 1].is_object() && get_string(items[i + 1], "type") == "function_call_output") {
        next_call = get_string(items[i + 1], "call_id");
      }
      if (msg.role == "assistant" && !next_call.empty() && !messages.empty() && messages.back().role == "assistant") {
        Message& last = messages.back();
        bool merged = false;
        for (const auto& c : last.tool_calls) {
          if (c.id != next_call) continue;
          if (!last.content.empty() && !msg.content.empty()) last.content += "\n";
          last.content += msg.content;
          last.images.insert(last.images.end(), msg.images.begin(), msg.images.end());
          if (!msg.thinking.empty()) last.thinking = msg.thinking;
          merged = true;
          break;
        }
        if (merged) continue;
      }
      messages.push_back(std::move(msg));
    } else if (type == "function_call") {
      ToolCall call;
      call.id = get_string(item, "call_id");
      call.name = get_string(item, "name");
      std::string args = get_string(item, "arguments");
      if (!args.empty()) {
        Json parsed = Json::parse(args, nullptr, false);
        if (!parsed.is_object()) throw bad("failed to parse function call arguments: " + args);
        call.arguments = std::move(parsed);
      }
      if (messages.empty() || messages.back().role != "assistant") {
        Message msg;
        msg.role = "assistant";
        messages.push_back(std::move(msg));
      }
      Message& last = messages.back();
      call.index = static_cast<int>(last.tool_calls.size());
      last.tool_calls.push_back(std::move(call));
      if (!pending_thinking.empty()) last.thinking = std::exchange(pending_thinking, "");
    } else if (type == "function_call_output") {
      Message msg;
      msg.role = "tool";
      msg.tool_call_id = get_string(item, "call_id");
      if (auto o = item.find("output"); o != item.end()) read_content(*o, msg, at);
      msg.tool_name = tool_name_for(messages, msg.tool_call_id);
      messages.push_back(std::move(msg));
    } else if (type == "web_search_call") {
      // Ollama's cloud web search; nothing to replay locally.
    } else if (type.empty()) {
      throw bad(at + ": input item missing required 'type' field");
    } else {
      throw bad(at + ": unknown input item type: \"" + type + "\"");
    }
  }
  if (!pending_thinking.empty()) {
    Message msg;
    msg.role = "assistant";
    msg.thinking = pending_thinking;
    messages.push_back(std::move(msg));
  }
}

Json null_or(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

template <class T>
Json null_or(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// The response object in Ollama's field order.
Json response_object(const ResponsesRequest& r, const std::string& id, const char* status, Json output, Json usage) {
  Json tools = Json::array();
  for (const auto& t : r.tools) {
    Json x = Json::object();
    x["type"] = t.value("type", Json(nullptr));
    x["name"] = t.value("name", Json(nullptr));
    x["description"] = t.value("description", Json(nullptr));
    x["strict"] = t.value("strict", Json(nullptr));
    x["parameters"] = t.value("parameters", Json(nullptr));
    tools.push_back(std::move(x));
  }
  Json reasoning = nullptr;
  if (!r.reasoning_effort.empty() || !r.reasoning_summary.empty()) {
    reasoning = Json{{"effort", null_or(r.reasoning_effort)}, {"summary", null_or(r.reasoning_summary)}};
  }
  Json j = Json::object();
  j["id"] = id;
  j["object"] = "response";
  j["created_at"] = static_cast<int64_t>(std::time(nullptr));
  j["completed_at"] = nullptr;
  j["status"] = status;
  j["incomplete_details"] = nullptr;
  j["model"] = r.chat.model;
  j["previous_response_id"] = nullptr;
  j["instructions"] = null_or(r.instructions);
  j["output"] = std::move(output);
  j["error"] = nullptr;
  j["tools"] = std::move(tools);
  j["tool_choice"] = "auto";
  j["truncation"] = r.truncation;
  j["parallel_tool_calls"] = true;
  j["text"] = Json{{"format", r.text_format}};
  j["top_p"] = r.top_p.value_or(1.0);
  j["presence_penalty"] = 0;
  j["frequency_penalty"] = 0;
  j["top_logprobs"] = 0;
  j["temperature"] = r.temperature.value_or(1.0);
  j["reasoning"] = std::move(reasoning);
  j["usage"] = std::move(usage);
  j["max_output_tokens"] = null_or(r.max_output_tokens);
  j["max_tool_calls"] = nullptr;
  j["store"] = false;
  j["background"] = r.background;
  j["service_tier"] = "default";
  j["metadata"] = Json::object();
  j["safety_identifier"] = nullptr;
  j["prompt_cache_key"] = nullptr;
  return j;
}

Json usage_json(int input_tokens, int output_tokens) {
  Json u = Json::object();
  u["input_tokens"] = input_tokens;
  u["output_tokens"] = output_tokens;
  u["total_tokens"] = input_tokens + output_tokens;
  u["input_tokens_details"] = Json{{"cached_tokens", 0}};
  u["output_tokens_details"] = Json{{"reasoning_tokens", 0}};
  return u;
}

Json output_text(const std::string& text) {
  return Json{{"type", "output_text"}, {"text", text}, {"annotations", Json::array()}, {"logprobs", Json::array()}};
}

Json message_item(const std::string& id, const char* status, const std::string* text) {
  Json m = Json::object();
  m["id"] = id;
  m["type"] = "message";
  m["status"] = status;
  m["role"] = "assistant";
  m["content"] = text != nullptr ? Json::array({output_text(*text)}) : Json::array();
  return m;
}

Json reasoning_item(const std::string& id, const std::string& thinking) {
  Json m = Json::object();
  m["id"] = id;
  m["type"] = "reasoning";
  m["summary"] = Json::array({Json{{"type", "summary_text"}, {"text", thinking}}});
  m["encrypted_content"] = thinking;
  return m;
}

Json function_call_item(const std::string& id, const char* status, const ToolCall& c, bool with_arguments) {
  Json m = Json::object();
  m["id"] = id;
  m["type"] = "function_call";
  m["status"] = status;
  m["call_id"] = c.id;
  m["name"] = c.name;
  m["arguments"] = with_arguments ? c.arguments.dump() : "";
  return m;
}

}  // namespace

ResponsesRequest parse_responses_request(const Json& b) {
  ResponsesRequest r;
  ChatRequest& chat = r.chat;
  chat.model = get_string(b, "model");
  r.instructions = get_string(b, "instructions");
  if (!r.instructions.empty()) chat.messages.push_back(chat::text_message("system", r.instructions));
  if (auto in = b.find("input"); in != b.end() && !in->is_null()) {
    if (in->is_string()) {
      if (!in->get_ref<const std::string&>().empty()) {
        chat.messages.push_back(chat::text_message("user", in->get<std::string>()));
      }
    } else if (in->is_array()) {
      read_items(*in, chat.messages);
    } else {
      throw bad("input must be a string or array");
    }
  }
  r.temperature = optional_number(b, "temperature");
  r.top_p = optional_number(b, "top_p");
  chat.options.temperature = static_cast<float>(r.temperature.value_or(1.0));
  if (r.top_p) chat.options.top_p = static_cast<float>(*r.top_p);
  if (auto it = b.find("max_output_tokens"); it != b.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw bad("invalid value for 'max_output_tokens': expected an integer");
    r.max_output_tokens = static_cast<int>(std::clamp<int64_t>(it->get<int64_t>(), INT32_MIN, INT32_MAX));
    chat.options.num_predict = *r.max_output_tokens;
  }
  if (auto it = b.find("reasoning"); it != b.end() && it->is_object()) {
    r.reasoning_effort = get_string(*it, "effort");
    r.reasoning_summary = get_string(*it, "summary");
    chat.think = think_from_reasoning_effort(r.reasoning_effort);
  }
  if (auto it = b.find("tools"); it != b.end() && !it->is_null()) {
    if (!it->is_array()) throw bad("invalid value for 'tools': expected an array");
    r.tools = *it;
    Json tools = Json::array();
    for (const auto& t : *it) add_tools(t, "", tools);
    if (!tools.empty()) chat.tools = std::move(tools);
  }
  if (auto it = b.find("text"); it != b.end() && it->is_object()) {
    if (auto f = it->find("format"); f != it->end() && f->is_object()) {
      r.text_format = *f;
      if (get_string(*f, "type") == "json_schema") {
        if (auto schema = f->find("schema"); schema != f->end() && schema->is_object()) {
          validate_format(*schema);
          chat.format = *schema;
        }
      }
    }
  }
  if (auto it = b.find("truncation"); it != b.end() && it->is_string()) r.truncation = it->get<std::string>();
  r.background = get_bool(b, "background", false);
  chat.stream = get_bool(b, "stream", false);
  return r;
}

Json responses_response(const ResponsesRequest& r, const std::string& response_id, const std::string& item_id,
                        const ResponsesAnswer& a) {
  Json output = Json::array();
  if (!a.thinking.empty()) output.push_back(reasoning_item("rs_" + response_id, a.thinking));
  if (!a.tool_calls.empty()) {
    for (size_t i = 0; i < a.tool_calls.size(); ++i) {
      output.push_back(function_call_item("fc_" + response_id + "_" + std::to_string(i), "completed", a.tool_calls[i], true));
    }
  } else {
    output.push_back(message_item(item_id, "completed", &a.content));
  }
  Json j = response_object(r, response_id, "completed", std::move(output), usage_json(a.input_tokens, a.output_tokens));
  j["completed_at"] = static_cast<int64_t>(std::time(nullptr));
  return j;
}

ResponsesStream::Event ResponsesStream::event(const char* type, Json data) {
  Json e = Json::object();
  e["type"] = type;
  e["sequence_number"] = sequence_++;
  for (auto& [k, v] : data.items()) e[k] = std::move(v);
  return {type, std::move(e)};
}

std::vector<ResponsesStream::Event> ResponsesStream::start() {
  std::vector<Event> out;
  out.push_back(event("response.created", Json{{"response", response_object(request_, response_id_, "in_progress", Json::array(), nullptr)}}));
  out.push_back(event("response.in_progress", Json{{"response", response_object(request_, response_id_, "in_progress", Json::array(), nullptr)}}));
  return out;
}

void ResponsesStream::finish_reasoning(std::vector<Event>& out) {
  if (!reasoning_open_) return;
  Json item = reasoning_item(reasoning_id_, thinking_);
  out.push_back(event("response.reasoning_summary_text.done",
                      Json{{"item_id", reasoning_id_}, {"output_index", output_index_}, {"summary_index", 0}, {"text", thinking_}}));
  out.push_back(event("response.output_item.done", Json{{"output_index", output_index_}, {"item", item}}));
  completed_.push_back(std::move(item));
  reasoning_open_ = false;
  thinking_.clear();
  ++output_index_;
}

std::vector<ResponsesStream::Event> ResponsesStream::add(const std::string& thinking, const std::string& content,
                                                         const std::vector<ToolCall>& calls) {
  std::vector<Event> out;
  if (!thinking.empty()) {
    if (!reasoning_open_) {
      reasoning_open_ = true;
      reasoning_id_ = responses_id("rs_");
      out.push_back(event("response.output_item.added",
                          Json{{"output_index", output_index_},
                               {"item", Json{{"id", reasoning_id_}, {"type", "reasoning"}, {"summary", Json::array()}}}}));
    }
    thinking_ += thinking;
    out.push_back(event("response.reasoning_summary_text.delta",
                        Json{{"item_id", reasoning_id_}, {"output_index", output_index_}, {"summary_index", 0}, {"delta", thinking}}));
  }
  if (!calls.empty()) {
    finish_reasoning(out);
    for (size_t i = 0; i < calls.size(); ++i) {
      const std::string id = responses_id("fc_") + "_" + std::to_string(i);
      Json done = function_call_item(id, "completed", calls[i], true);
      const std::string args = done["arguments"];
      out.push_back(event("response.output_item.added",
                          Json{{"output_index", output_index_}, {"item", function_call_item(id, "in_progress", calls[i], false)}}));
      out.push_back(event("response.function_call_arguments.delta",
                          Json{{"item_id", id}, {"output_index", output_index_}, {"delta", args}}));
      out.push_back(event("response.function_call_arguments.done",
                          Json{{"item_id", id}, {"output_index", output_index_}, {"arguments", args}}));
      out.push_back(event("response.output_item.done", Json{{"output_index", output_index_}, {"item", done}}));
      completed_.push_back(std::move(done));
      ++output_index_;
    }
    tool_calls_sent_ = true;
  } else if (!tool_calls_sent_ && !content.empty()) {
    finish_reasoning(out);
    if (!text_open_) {
      text_open_ = true;
      out.push_back(event("response.output_item.added",
                          Json{{"output_index", output_index_}, {"item", message_item(item_id_, "in_progress", nullptr)}}));
      out.push_back(event("response.content_part.added", Json{{"item_id", item_id_}, {"output_index", output_index_},
                                                              {"content_index", 0}, {"part", output_text("")}}));
    }
    text_ += content;
    out.push_back(event("response.output_text.delta", Json{{"item_id", item_id_}, {"output_index", output_index_},
                                                           {"content_index", 0}, {"delta", content}, {"logprobs", Json::array()}}));
  }
  return out;
}

std::vector<ResponsesStream::Event> ResponsesStream::finish(int input_tokens, int output_tokens) {
  std::vector<Event> out;
  finish_reasoning(out);
  Json output = completed_;
  if (text_open_) {
    Json item = message_item(item_id_, "completed", &text_);
    if (!tool_calls_sent_) {
      out.push_back(event("response.output_text.done", Json{{"item_id", item_id_}, {"output_index", output_index_},
                                                            {"content_index", 0}, {"text", text_}, {"logprobs", Json::array()}}));
      out.push_back(event("response.content_part.done", Json{{"item_id", item_id_}, {"output_index", output_index_},
                                                             {"content_index", 0}, {"part", output_text(text_)}}));
      out.push_back(event("response.output_item.done", Json{{"output_index", output_index_}, {"item", item}}));
    }
    output.push_back(std::move(item));
  }
  Json response = response_object(request_, response_id_, "completed", std::move(output), usage_json(input_tokens, output_tokens));
  response["completed_at"] = static_cast<int64_t>(std::time(nullptr));
  out.push_back(event("response.completed", Json{{"response", std::move(response)}}));
  return out;
}

ResponsesStream::Event ResponsesStream::error(const std::string& message) {
  return event("error", Json{{"code", nullptr}, {"message", message}, {"param", nullptr}});
}

std::string responses_id(const char* prefix) {
  static std::mutex mu;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lk(mu);
  return std::string(prefix) + std::to_string(rng() % 999999);
}

}  // namespace hearth::api
