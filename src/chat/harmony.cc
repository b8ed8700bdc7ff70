// Harmony's model selection, tool names and streaming output parser (see harmony.h). The parser
// follows Ollama's harmony/harmonyparser.go: the same states, header grammar and channel
// routing, so that a gpt-oss answer splits into the same thinking, content and tool calls.

#include <algorithm>
#include <cctype>

#include "chat/harmony.h"
#include "chat/partial_tag.h"
#include "util/error.h"
#include "util/log.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kStart = "<|start|>";
constexpr std::string_view kMessage = "<|message|>";
constexpr std::string_view kEnd = "<|end|>";
constexpr std::string_view kChannel = "<|channel|>";
constexpr std::string_view kConstrain = "<|constrain|>";
// End-of-generation tokens: a response is over after either.
constexpr std::string_view kReturn = "<|return|>";
constexpr std::string_view kCall = "<|call|>";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::vector<std::string> fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

struct Header {
  std::string role, channel, recipient;
};

// Ollama's parseHeader: `<|constrain|>` gets a space before it; the channel is the text after
// <|channel|> up to whitespace; the first remaining word is the role (a `to=` word there means a
// tool call: role "tool"), and a `to=` word after it is the recipient.
Header parse_header(std::string raw) {
  Header h;
  if (size_t c = raw.find(kConstrain); c != std::string::npos) {
    raw.insert(c, " ");
    raw = trim(raw);
  }
  if (size_t c = raw.find(kChannel); c != std::string::npos) {
    std::string before = raw.substr(0, c), after = raw.substr(c + kChannel.size());
    size_t end = 0;
    while (end < after.size() && !is_space(after[end])) ++end;
    h.channel = after.substr(0, end);
    raw = trim(before + after.substr(end));
  }
  std::vector<std::string> words = fields(raw);
  if (words.empty()) return h;
  if (words[0].rfind("to=", 0) == 0) {
    h.recipient = words[0].substr(3);
    h.role = "tool";
  } else {
    h.role = words[0];
  }
  if (h.recipient.empty() && words.size() > 1 && words[1].rfind("to=", 0) == 0) h.recipient = words[1].substr(3);
  return h;
}

std::string to_identifier(const std::string& name) {
  // Byte-wise over UTF-8: ASCII letters, digits, '_' and '$' stay, space '-' '.' become '_', other
  // ASCII goes; non-ASCII letters stay whole (Go's unicode.IsLetter/IsDigit, approximated as
  // "every non-ASCII character is a letter").
  std::string out;
  for (unsigned char c : name) {
    if (c == ' ' || c == '-' || c == '.') out += '_';
    else if (std::isalnum(c) || c == '_' || c == '$' || c >= 0x80) out += static_cast<char>(c);
  }
  if (out.empty()) return "unnamed";
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(out.begin(), '_');
  return out;
}

}  // namespace

bool is_harmony_family(std::string_view family) { return family == "gptoss" || family == "gpt-oss"; }

bool uses_harmony(std::string_view family, std::string_view source) {
  return is_harmony_family(family) && source.find(kStart) != std::string_view::npos &&
         source.find(kEnd) != std::string_view::npos;
}

ThinkSetting harmony_think(ThinkSetting think) {
  if (think.level == "max") think.level = "high";
  return think;
}

HarmonyFunctionNames::HarmonyFunctionNames(const std::vector<ToolDefinition>& tools) {
  for (const auto& t : tools) {
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) continue;
    auto name = fn->find("name");
    if (name != fn->end() && name->is_string() && !name->get<std::string>().empty()) add(name->get<std::string>());
  }
}

std::string HarmonyFunctionNames::add(const std::string& user_name) {
  std::string harmony = user_name;
  if (user_name != "browser.open" && user_name != "browser.search" && user_name != "browser.find" &&
      user_name != "python") {
    const std::string base = to_identifier(user_name);
    harmony = base;
    for (int n = 2; to_user_.count(harmony); ++n) harmony = base + "_" + std::to_string(n);
  }
  to_harmony_[user_name] = harmony;
  to_user_[harmony] = user_name;
  return harmony;
}

std::string HarmonyFunctionNames::original(const std::string& harmony_name) const {
  auto it = to_user_.find(harmony_name);
  return it == to_user_.end() ? harmony_name : it->second;
}

std::vector<ToolDefinition> HarmonyFunctionNames::rename(const std::vector<ToolDefinition>& tools) const {
  std::vector<ToolDefinition> out = tools;
  for (auto& t : out) {
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) continue;
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string()) continue;
    auto it = to_harmony_.find(name->get<std::string>());
    if (it != to_harmony_.end()) *name = it->second;
  }
  return out;
}

std::vector<ToolDefinition> harmony_tools(const std::vector<ToolDefinition>& tools) {
  std::vector<ToolDefinition> out = HarmonyFunctionNames(tools).rename(tools);
  for (auto& t : out) {
    auto fn = t.find("function");
    if (fn == t.end() || !fn->is_object()) continue;
    auto params = fn->find("parameters");
    if (params == fn->end() || !params->is_object()) continue;
    auto props = params->find("properties");
    if (props == params->end() || !props->is_object()) continue;
    for (auto& prop : *props) {
      if (!prop.is_object()) continue;
      auto type = prop.find("type");
      if (type != prop.end() && type->is_string()) *type = Json::array({*type});
    }
  }
  return out;
}

HarmonyParser::HarmonyParser(Prefill prefill, HarmonyFunctionNames names) : names_(std::move(names)) {
  // The prompt ends inside the assistant's header (or inside a message it continues): the output
  // is parsed as if that text had come first, as Ollama's AddImplicitStartOrPrefill does.
  buf_ = "<|start|>assistant";
  if (prefill == Prefill::content) buf_ += "<|channel|>final<|message|>";
  if (prefill == Prefill::thinking) buf_ += "<|channel|>analysis<|message|>";
}

void HarmonyParser::open_message(std::string_view raw) {
  Header h = parse_header(std::string(raw));
  // Ollama leaves the route as it was for a channel it does not know (after a message's end that
  // is content); a missing channel is such a channel.
  if (h.channel == "analysis") {
    route_ = h.recipient.empty() ? Route::thinking : Route::tool;
  } else if (h.channel == "commentary") {
    route_ = h.recipient.empty() ? Route::content : Route::tool;
  } else if (h.channel == "final") {
    route_ = Route::content;
  }
  if (route_ == Route::tool) recipient_ = h.recipient;
}

void HarmonyParser::run(Output& out) {
  auto emit = [&](std::string_view text) {
    if (text.empty()) return;
    if (route_ == Route::thinking) out.thinking += text;
    else if (route_ == Route::tool) tool_args_ += text;
    else out.content += text;
  };
  for (;;) {
    switch (state_) {
      case State::done:
        buf_.clear();
        return;
      case State::before_message: {
        size_t start = buf_.find(kStart);
        if (start == std::string::npos) {
          // Text between messages is not shown: keep only what may begin a start marker, so that
          // a long stray text costs no rescans.
          if (size_t keep = partial_tag_suffix(buf_, kStart); keep < buf_.size()) {
            HEARTH_LOG_DEBUG("harmony: text outside a message dropped");
            buf_.erase(0, buf_.size() - keep);
          }
          return;
        }
        if (start > 0) HEARTH_LOG_DEBUG("harmony: text before a message start dropped");
        buf_.erase(0, start + kStart.size());
        state_ = State::header;
        continue;
      }
      case State::header: {
        // Headers are a few words; only the newly arrived text (and a marker's start) is searched.
        size_t end = buf_.find(kMessage, header_scanned_);
        if (end == std::string::npos) {
          header_scanned_ = buf_.size() - partial_tag_suffix(buf_, kMessage);
          return;
        }
        header_scanned_ = 0;
        open_message(std::string_view(buf_).substr(0, end));
        buf_.erase(0, end + kMessage.size());
        state_ = State::body;
        continue;
      }
      case State::body: {
        // The first end marker of any kind ends the body; <|return|> and <|call|> end the response.
        size_t best = std::string::npos;
        std::string_view marker;
        for (std::string_view m : {kEnd, kReturn, kCall}) {
          size_t at = buf_.find(m);
          if (at < best) {
            best = at;
            marker = m;
          }
        }
        if (best != std::string::npos) {
          emit(std::string_view(buf_).substr(0, best));
          buf_.erase(0, best + marker.size());
          route_ = Route::content;
          state_ = marker == kEnd ? State::before_message : State::done;
          continue;
        }
        size_t hold = std::max({partial_tag_suffix(buf_, kEnd), partial_tag_suffix(buf_, kReturn), partial_tag_suffix(buf_, kCall)});
        emit(std::string_view(buf_).substr(0, buf_.size() - hold));
        buf_.erase(0, buf_.size() - hold);
        return;
      }
    }
  }
}

HarmonyParser::Output HarmonyParser::add(std::string_view piece) {
  Output out;
  buf_.append(piece);
  run(out);
  return out;
}

HarmonyParser::Output HarmonyParser::finish() {
  Output out;
  run(out);
  // A held-back partial marker at the very end was text after all.
  if (state_ == State::body) {
    if (route_ == Route::thinking) out.thinking += buf_;
    else if (route_ == Route::tool) tool_args_ += buf_;
    else out.content += buf_;
  }
  buf_.clear();
  if (!recipient_) return out;
  std::string name = *recipient_;
  if (name.rfind("functions.", 0) == 0) name.erase(0, 10);
  name = names_.original(name);
  Json args = Json::parse(tool_args_, nullptr, false);
  if (!args.is_object()) {
    std::string why = args.is_discarded() ? "not valid JSON" : std::string("a JSON ") + args.type_name() + ", not an object";
    throw Error(ErrorCode::internal, "error parsing tool call: raw='" + tool_args_ + "', err=" + why);
  }
  ToolCall call;
  call.name = std::move(name);
  call.arguments = std::move(args);
  out.calls.push_back(std::move(call));
  recipient_.reset();
  tool_args_.clear();
  return out;
}

}  // namespace hearth::chat
