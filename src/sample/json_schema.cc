#include "sample/json_schema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/log.h"

namespace hearth::sample {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxSchemaDepth = 64;

// The string formats llama.cpp's converter enforces, as patterns; nullptr for the others (not
// enforced). A schema's own pattern wins over its format, as in the converter.
const char* format_pattern(const std::string& format) {
  if (format == "date") return "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
  if (format == "time") {
    return "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
  }
  if (format == "date-time") {
    return "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
           "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
  }
  if (format == "uuid" || (format.size() == 5 && format.compare(0, 4, "uuid") == 0 && format[4] >= '1' &&
                           format[4] <= '5')) {
    return "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
  }
  return nullptr;
}

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error(ErrorCode::invalid_argument,
              "invalid JSON schema: " + what + (where.empty() ? "" : " at '" + where + "'"));
}

// Schema -> grammar nodes. Every subschema becomes nodes once; a $ref becomes an alias resolved
// after the walk, compiling its target (once per pointer) if nothing has yet.
class Compiler {
 public:
  explicit Compiler(const Json& root) : root_(root) {}

  std::shared_ptr<Grammar> run() {
    const int32_t top = compile(root_, "#", 0);
    while (!pending_.empty()) {
      auto [alias, pointer, depth] = pending_.back();
      pending_.pop_back();
      auto it = by_pointer_.find(pointer);
      int32_t target;
      if (it != by_pointer_.end()) {
        target = it->second;
      } else {
        target = compile(lookup(pointer), pointer, depth);
        by_pointer_[pointer] = target;
      }
      g_->node(alias).alternatives = {target};
    }
    g_->finalize(top);
    return g_;
  }

  // Any JSON value: {..}, [..], string, number, true/false/null.
  int32_t any() {
    if (any_ >= 0) return any_;
    GrammarNode choice;
    choice.kind = GrammarNodeKind::choice;
    any_ = g_->add(std::move(choice));
    GrammarNode obj;
    obj.kind = GrammarNodeKind::object;
    obj.extra = any_;
    GrammarNode arr;
    arr.kind = GrammarNodeKind::array;
    arr.items = any_;
    GrammarNode str;
    str.kind = GrammarNodeKind::string;
    GrammarNode num;
    num.kind = GrammarNodeKind::number;
    GrammarNode lit;
    lit.kind = GrammarNodeKind::literals;
    lit.literals = {"true", "false", "null"};
    std::vector<int32_t> alts = {g_->add(std::move(obj)), g_->add(std::move(arr)), g_->add(std::move(str)),
                                 g_->add(std::move(num)), g_->add(std::move(lit))};
    g_->node(any_).alternatives = std::move(alts);
    return any_;
  }

 private:
  int32_t add_kind(GrammarNodeKind kind) {
    GrammarNode n;
    n.kind = kind;
    return g_->add(std::move(n));
  }

  const Json& lookup(const std::string& pointer) const {
    if (pointer == "#") return root_;
    try {
      return root_.at(Json::json_pointer(pointer.substr(1)));
    } catch (const std::exception&) {
      bad("", "$ref '" + pointer + "' does not resolve inside the schema");
    }
  }

  // The schema behind a chain of $ref (for allOf merging), or s itself.
  const Json& deref(const Json& s) const {
    const Json* p = &s;
    for (int hops = 0; hops < kMaxSchemaDepth && p->is_object(); ++hops) {
      auto r = p->find("$ref");
      if (r == p->end() || !r->is_string()) break;
      const std::string ref = r->get<std::string>();
      if (ref.empty() || ref[0] != '#') break;
      p = &lookup(ref);
    }
    return *p;
  }

  static uint32_t count(const Json& s, const char* key, uint32_t fallback, const std::string& where) {
    auto it = s.find(key);
    if (it == s.end()) return fallback;
    if (it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0)) {
      const uint64_t v = it->get<uint64_t>();
      return v >= UINT32_MAX ? UINT32_MAX - 1 : static_cast<uint32_t>(v);
    }
    if (it->is_number_float()) {  // 3.0 is an integer to JSON schema
      const double v = it->get<double>();
      if (v >= 0 && v == std::floor(v)) return v >= UINT32_MAX ? UINT32_MAX - 1 : static_cast<uint32_t>(v);
    }
    bad(where, std::string("'") + key + "' must be a non-negative integer");
  }

  static std::string child(const std::string& where, const std::string& key) {
    std::string escaped;
    for (char c : key) {
      if (c == '~') escaped += "~0";
      else if (c == '/') escaped += "~1";
      else escaped += c;
    }
    return where + "/" + escaped;
  }

  int32_t compile(const Json& s, const std::string& where, int depth) {
    if (depth > kMaxSchemaDepth) bad(where, "nested more than 64 levels deep");
    if (s.is_boolean()) return s.get<bool>() ? any() : add_kind(GrammarNodeKind::never);
    if (!s.is_object()) bad(where, "a schema must be an object or a boolean");

    if (auto r = s.find("$ref"); r != s.end()) {
      if (!r->is_string()) bad(where, "'$ref' must be a string");
      const std::string ref = r->get<std::string>();
      if (ref.empty() || ref[0] != '#') bad(where, "only local $ref ('#/...') is supported, not '" + ref + "'");
      lookup(ref);  // fails now if it does not resolve
      const int32_t alias = add_kind(GrammarNodeKind::alias);
      g_->node(alias).alternatives = {-1};
      pending_.emplace_back(alias, ref, depth + 1);
      return alias;
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      auto it = s.find(key);
      if (it == s.end()) continue;
      if (!it->is_array()) bad(where, std::string("'") + key + "' must be an array");
      std::vector<int32_t> alts;
      for (size_t i = 0; i < it->size(); ++i) {
        alts.push_back(compile((*it)[i], child(child(where, key), std::to_string(i)), depth + 1));
      }
      const int32_t id = add_kind(GrammarNodeKind::choice);
      g_->node(id).alternatives = std::move(alts);
      return id;
    }
    if (auto it = s.find("const"); it != s.end()) {
      GrammarNode n;
      n.kind = GrammarNodeKind::literals;
      n.literals = {it->dump()};
      return g_->add(std::move(n));
    }
    if (auto it = s.find("enum"); it != s.end()) {
      if (!it->is_array()) bad(where, "'enum' must be an array");
      GrammarNode n;
      n.kind = GrammarNodeKind::literals;
      for (const Json& v : *it) n.literals.push_back(v.dump());
      return g_->add(std::move(n));
    }
    if (auto it = s.find("allOf"); it != s.end()) return compile_all_of(s, *it, where, depth);

    auto type = s.find("type");
    if (type != s.end()) {
      if (type->is_string()) return compile_type(s, type->get<std::string>(), where, depth);
      if (!type->is_array()) bad(where, "'type' must be a string or an array of strings");
      std::vector<int32_t> alts;
      for (const Json& t : *type) {
        if (!t.is_string()) bad(where, "'type' must be a string or an array of strings");
        alts.push_back(compile_type(s, t.get<std::string>(), where, depth));
      }
      const int32_t id = add_kind(GrammarNodeKind::choice);
      g_->node(id).alternatives = std::move(alts);
      return id;
    }
    // No type: what the keywords imply, else any value.
    for (const char* k : {"properties", "additionalProperties", "required"}) {
      if (s.contains(k)) return compile_type(s, "object", where, depth);
    }
    for (const char* k : {"items", "prefixItems", "minItems", "maxItems"}) {
      if (s.contains(k)) return compile_type(s, "array", where, depth);
    }
    for (const char* k : {"minLength", "maxLength", "pattern"}) {
      if (s.contains(k)) return compile_type(s, "string", where, depth);
    }
    if (auto f = s.find("format"); f != s.end() && f->is_string() && format_pattern(f->get<std::string>())) {
      return compile_type(s, "string", where, depth);  // as the converter reads a type-less uuid/date
    }
    return any();
  }

  int32_t compile_type(const Json& s, const std::string& type, const std::string& where, int depth) {
    GrammarNode n;
    if (type == "object") {
      auto props = s.find("properties");
      return compile_object(s, props != s.end() ? &*props : nullptr, required_names(s, where), where, depth);
    } else if (type == "array") {
      return compile_array(s, where, depth);
    } else if (type == "string") {
      n.kind = GrammarNodeKind::string;
      n.min_length = count(s, "minLength", 0, where);
      n.max_length = count(s, "maxLength", UINT32_MAX, where);
      if (n.min_length > n.max_length) bad(where, "minLength is larger than maxLength");
      const char* pattern = nullptr;
      if (auto p = s.find("pattern"); p != s.end()) {
        if (!p->is_string()) bad(where, "'pattern' must be a string");
        pattern = p->get_ref<const std::string&>().c_str();
      } else if (auto f = s.find("format"); f != s.end() && f->is_string()) {
        pattern = format_pattern(f->get<std::string>());
      }
      if (pattern != nullptr) {
        std::string why;
        n.pattern = Regex::compile(pattern, &why);
        if (!n.pattern) {
          // As llama.cpp's converter degrades: the pattern is not enforced.
          HEARTH_LOG_DEBUG("json schema: pattern at '" + where + "' is not enforced (" + why + ")");
        } else {
          const Regex& re = *n.pattern;
          const uint32_t most = re.max_remaining(re.start());
          if (re.empty() || re.min_remaining(re.start()) > n.max_length ||
              (most != Regex::kUnbounded && most < n.min_length)) {
            return add_kind(GrammarNodeKind::never);  // no string can satisfy it
          }
        }
      }
    } else if (type == "number" || type == "integer") {
      n.kind = GrammarNodeKind::number;
      n.integer = type == "integer";
      // Bounds are checked for their type either way, and enforced on integers only: llama.cpp's
      // converter ignores them on numbers too.
      Bounds b = bounds(s, where);
      if (n.integer && b.any) {
        if (b.lo > b.hi) return add_kind(GrammarNodeKind::never);
        n.bounded = true;
        n.min_value = b.lo;
        n.max_value = b.hi;
      }
    } else if (type == "boolean") {
      n.kind = GrammarNodeKind::literals;
      n.literals = {"true", "false"};
    } else if (type == "null") {
      n.kind = GrammarNodeKind::literals;
      n.literals = {"null"};
    } else {
      bad(where, "unknown type '" + type + "'");
    }
    return g_->add(std::move(n));
  }

  // Integer bounds from minimum/maximum/exclusiveMinimum/exclusiveMaximum (numbers, or draft 4's
  // booleans that make minimum/maximum exclusive), clamped to the 16 digits integers may have.
  struct Bounds {
    bool any = false;
    int64_t lo = -kMaxInt, hi = kMaxInt;
  };
  static constexpr int64_t kMaxInt = 9999999999999999;  // 16 digits

  static Bounds bounds(const Json& s, const std::string& where) {
    Bounds b;
    auto flag = [&](const char* key) {
      auto it = s.find(key);
      return it != s.end() && it->is_boolean() && it->get<bool>();
    };
    // The least integer >= v (exclusive: > v), or the greatest <= v (exclusive: < v), clamped.
    auto integer_bound = [&](const char* key, bool upper, bool exclusive, int64_t& out) {
      auto it = s.find(key);
      if (it == s.end() || it->is_boolean()) return;
      if (!it->is_number()) bad(where, std::string("'") + key + "' must be a number");
      b.any = true;
      int64_t v;
      if (it->is_number_unsigned()) {
        v = static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), kMaxInt + 1));
        if (exclusive) v += upper ? -1 : 1;
      } else if (it->is_number_integer()) {
        v = std::clamp<int64_t>(it->get<int64_t>(), -kMaxInt - 1, kMaxInt + 1);
        if (exclusive) v += upper ? -1 : 1;
      } else {
        const double d = std::clamp(it->get<double>(), -1e17, 1e17);
        if (std::isnan(d)) bad(where, std::string("'") + key + "' must be a number");
        double r = upper ? std::floor(d) : std::ceil(d);
        if (exclusive && r == d) r += upper ? -1 : 1;
        v = static_cast<int64_t>(r);
      }
      out = upper ? std::min(out, v) : std::max(out, v);
    };
    integer_bound("minimum", false, flag("exclusiveMinimum"), b.lo);
    integer_bound("exclusiveMinimum", false, true, b.lo);
    integer_bound("maximum", true, flag("exclusiveMaximum"), b.hi);
    integer_bound("exclusiveMaximum", true, true, b.hi);
    return b;
  }

  // Arrays: items, or a tuple (prefixItems, or draft 2019's items array with additionalItems)
  // followed by `items` / `additionalItems` (absent: any value; false: nothing more).
  int32_t compile_array(const Json& s, const std::string& where, int depth) {
    GrammarNode n;
    n.kind = GrammarNodeKind::array;
    auto items = s.find("items");
    const Json* tuple = nullptr;
    const char* rest_key = "items";
    std::string tuple_where;
    if (auto p = s.find("prefixItems"); p != s.end()) {
      if (!p->is_array()) bad(where, "'prefixItems' must be an array");
      tuple = &*p;
      tuple_where = child(where, "prefixItems");
    } else if (items != s.end() && items->is_array()) {
      tuple = &*items;
      tuple_where = child(where, "items");
      rest_key = "additionalItems";
    }
    if (tuple != nullptr) {
      for (size_t i = 0; i < tuple->size(); ++i) {
        n.prefix.push_back(compile((*tuple)[i], child(tuple_where, std::to_string(i)), depth + 1));
      }
    }
    auto rest = s.find(rest_key);
    if (rest == s.end()) {
      n.items = any();
    } else if (rest->is_boolean()) {
      n.items = rest->get<bool>() ? any() : -1;
    } else {
      n.items = compile(*rest, child(where, rest_key), depth + 1);
    }
    n.max_items = count(s, "maxItems", UINT32_MAX, where);
    // A tuple is generated whole unless minItems says otherwise, as llama.cpp's converter
    // (which always emits every position) does; shorter arrays would be valid too.
    const uint32_t tuple_len = static_cast<uint32_t>(std::min<size_t>(n.prefix.size(), UINT32_MAX - 1));
    n.min_items = count(s, "minItems", std::min(tuple_len, n.max_items), where);
    if (n.min_items > n.max_items) bad(where, "minItems is larger than maxItems");
    if (n.items < 0) {
      n.max_items = std::min(n.max_items, tuple_len);
      if (n.min_items > n.max_items) return add_kind(GrammarNodeKind::never);
    }
    return g_->add(std::move(n));
  }

  static std::vector<std::string> required_names(const Json& s, const std::string& where) {
    std::vector<std::string> names;
    auto it = s.find("required");
    if (it == s.end()) return names;
    if (!it->is_array()) bad(where, "'required' must be an array of strings");
    for (const Json& r : *it) {
      if (!r.is_string()) bad(where, "'required' must be an array of strings");
      names.push_back(r.get<std::string>());
    }
    return names;
  }

  // props: the "properties" object (or nullptr); s supplies additionalProperties.
  int32_t compile_object(const Json& s, const Json* props, const std::vector<std::string>& required,
                         const std::string& where, int depth) {
    GrammarNode n;
    n.kind = GrammarNodeKind::object;
    if (props != nullptr) {
      if (!props->is_object()) bad(where, "'properties' must be an object");
      for (auto it = props->begin(); it != props->end(); ++it) {
        GrammarProperty p;
        p.key = Json(it.key()).dump();
        p.node = compile(it.value(), child(child(where, "properties"), it.key()), depth + 1);
        for (const std::string& r : required) p.required = p.required || r == it.key();
        n.properties.push_back(std::move(p));
      }
    }
    auto extra = s.find("additionalProperties");
    if (extra == s.end()) {
      n.extra = props == nullptr ? any() : -1;
    } else if (extra->is_boolean()) {
      n.extra = extra->get<bool>() ? any() : -1;
    } else {
      n.extra = compile(*extra, child(where, "additionalProperties"), depth + 1);
    }
    return g_->add(std::move(n));
  }

  // allOf: the object parts merged (properties in order of appearance, required united);
  // without object parts, the first part alone.
  int32_t compile_all_of(const Json& s, const Json& parts, const std::string& where, int depth) {
    if (!parts.is_array()) bad(where, "'allOf' must be an array");
    Json props = Json::object();
    std::vector<std::string> required = required_names(s, where);
    bool object = false;
    Json merged_extra;  // the last additionalProperties seen
    auto take = [&](const Json& part) {
      if (!part.is_object()) return;
      if (auto p = part.find("properties"); p != part.end() && p->is_object()) {
        object = true;
        for (auto it = p->begin(); it != p->end(); ++it) props[it.key()] = it.value();
      }
      if (part.value("type", Json()) == "object") object = true;
      for (const std::string& r : required_names(part, where)) required.push_back(r);
      if (auto e = part.find("additionalProperties"); e != part.end()) merged_extra = *e;
    };
    for (const Json& part : parts) take(deref(part));
    take(s);
    if (!object) {
      if (parts.empty()) return any();
      return compile(parts[0], child(child(where, "allOf"), "0"), depth + 1);
    }
    Json holder = Json::object();
    if (!merged_extra.is_null()) holder["additionalProperties"] = merged_extra;
    // Subschemas of merged properties keep their own $ref pointers, which resolve from the root.
    return compile_object(holder, &props, required, child(where, "allOf"), depth);
  }

  const Json& root_;
  std::shared_ptr<Grammar> g_ = std::make_shared<Grammar>();
  int32_t any_ = -1;
  std::map<std::string, int32_t> by_pointer_;
  std::vector<std::tuple<int32_t, std::string, int>> pending_;
};

}  // namespace

std::shared_ptr<const Grammar> json_grammar() {
  // Ollama's generic JSON grammar: the document is an object or an array.
  static const std::shared_ptr<const Grammar> g =
      json_schema_grammar(R"({"anyOf":[{"type":"object"},{"type":"array"}]})");
  return g;
}

std::shared_ptr<const Grammar> json_schema_grammar(std::string_view schema_json) {
  Json schema = Json::parse(schema_json, nullptr, false);
  if (schema.is_discarded()) bad("", "the schema is not valid JSON");
  Compiler c(schema);
  return c.run();
}

std::shared_ptr<const Grammar> grammar_for_format(std::string_view format) {
  if (format.empty()) return nullptr;
  if (format == "json") return json_grammar();
  return json_schema_grammar(format);
}

}  // namespace hearth::sample
