#pragma once
// Jinja lexer and parser: source text to TemplateAst, with Hugging Face's whitespace settings
// (trim_blocks, lstrip_blocks) applied while lexing, as jinja2's lexer does.

#include <memory>
#include <string_view>

#include "chat/jinja_ast.h"

namespace hearth::chat::jinja {

// Throws TemplateError (ErrorCode::corrupt) naming line and column.
std::unique_ptr<TemplateAst> parse_template(std::string_view source);

}  // namespace hearth::chat::jinja
