#include "server/tag_output_parser.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "api/wire.h"

namespace hearth::server {

namespace {
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
}  // namespace

TagOutputParser::TagOutputParser(TagParserOptions options) : o_(std::move(options)) {
  if (o_.thinking && o_.start_in_thinking) state_ = State::thinking;
  else if (o_.thinking) state_ = State::leading;
  else state_ = State::content;
}

engine::OutputDelta TagOutputParser::add(std::string_view piece) {
  buf_.append(piece);
  engine::OutputDelta out;
  step(out, false);
  return out;
}

engine::OutputDelta TagOutputParser::finish() {
  engine::OutputDelta out;
  step(out, true);
  return out;
}

void TagOutputParser::finish_tool_call(engine::OutputDelta& out, bool final) {
  size_t close = buf_.find(o_.tool_close);
  if (close == std::string::npos && !final) return;
  std::string body = buf_.substr(0, close);
  buf_ = close == std::string::npos ? "" : buf_.substr(close + o_.tool_close.size());
  auto j = nlohmann::ordered_json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("name") && j["name"].is_string()) {
    chat::ToolCall call;
    call.id = api::random_call_id();
    call.name = j["name"].get<std::string>();
    auto args = j.find("arguments");
    if (args == j.end()) args = j.find("parameters");
    if (args != j.end() && args->is_object()) call.arguments = *args;
    out.tool_calls.push_back(std::move(call));
  } else {
    out.content += o_.tool_open + body + (close == std::string::npos ? "" : o_.tool_close);
  }
  state_ = State::content;
}

void TagOutputParser::step(engine::OutputDelta& out, bool final) {
  for (;;) {
    switch (state_) {
      case State::leading: {
        size_t i = 0;
        while (i < buf_.size() && is_space(buf_[i])) ++i;
        std::string_view rest = std::string_view(buf_).substr(i);
        if (rest.size() >= o_.think_open.size()) {
          if (rest.substr(0, o_.think_open.size()) == o_.think_open) {
            buf_ = std::string(rest.substr(o_.think_open.size()));
            state_ = State::thinking;
          } else {
            state_ = State::content;
          }
          continue;
        }
        if (!rest.empty() && std::string_view(o_.think_open).substr(0, rest.size()) != rest) {
          state_ = State::content;
          continue;
        }
        if (final) {
          state_ = State::content;
          continue;
        }
        return;  // undecided: all whitespace or a partial opening tag
      }
      case State::thinking: {
        size_t close = buf_.find(o_.think_close);
        if (close != std::string::npos) {
          out.thinking += buf_.substr(0, close);
          buf_ = buf_.substr(close + o_.think_close.size());
          state_ = State::after_thinking;
          continue;
        }
        size_t hold = final ? 0 : partial_tag_suffix(buf_, o_.think_close);
        out.thinking += buf_.substr(0, buf_.size() - hold);
        buf_ = buf_.substr(buf_.size() - hold);
        return;
      }
      case State::after_thinking: {
        size_t i = 0;
        while (i < buf_.size() && is_space(buf_[i])) ++i;
        buf_ = buf_.substr(i);
        if (buf_.empty() && !final) return;
        state_ = State::content;
        continue;
      }
      case State::content: {
        if (o_.tools) {
          size_t open = buf_.find(o_.tool_open);
          if (open != std::string::npos) {
            out.content += buf_.substr(0, open);
            buf_ = buf_.substr(open + o_.tool_open.size());
            state_ = State::tool_call;
            continue;
          }
        }
        size_t hold = (final || !o_.tools) ? 0 : partial_tag_suffix(buf_, o_.tool_open);
        out.content += buf_.substr(0, buf_.size() - hold);
        buf_ = buf_.substr(buf_.size() - hold);
        return;
      }
      case State::tool_call: {
        State before = state_;
        finish_tool_call(out, final);
        if (state_ == before) return;  // waiting for the closing tag
        continue;
      }
    }
  }
}

}  // namespace hearth::server
