#pragma once
// Jinja chat templates (GGUF `tokenizer.chat_template`), rendered as Hugging Face's
// apply_chat_template does: ImmutableSandboxedEnvironment, trim_blocks and lstrip_blocks on,
// loop controls, `tojson` without ASCII escaping, `raise_exception` and `strftime_now`.
// Python's jinja2 is the reference (tests/chat/goldens/).

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::chat {

// A template that cannot be parsed, or that fails while rendering (type errors, undefined
// values). The message names the line and column: "line 3, column 7: unexpected 'endfor'".
class TemplateError : public Error {
 public:
  TemplateError(ErrorCode code, std::string message) : Error(code, std::move(message)) {}
};

// The template called raise_exception(msg): what() is exactly msg. The server answers 400 with it.
class TemplateRaise : public Error {
 public:
  explicit TemplateRaise(std::string message) : Error(ErrorCode::invalid_argument, std::move(message)) {}
};

// Bounds that keep a hostile template from hanging or exhausting memory.
struct JinjaLimits {
  size_t max_output_bytes = 16u << 20;  // also caps any one string or list built while rendering
  int max_call_depth = 64;              // macro calls
  uint64_t max_steps = 20'000'000;      // statements, loop iterations, filter and method calls
};

struct JinjaRenderOptions {
  JinjaLimits limits;
  // The clock strftime_now reads (UTC); unset means the real clock. Goldens fix it.
  std::optional<std::time_t> now;
};

namespace jinja {
struct TemplateAst;
}

class JinjaTemplate {
 public:
  // Throws TemplateError (code corrupt) on a syntax error.
  static JinjaTemplate parse(std::string_view source);

  // `context` is an object: its members are the template's variables (messages, tools,
  // add_generation_prompt, bos_token, ...). Throws TemplateRaise or TemplateError.
  std::string render(const nlohmann::ordered_json& context, const JinjaRenderOptions& options = {}) const;

 private:
  std::shared_ptr<const jinja::TemplateAst> ast_;
};

}  // namespace hearth::chat
