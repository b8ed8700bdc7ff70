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
// recursion, string minLength/maxLength, and:
//  - pattern (regex.h's subset, matched on the decoded characters: a JSON escape counts as the
//    character it stands for; unanchored patterns may match anywhere, as JSON schema says). A
//    pattern outside the subset is not enforced (any string), logged at debug, as llama.cpp's
//    converter degrades. With minLength/maxLength too, both hold (the converter drops the
//    lengths);
//  - minimum/maximum/exclusiveMinimum/exclusiveMaximum on integers, exactly: no digit is taken
//    after which no in-range integer can be finished (draft 4's boolean exclusive forms too;
//    fractional bounds round inwards; an empty range matches nothing);
//  - prefixItems (and draft 2019's items array with additionalItems): tuple positions, then
//    `items` for the rest (false: none). The whole tuple is emitted unless minItems is smaller,
//    as the converter (which always emits every position) does.
//  - format date, time, date-time and uuid (uuid1..uuid5), as the converter's patterns for them
//    (a schema's own pattern wins); other formats are not enforced.
// Ignored, as llama.cpp and Ollama ignore keywords they do not convert: other formats,
// minimum/maximum on non-integer numbers (the converter ignores them there too), uniqueItems
// (not enforced by the converter either), and every other keyword.

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
