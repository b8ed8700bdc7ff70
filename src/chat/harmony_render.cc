// The gpt-oss prompt as Ollama renders it: the output of the registry's gpt-oss Go template
// (registry.ollama.ai/library/gpt-oss, the same text Ollama's x/create/client writes for gpt-oss
// safetensors imports, `gptossDefaultTemplate`) executed by Ollama's template.Execute, written out
// as code. tests/chat/harmony_render_test.cc runs that template through our Go template engine
// on the same conversations and checks both agree byte for byte.
//
// Shape (each part only when it applies):
//   <|start|>system<|message|>You are ChatGPT, ...\nKnowledge cutoff: 2024-06\nCurrent date: D
//   \n\nReasoning: LEVEL            (think on: its level, "medium" by default; think off: absent)
//   \n\n# Tools ...                 (built-in browser.* / python tools only)
//   \n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.
//   \nCalls to these tools must go to the commentary channel: 'functions'.   (function tools)
//   <|end|>
//   <|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {...}
//   \n\n# Instructions\n\nSYSTEM<|end|>  (function tools and/or system text)
//   messages: user, tool results as `functions.NAME to=assistant`, assistant turns as analysis
//   (only after the last user message), final and commentary tool-call messages
//   <|start|>assistant               (unless the last assistant message is continued)

#include <algorithm>

#include "chat/go_template.h"
#include "chat/harmony.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

bool is_builtin_tool(std::string_view name) {
  return name == "browser.search" || name == "browser.open" || name == "browser.find" || name == "python";
}

std::string json_string(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const Json& function_of(const ToolDefinition& tool) {
  static const Json empty = Json::object();
  auto it = tool.find("function");
  return it != tool.end() && it->is_object() ? *it : empty;
}

// The built-in tools' fixed descriptions, as the gpt-oss template writes them.
void write_builtin_tools(std::string& out, bool search, bool open, bool find, bool python) {
  out += "\n\n# Tools";
  if (search || open || find) {
    out +=
        "\n\n## browser\n\n// Tool for browsing.\n"
        "// The cursor appears in brackets before each browsing display, like [cursor].\n"
        "// Cite information from the tool using the line-citation format shown by the browser output.\n"
        "// Do not quote more than 10 words directly from the tool output.\n"
        "// sources=web (default: web)\n"
        "namespace browser {";
    if (search) {
      out +=
          "\n\n// Searches for information related to query and displays topn results.\n"
          "type search = (_: {\nquery: string,\ntopn?: number, // default: 10\nsource?: string,\n}) => any;";
    }
    if (open) {
      out +=
          "\n\n// Opens the link id from the page indicated by cursor starting at line number loc, showing num_lines lines.\n"
          "// If cursor is not provided, the most recent page is implied.\n"
          "// If id is a string, it is treated as a fully qualified URL associated with source.\n"
          "// If loc is not provided, the viewport will be positioned at the beginning of the document or centered on "
          "the most relevant passage, if available.\n"
          "// Use this function without id to scroll to a new location of an opened page.\n"
          "type open = (_: {\nid?: number | string, // default: -1\ncursor?: number, // default: -1\n"
          "loc?: number, // default: -1\nnum_lines?: number, // default: -1\n"
          "view_source?: boolean, // default: false\nsource?: string,\n}) => any;";
    }
    if (find) {
      out +=
          "\n\n// Finds exact matches of pattern in the current page, or the page given by cursor.\n"
          "type find = (_: {\npattern: string,\ncursor?: number, // default: -1\n}) => any;";
    }
    out += "\n\n} // namespace browser";
  }
  if (python) {
    out +=
        "\n\n## python\n\n"
        "Use this tool to execute Python code in your chain of thought. The code will not be shown to the user. "
        "This tool should be used for internal reasoning, but not for code that is intended to be visible to the "
        "user (e.g. when creating plots, tables, or files).\n\n"
        "When you send a message containing Python code to python, it will be executed in a stateful Jupyter "
        "notebook environment. python will respond with the output of the execution or time out after 120.0 "
        "seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access for this "
        "session is UNKNOWN. Depends on the cluster.";
  }
}

// `namespace functions { ... }`: each function's description and its parameters as a TypeScript
// object type, properties in name order (the template ranges over a Go map).
void write_functions(std::string& out, const std::vector<ToolDefinition>& tools) {
  out += "# Tools\n\n## functions\n\nnamespace functions {";
  for (const auto& tool : tools) {
    const Json& fn = function_of(tool);
    const std::string name = json_string(fn, "name");
    if (is_builtin_tool(name)) continue;
    out += "\n";
    const std::string description = json_string(fn, "description");
    if (!description.empty()) out += "\n// " + description;
    const Json* props = nullptr;
    if (auto params = fn.find("parameters"); params != fn.end() && params->is_object()) {
      if (auto p = params->find("properties"); p != params->end() && p->is_object() && !p->empty()) props = &*p;
    }
    if (!props) {
      out += "\ntype " + name + " = () => any;";
      continue;
    }
    out += "\ntype " + name + " = (_: {";
    std::vector<std::string> keys;
    for (auto it = props->begin(); it != props->end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    for (const auto& key : keys) {
      const Json& prop = (*props)[key];
      const std::string prop_description = json_string(prop, "description");
      if (!prop_description.empty()) out += "\n  // " + prop_description;
      out += "\n  " + key + ": " + typescript_type(prop) + ",";
    }
    out += "\n}) => any;";
  }
  out += "\n\n} // namespace functions";
}

// Ollama's collate: every system text joined, consecutive messages of one role (but tool) merged.
struct Collated {
  std::string system;
  std::vector<Message> messages;
};

Collated collate(const std::vector<Message>& messages) {
  Collated c;
  bool any_system = false;
  for (const auto& m : messages) {
    if (m.role == "system") {
      c.system += (any_system ? "\n\n" : "") + m.content;
      any_system = true;
    }
    if (!c.messages.empty() && c.messages.back().role == m.role && m.role != "tool") {
      c.messages.back().content += "\n\n" + m.content;
      continue;
    }
    c.messages.push_back(m);
  }
  return c;
}

// Tool-call arguments as the template prints them: json.Marshal of a Go map, keys sorted.
std::string arguments_text(const nlohmann::ordered_json& args) {
  return go_json_text(Json(nlohmann::json(args)));
}

}  // namespace

std::string render_harmony(const HarmonyPromptInputs& in) {
  const Collated c = collate(in.messages);
  std::string out =
      "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
      "Knowledge cutoff: 2024-06\nCurrent date: ";
  out += in.current_date.empty() ? local_date() : in.current_date;
  const ThinkSetting& t = in.think;
  if (t.explicitly_set && t.enabled && !t.level.empty()) out += "\n\nReasoning: " + t.level;
  else if (!t.explicitly_set || t.enabled) out += "\n\nReasoning: medium";

  bool search = false, open = false, find = false, python = false, functions = false;
  for (const auto& tool : in.tools) {
    const std::string name = json_string(function_of(tool), "name");
    search |= name == "browser.search";
    open |= name == "browser.open";
    find |= name == "browser.find";
    python |= name == "python";
    functions |= !is_builtin_tool(name);
  }
  if (search || open || find || python) write_builtin_tools(out, search, open, find, python);
  out += "\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.";
  if (functions) out += "\nCalls to these tools must go to the commentary channel: 'functions'.";
  out += "<|end|>";

  if (functions || !c.system.empty()) {
    out += "<|start|>developer<|message|>";
    if (functions) write_functions(out, in.tools);
    if (!c.system.empty()) out += "\n\n# Instructions\n\n" + c.system;
    out += "<|end|>";
  }

  const HarmonyParser::Prefill prefill = harmony_prefill(c.messages);
  long last_user = -1;
  for (size_t i = 0; i < c.messages.size(); ++i) {
    if (c.messages[i].role == "user") last_user = static_cast<long>(i);
  }
  for (size_t i = 0; i < c.messages.size(); ++i) {
    const Message& m = c.messages[i];
    if (m.role == "tool") {
      out += "<|start|>" + std::string(is_builtin_tool(m.tool_name) ? "" : "functions.") + m.tool_name +
             " to=assistant<|message|>" + m.content + "<|end|>";
    } else if (m.role == "assistant") {
      // Earlier turns' reasoning is dropped: only what follows the last user message is shown.
      if (!m.thinking.empty() && static_cast<long>(i) > last_user) {
        out += "<|start|>assistant<|channel|>analysis<|message|>" + m.thinking;
        if (prefill != HarmonyParser::Prefill::thinking) out += "<|end|>";
      }
      if (!m.content.empty()) {
        out += "<|start|>assistant<|channel|>final<|message|>" + m.content;
        if (prefill != HarmonyParser::Prefill::content) out += "<|end|>";
      }
      for (const auto& call : m.tool_calls) {
        const bool builtin = is_builtin_tool(call.name);
        out += "<|start|>assistant<|channel|>" + std::string(builtin ? "analysis" : "commentary") + " to=" +
               (builtin ? "" : "functions.") + call.name + " <|constrain|>json<|message|>" +
               arguments_text(call.arguments) + "<|call|>";
      }
    } else if (m.role == "user") {
      out += "<|start|>user<|message|>" + m.content + "<|end|>";
    }
    // system messages went into the developer message; other roles are not rendered.
  }
  if (prefill == HarmonyParser::Prefill::none) out += "<|start|>assistant";
  return out;
}

HarmonyParser::Prefill harmony_prefill(const std::vector<Message>& messages) {
  if (messages.empty() || messages.back().role != "assistant") return HarmonyParser::Prefill::none;
  if (!messages.back().content.empty()) return HarmonyParser::Prefill::content;
  if (!messages.back().thinking.empty()) return HarmonyParser::Prefill::thinking;
  return HarmonyParser::Prefill::none;
}

}  // namespace hearth::chat
