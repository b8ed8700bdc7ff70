#pragma once
// The Modelfile language (ollama-compat.md section 6): FROM, PARAMETER, TEMPLATE, SYSTEM, MESSAGE,
// LICENSE, ADAPTER, REQUIRES, DRAFT, RENDERER, PARSER; '#' comments; values bare, "quoted" or
// """multi-line""". The parser follows Ollama's rules and error messages ("(line N): ...",
// "no FROM line", "unexpected EOF", "unknown parameter 'x'").

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::store {

struct ModelfileCommand {
  std::string name;  // "model" (FROM), "template", "system", "license", "adapter", "message",
                     // "requires", "draft", "renderer", "parser", or a parameter name
  std::string args;  // for "message": "role: content"
};

struct Modelfile {
  std::vector<ModelfileCommand> commands;

  // Throws Error(invalid_argument) with Ollama's message.
  static Modelfile parse(std::string_view text);
  // Modelfile text again (Ollama's Command.String per line).
  std::string to_string() const;
};

struct ChatMessage {
  std::string role;
  std::string content;
};

// What a Modelfile asks create to do, with paths resolved. Mirrors /api/create's request.
struct CreateSpec {
  std::string from;         // a model name, or empty when from_path is set
  std::string from_path;    // an existing GGUF file (absolute)
  std::string template_text;
  bool has_template = false;
  std::string system;
  bool has_system = false;
  std::vector<std::string> licenses;
  std::vector<ChatMessage> messages;
  nlohmann::json parameters = nlohmann::json::object();  // typed, as in the params layer
  std::vector<std::string> adapters;  // unsupported: create reports it
  std::string requires_version, renderer, parser;
  std::string quantize;     // "q4_K_M", ... (from -q / "quantize")
};

// Builds the spec: FROM paths resolve relative to `modelfile_dir` ("~" expands); a FROM path that
// does not exist is taken as a model name. PARAMETER values are typed by the option table
// ("invalid float value [x]", "unknown parameter 'x'"). Deprecated parameters are skipped;
// `warnings` (if non-null) receives "parameter x is deprecated".
CreateSpec build_create_spec(const Modelfile& mf, const std::string& modelfile_dir,
                             std::vector<std::string>* warnings = nullptr);

// Converts one PARAMETER (name, textual value) into its typed JSON value. Throws as above.
nlohmann::json parse_parameter_value(const std::string& name, const std::string& value);
// True for parameters that are accepted and ignored (removed options).
bool is_deprecated_parameter(std::string_view name);

// Quotes a value as Ollama's Modelfile printer does.
std::string modelfile_quote(const std::string& s);

}  // namespace hearth::store
