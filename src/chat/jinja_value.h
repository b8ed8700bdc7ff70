#pragma once
// The value model of the Jinja interpreter: Python's data types as templates see them (None, bool,
// int, float, str, list, tuple, dict with insertion order, namespace, callables) plus Jinja's
// Undefined. Lists and dicts are shared, immutable once built, except a namespace() whose
// attributes `set ns.x = ...` changes in place (the one mutation Jinja allows).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::chat::jinja {

class Value;
struct Dict;
struct CallArgs;
class Interpreter;

using List = std::vector<Value>;
// A builtin or a macro: positional and keyword arguments in, a value out.
using Function = std::function<Value(Interpreter&, CallArgs&)>;

enum class Kind { undefined, none, boolean, integer, floating, string, list, dict, function };

class Value {
 public:
  Value() = default;  // Undefined
  static Value undefined(std::string hint = {});
  static Value none();
  Value(bool b);
  Value(int64_t i);
  Value(int i) : Value(static_cast<int64_t>(i)) {}
  Value(double d);
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  // markupsafe's Markup: a string marked safe (`|safe`); concatenating a plain string to it
  // HTML-escapes the plain one, as Python does even without autoescaping.
  static Value markup(std::string s);
  static Value list(List items, bool tuple = false);
  // What Jinja's map/select/... filters return: iterable once, no len(), not JSON, always true.
  static Value generator(List items);
  static Value dict(std::shared_ptr<Dict> d);
  static Value function(std::string name, Function fn);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::undefined; }
  bool is_none() const { return kind_ == Kind::none; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_float() const { return kind_ == Kind::floating; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::floating; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_markup() const { return kind_ == Kind::string && safe_; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_tuple() const { return kind_ == Kind::list && tuple_; }
  bool is_generator() const { return kind_ == Kind::list && generator_; }
  bool is_dict() const { return kind_ == Kind::dict; }
  bool is_function() const { return kind_ == Kind::function; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_double() const { return kind_ == Kind::integer ? static_cast<double>(i_) : d_; }
  const std::string& as_string() const { return *s_; }
  const List& as_list() const { return *list_; }
  const std::shared_ptr<List>& list_ptr() const { return list_; }
  Dict& as_dict() const { return *dict_; }
  const std::shared_ptr<Dict>& dict_ptr() const { return dict_; }
  const Function& as_function() const { return *fn_; }
  const std::string& name() const { return *s_; }  // undefined: the missing name; function: its name

  // Python truthiness; Undefined is false.
  bool truthy() const;
  // Python's str() (what {{ x }} prints) and repr().
  std::string str() const;
  std::string repr() const;
  // The Python type name used in error messages ("str", "int", "dict", ...).
  std::string type_name() const;
  // json.dumps(ensure_ascii=False) with HF's tojson arguments; throws on a value JSON cannot hold.
  std::string to_json(int indent, bool sort_keys) const;
  nlohmann::ordered_json to_json_value() const;

  bool equals(const Value& other) const;

 private:
  Kind kind_ = Kind::undefined;
  bool b_ = false;
  bool tuple_ = false;
  bool generator_ = false;
  bool safe_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::shared_ptr<const std::string> s_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<const Function> fn_;
};

// Insertion-ordered string-keyed map (Python dicts keep insertion order; tojson relies on it).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;

  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kw(std::string_view name) const;
  // Positional i, else keyword `name`, else nullptr.
  const Value* get(size_t i, std::string_view name) const;
};

// markupsafe.escape for a plain string: & < > " ' as entities.
std::string html_escape(std::string_view s);
// Python float repr (shortest round-trip form: 1.0, 0.1, 1e-05, inf).
std::string python_float_repr(double d);
// Code points of a UTF-8 string (invalid bytes count as one each).
std::vector<std::string_view> utf8_chars(std::string_view s);

}  // namespace hearth::chat::jinja
