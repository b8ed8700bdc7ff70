#include "chat/thinking.h"

#include "chat/partial_tag.h"

#include <algorithm>

#include "util/error.h"

namespace hearth::chat {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void drop_leading_ws(std::string& s) {
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), is_ws));
}

}  // namespace

std::string tools_not_supported_message(const std::string& full_model_name) {
  return full_model_name + " does not support tools";
}

std::string thinking_not_supported_message(const std::string& model_name) {
  return "\"" + model_name + "\" does not support thinking";
}

ThinkSetting resolve_think(const nlohmann::json& think, bool model_can_think, const std::string& model_name) {
  ThinkSetting s;
  if (think.is_null()) {
    s.enabled = model_can_think;
    if (s.enabled) s.level = "medium";
    return s;
  }
  s.explicitly_set = true;
  if (think.is_boolean()) {
    s.enabled = think.get<bool>();
    if (s.enabled) s.level = "medium";
  } else if (think.is_string()) {
    std::string v = think.get<std::string>();
    if (v != "low" && v != "medium" && v != "high" && v != "max")
      throw Error(ErrorCode::invalid_argument, "invalid think value");
    s.enabled = true;
    s.level = v;  // "max" too: only harmony maps it to "high" (harmony_think)
  } else {
    throw Error(ErrorCode::invalid_argument, "invalid think value");
  }
  if (s.enabled && !model_can_think)
    throw Error(ErrorCode::invalid_argument, thinking_not_supported_message(model_name));
  return s;
}

ThinkingParser::ThinkingParser(std::string open_tag, std::string close_tag, bool start_in_thinking)
    : open_(std::move(open_tag)), close_(std::move(close_tag)),
      state_(start_in_thinking ? State::thinking_ws : State::looking) {}

ThinkingParser::Output ThinkingParser::add(std::string_view piece) {
  buf_.append(piece);
  Output out;
  while (true) {
    switch (state_) {
      case State::looking:
        drop_leading_ws(buf_);
        if (buf_.empty()) return out;
        if (buf_.compare(0, open_.size(), open_) == 0) {
          buf_.erase(0, open_.size());
          state_ = State::thinking_ws;
          continue;
        }
        if (buf_.size() < open_.size() && open_.compare(0, buf_.size(), buf_) == 0) return out;
        state_ = State::done;
        continue;
      case State::thinking_ws:
        drop_leading_ws(buf_);
        if (buf_.empty()) return out;
        state_ = State::thinking;
        continue;
      case State::thinking: {
        size_t pos = buf_.find(close_);
        if (pos != std::string::npos) {
          out.thinking.append(buf_, 0, pos);
          buf_.erase(0, pos + close_.size());
          state_ = State::done_ws;
          continue;
        }
        size_t keep = partial_tag_suffix(buf_, close_);
        out.thinking.append(buf_, 0, buf_.size() - keep);
        buf_.erase(0, buf_.size() - keep);
        return out;
      }
      case State::done_ws:
        drop_leading_ws(buf_);
        if (buf_.empty()) return out;
        state_ = State::done;
        continue;
      case State::done:
        out.content += buf_;
        buf_.clear();
        return out;
    }
  }
}

ThinkingParser::Output ThinkingParser::finish() {
  Output out = add("");
  if (buf_.empty()) return out;
  if (state_ == State::thinking) out.thinking += buf_;
  else out.content += buf_;  // a lone prefix of the opening tag was just text
  buf_.clear();
  return out;
}

bool prompt_opens_thinking(std::string_view prompt, std::string_view open_tag) {
  size_t end = prompt.size();
  while (end > 0 && is_ws(prompt[end - 1])) --end;
  return end >= open_tag.size() && prompt.substr(end - open_tag.size(), open_tag.size()) == open_tag;
}

void filter_think_tags(std::vector<Message>& messages) {
  int last_user = -1;
  for (size_t i = 0; i < messages.size(); ++i)
    if (messages[i].role == "user") last_user = static_cast<int>(i);
  for (int i = 0; i < last_user; ++i) {
    Message& m = messages[static_cast<size_t>(i)];
    if (m.role != "assistant") continue;
    ThinkingParser p;
    ThinkingParser::Output a = p.add(m.content);
    ThinkingParser::Output b = p.finish();
    m.content = a.content + b.content;
  }
}

}  // namespace hearth::chat
