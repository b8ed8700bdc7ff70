#include "chat/tool_calls.h"

#include "chat/partial_tag.h"

#include <algorithm>

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kDsCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kDsCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kDsCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kDsCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kDsSep = "<｜tool▁sep｜>";
constexpr std::string_view kPythonTag = "<|python_tag|>";

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

// Parses JSON without throwing; discarded (null) on error.
Json parse_json(std::string_view s) {
  Json j = Json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json() : j;
}

// Arguments may arrive as an object or as a string holding one.
bool arguments_object(const Json& v, Json& out) {
  if (v.is_object()) {
    out = v;
    return true;
  }
  if (v.is_string()) {
    Json inner = parse_json(v.get<std::string>());
    if (inner.is_object()) {
      out = inner;
      return true;
    }
  }
  return false;
}

// End (one past) of the JSON object or array starting at s[0], or npos while incomplete.
size_t json_value_end(std::string_view s) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

ToolCallFormat detect_tool_call_format(std::string_view t) {
  if (t.find("<｜tool▁calls▁begin｜>") != std::string_view::npos ||
      t.find("<｜tool▁call▁begin｜>") != std::string_view::npos)
    return ToolCallFormat::deepseek;
  if (t.find("<tool_call>") != std::string_view::npos) return ToolCallFormat::hermes;
  if (template_supports_tools(t)) return ToolCallFormat::json;
  return ToolCallFormat::none;
}

bool template_supports_tools(std::string_view t) {
  // A Go template renders tools through .Tools; a Jinja one reads `tools` or writes tool calls.
  if (t.find(".Tools") != std::string_view::npos) return true;
  if (t.find("{{") != std::string_view::npos && t.find("{%") == std::string_view::npos &&
      t.find(".Messages") != std::string_view::npos)
    return false;  // a Go template without .Tools
  return t.find("tools") != std::string_view::npos || t.find("tool_call") != std::string_view::npos;
}

ToolCallParser::ToolCallParser(ToolCallFormat format, std::vector<std::string> tool_names)
    : format_(format), names_(std::move(tool_names)) {}

ToolCallParser::Output ToolCallParser::add(std::string_view piece) {
  buf_.append(piece);
  Output out;
  run(out, false);
  return out;
}

ToolCallParser::Output ToolCallParser::finish() {
  Output out;
  run(out, true);
  return out;
}

bool ToolCallParser::add_call(const std::string& name, const Json& args, Output& out) {
  if (name.empty()) return false;
  ToolCall call;
  call.name = name;
  call.arguments = args;
  call.index = next_index_++;
  out.calls.push_back(std::move(call));
  return true;
}

bool ToolCallParser::parse_hermes_block(std::string_view body, Output& out) {
  Json j = parse_json(trim(body));
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return false;
  Json args = Json::object();
  const char* key = j.contains("arguments") ? "arguments" : j.contains("parameters") ? "parameters" : nullptr;
  if (key && !arguments_object(j[key], args)) return false;
  return add_call(j["name"].get<std::string>(), args, out);
}

bool ToolCallParser::parse_deepseek_block(std::string_view body, Output& out) {
  Output staged;
  int saved_index = next_index_;
  size_t pos = 0;
  bool any = false;
  while (true) {
    size_t b = body.find(kDsCallBegin, pos);
    if (b == std::string_view::npos) break;
    b += kDsCallBegin.size();
    size_t e = body.find(kDsCallEnd, b);
    std::string_view call = body.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    pos = e == std::string_view::npos ? body.size() : e + kDsCallEnd.size();
    size_t sep = call.find(kDsSep);
    if (sep == std::string_view::npos) { next_index_ = saved_index; return false; }
    std::string_view rest = call.substr(sep + kDsSep.size());
    const std::string_view kind = trim(call.substr(0, sep));
    std::string name;
    std::string_view args_text;
    if (kind == "function" || kind.empty()) {
      // V3 / R1: type<sep>name, then the arguments in a json fence.
      size_t nl = rest.find('\n');
      name = std::string(trim(rest.substr(0, nl)));
      args_text = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    } else {
      name = std::string(kind);  // V3.1: name<sep>arguments
      args_text = rest;
    }
    size_t fence = args_text.find("```");
    if (fence != std::string_view::npos) {
      args_text = args_text.substr(fence + 3);
      if (args_text.substr(0, 4) == "json") args_text.remove_prefix(4);
      size_t close = args_text.rfind("```");
      if (close != std::string_view::npos) args_text = args_text.substr(0, close);
    }
    Json args;
    if (!arguments_object(parse_json(trim(args_text)), args) || !add_call(name, args, staged)) {
      next_index_ = saved_index;
      return false;
    }
    any = true;
  }
  if (!any) return false;
  for (auto& c : staged.calls) out.calls.push_back(std::move(c));
  return true;
}

bool ToolCallParser::parse_json_calls(std::string_view body, Output& out) {
  Json j = parse_json(body);
  std::vector<Json> items;
  if (j.is_array()) items.assign(j.begin(), j.end());
  else if (j.is_object()) items.push_back(j);
  else return false;
  Output staged;
  int saved_index = next_index_;
  for (const Json& item : items) {
    const Json* call = &item;
    if (item.contains("function") && item["function"].is_object()) call = &item["function"];
    if (!call->is_object() || !call->contains("name") || !(*call)["name"].is_string()) {
      next_index_ = saved_index;
      return false;
    }
    std::string name = (*call)["name"].get<std::string>();
    if (!names_.empty() && std::find(names_.begin(), names_.end(), name) == names_.end()) {
      next_index_ = saved_index;
      return false;
    }
    Json args = Json::object();
    const char* key = call->contains("parameters") ? "parameters" : call->contains("arguments") ? "arguments" : nullptr;
    if (key && !arguments_object((*call)[key], args)) {
      next_index_ = saved_index;
      return false;
    }
    add_call(name, args, staged);
  }
  for (auto& c : staged.calls) out.calls.push_back(std::move(c));
  return true;
}

void ToolCallParser::run(Output& out, bool final) {
  if (format_ == ToolCallFormat::none || abandoned_) {
    out.content += buf_;
    buf_.clear();
    return;
  }
  if (format_ == ToolCallFormat::json) {
    while (true) {
      size_t start = 0;
      while (start < buf_.size() && is_ws(buf_[start])) ++start;
      std::string_view rest = std::string_view(buf_).substr(start);
      if (rest.substr(0, kPythonTag.size()) == kPythonTag) {
        buf_.erase(0, start + kPythonTag.size());
        continue;
      }
      if (rest.empty() || (!final && kPythonTag.substr(0, rest.size()) == rest)) {
        if (final) {
          if (!seen_text_) buf_.clear();  // whitespace alone after calls carries nothing
          out.content += buf_;
          buf_.clear();
        }
        return;
      }
      if (rest[0] != '{' && rest[0] != '[') {
        abandoned_ = true;  // prose came first: this reply is content
        out.content += buf_;
        buf_.clear();
        return;
      }
      size_t end = json_value_end(rest);
      if (end == std::string_view::npos && !final) return;
      std::string_view body = end == std::string_view::npos ? rest : rest.substr(0, end);
      if (!parse_json_calls(body, out)) {
        abandoned_ = true;
        out.content += buf_;
        buf_.clear();
        return;
      }
      buf_.erase(0, start + body.size());
      while (!buf_.empty() && (is_ws(buf_[0]) || buf_[0] == ';')) buf_.erase(0, 1);
      if (buf_.empty()) return;
    }
  }
  std::string_view open = format_ == ToolCallFormat::hermes ? kHermesOpen : kDsCallsBegin;
  std::string_view close = format_ == ToolCallFormat::hermes ? kHermesClose : kDsCallsEnd;
  while (true) {
    if (!in_call_) {
      size_t pos = buf_.find(open);
      if (pos != std::string::npos) {
        out.content.append(buf_, 0, pos);
        buf_.erase(0, pos + open.size());
        in_call_ = true;
        continue;
      }
      size_t keep = final ? 0 : partial_tag_suffix(buf_, open);
      out.content.append(buf_, 0, buf_.size() - keep);
      buf_.erase(0, buf_.size() - keep);
      return;
    }
    size_t pos = buf_.find(close);
    if (pos == std::string::npos && !final) return;
    std::string_view body = std::string_view(buf_).substr(0, pos);
    bool ok = format_ == ToolCallFormat::hermes ? parse_hermes_block(body, out) : parse_deepseek_block(body, out);
    if (!ok) {
      out.content += std::string(open) + std::string(body);
      if (pos != std::string::npos) out.content += close;
    }
    buf_.erase(0, pos == std::string::npos ? buf_.size() : pos + close.size());
    in_call_ = false;
    if (final && buf_.empty()) return;
  }
}

}  // namespace hearth::chat
