#include "chat/capabilities.h"

#include <algorithm>

#include "chat/go_template.h"
#include "chat/tool_calls.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

bool go_uses(std::string_view source, std::string_view field) {
  try {
    return GoTemplate::parse(source).uses(field);
  } catch (const Error&) {
    return false;  // an unparsable template can do nothing
  }
}

bool supports_thinking(std::string_view source, TemplateKind kind) {
  return infer_thinking_tags(source, kind).has_value();
}

bool supports_tools(std::string_view source, TemplateKind kind) {
  if (kind == TemplateKind::go) return go_uses(source, "Tools");
  return template_supports_tools(source);
}

}  // namespace

std::vector<std::string> model_capabilities(const ModelFacts& f) {
  std::vector<std::string> caps;
  if (!f.has_pooling_type) caps.emplace_back("completion");
  if (supports_tools(f.template_source, f.template_kind)) caps.emplace_back("tools");
  if (f.template_kind == TemplateKind::go && go_uses(f.template_source, "Suffix")) caps.emplace_back("insert");
  if (f.has_vision) caps.emplace_back("vision");
  if (f.has_pooling_type) caps.emplace_back("embedding");
  if (supports_thinking(f.template_source, f.template_kind)) caps.emplace_back("thinking");
  if (f.has_audio) caps.emplace_back("audio");
  return caps;
}

std::optional<std::pair<std::string, std::string>> infer_thinking_tags(std::string_view s, TemplateKind kind) {
  if (kind == TemplateKind::jinja) {
    if (s.find("<think>") != std::string_view::npos && s.find("</think>") != std::string_view::npos)
      return std::make_pair(std::string("<think>"), std::string("</think>"));
    return std::nullopt;
  }
  // Go: the text right around a {{ .Thinking }} print action: its last <tag> before and first
  // </tag> after.
  if (!go_uses(s, "Thinking")) return std::nullopt;
  for (size_t p = s.find(".Thinking"); p != std::string_view::npos; p = s.find(".Thinking", p + 1)) {
    size_t open = s.rfind("{{", p), close = s.find("}}", p);
    if (open == std::string_view::npos || close == std::string_view::npos) continue;
    std::string_view inner = s.substr(open + 2, close - open - 2);
    while (!inner.empty() && (inner.front() == '-' || inner.front() == ' ' || inner.front() == '\t')) inner.remove_prefix(1);
    while (!inner.empty() && (inner.back() == '-' || inner.back() == ' ' || inner.back() == '\t')) inner.remove_suffix(1);
    if (inner != ".Thinking") continue;
    size_t prev = s.rfind("}}", open);
    std::string_view before = s.substr(prev == std::string_view::npos ? 0 : prev + 2,
                                       open - (prev == std::string_view::npos ? 0 : prev + 2));
    size_t next = s.find("{{", close + 2);
    std::string_view after = s.substr(close + 2, next == std::string_view::npos ? std::string_view::npos : next - close - 2);
    size_t lt = before.rfind('<');
    size_t gt = lt == std::string_view::npos ? std::string_view::npos : before.find('>', lt);
    size_t clt = after.find("</");
    size_t cgt = clt == std::string_view::npos ? std::string_view::npos : after.find('>', clt);
    if (gt == std::string_view::npos || cgt == std::string_view::npos) continue;
    return std::make_pair(std::string(before.substr(lt, gt - lt + 1)), std::string(after.substr(clt, cgt - clt + 1)));
  }
  return std::nullopt;
}

TemplateChoice choose_template(std::string_view request_template, std::string_view go_template,
                               std::string_view gguf_chat_template, bool prefer_go) {
  if (!request_template.empty()) return {TemplateKind::go, std::string(request_template)};
  bool have_go = !go_template.empty(), have_jinja = !gguf_chat_template.empty();
  if (have_go && have_jinja) {
    bool jinja_more = (supports_tools(gguf_chat_template, TemplateKind::jinja) &&
                       !supports_tools(go_template, TemplateKind::go)) ||
                      (supports_thinking(gguf_chat_template, TemplateKind::jinja) &&
                       !supports_thinking(go_template, TemplateKind::go));
    if (prefer_go && !jinja_more) return {TemplateKind::go, std::string(go_template)};
    return {TemplateKind::jinja, std::string(gguf_chat_template)};
  }
  if (have_go) return {TemplateKind::go, std::string(go_template)};
  if (have_jinja) return {TemplateKind::jinja, std::string(gguf_chat_template)};
  return {TemplateKind::go, "{{ .Prompt }}"};
}

}  // namespace hearth::chat
