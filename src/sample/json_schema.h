#pragma once
// Grammars for the `format` field of Ollama requests: "json" (any JSON object or array, the
// generic JSON grammar Ollama uses) and JSON schemas.
//
// Schema subset enforced: type (object, array, string, number, integer, boolean, null, or a list
// of them), properties (emitted in schema order; those not in `required` may be skipped),
// required, additionalProperties (false, true or a schema; absent means none when `properties`
// is given, as in llama.cpp's converter, and any otherwise; additional properties come after the
// declared ones), items, minItems/maxItems, enum, const, anyOf/oneOf, allOf (object properties
// merged), local $ref ("#", "#/$defs/x", "#/definitions/x", any JSON pointer) including
// recursion, string minLength/maxLength. Ignored, as llama.cpp and Ollama ignore keywords they do
// not convert: pattern and format (any string is accepted), minimum/maximum, prefixItems,
// uniqueItems, and every other keyword. Keys of additional properties are not checked against
// the declared names.

#include <memory>
#include <string_view>

#include "sample/grammar.h"

namespace hearth::sample {

// Any JSON object or array (format "json"). The same grammar object every call.
std::shared_ptr<const Grammar> json_grammar();

// Compiles a JSON schema given as JSON text. Error(invalid_argument) naming the problem for text
// that is not JSON, a schema that is not an object or boolean, keywords of the wrong type,
// unknown type names, non-local or unresolvable $ref, or nesting deeper than 64 levels.
std::shared_ptr<const Grammar> json_schema_grammar(std::string_view schema_json);

// The grammar for a request's format: "" -> nullptr (free text), "json" -> json_grammar(),
// anything else is a JSON schema's text.
std::shared_ptr<const Grammar> grammar_for_format(std::string_view format);

}  // namespace hearth::sample
