#pragma once
// Ollama's Go text/template subset: the TEMPLATE of models pulled from Ollama's registry and of
// Modelfiles. Actions {{ }} with `-` trimming and comments; if / else if / else, range (with
// $i, $v := and else, break, continue), with, variables ($x := / =, $), pipelines, and the
// functions and, or, not, eq, ne, lt, le, gt, ge, len, slice, index, print, printf, json,
// currentDate, yesterdayDate, toTypeScriptType.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/message.h"
#include "chat/thinking.h"

namespace hearth::chat {

namespace gotmpl {
struct Node;
}

class GoTemplate {
 public:
  // Throws TemplateError (ErrorCode::invalid_argument) naming the line.
  static GoTemplate parse(std::string_view source);

  // Whether any action references the field (`.Messages`, `.Tools`, `.Suffix`, ...).
  bool uses(std::string_view field) const;

  // Executes over a JSON data object (its members are the top-level fields). `cut_at_response`:
  // drop everything after the first reference to .Response (Ollama's legacy last turn).
  std::string execute(const nlohmann::ordered_json& data, bool cut_at_response = false) const;

  const std::string& source() const { return *source_; }

 private:
  std::shared_ptr<const std::string> source_;
  std::shared_ptr<const gotmpl::Node> root_;
  int response_seq_ = -1;  // document-order number of the first node referencing .Response
  std::vector<std::string> fields_;  // every .Field name the actions reference
};

struct GoTemplateValues {
  std::vector<Message> messages;
  std::vector<ToolDefinition> tools;
  std::string prompt;  // /api/generate with a suffix: fill-in-the-middle
  std::string suffix;
  ThinkSetting think;
  bool force_legacy = false;
};

// Ollama's rendering rules (template/template.go Execute): a template that uses .Messages runs
// once over all messages (consecutive same-role messages merged, system messages also joined
// into .System); one that does not runs once per user turn with .System/.Prompt/.Response, and
// the last turn is cut after .Response. A prompt with a suffix runs with .Prompt/.Suffix only.
std::string render_go_template(const GoTemplate& tmpl, const GoTemplateValues& values);

// Go's json.Marshal of a value: compact, <, > and & escaped, floats as Go prints a float64
// (1 not 1.0, 1e+21, 1e-7). Object keys keep the value's order.
std::string go_json_text(const nlohmann::ordered_json& v);

// Ollama's toTypeScriptType of a JSON Schema property: string, number (number, integer),
// boolean, null, any[] (array), Record<string, any> (object), any (anything else or no type);
// several types or anyOf alternatives joined with " | ".
std::string typescript_type(const nlohmann::ordered_json& property);

// Today's (day_offset 0) or another day's local date, YYYY-MM-DD (currentDate, yesterdayDate).
std::string local_date(int day_offset = 0);

// The data object render_go_template gives a template that uses .Messages (exposed for tests
// and for /api/generate's _debug_render_only).
nlohmann::ordered_json go_template_data(const GoTemplateValues& values);

}  // namespace hearth::chat
