#pragma once
// Evaluates a TemplateAst against a context (internal to the Jinja interpreter). Builtin filters,
// tests, methods and globals live in jinja_builtins.cc.

#include <string>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_template.h"

namespace hearth::chat::jinja {

class Interpreter {
 public:
  explicit Interpreter(const JinjaRenderOptions& options) : opts_(options) {}

  std::string render(const TemplateAst& ast, const nlohmann::ordered_json& context);

  // For builtins.
  [[noreturn]] void fail(const std::string& message) const;
  void step();
  // Throws when a string or list of `bytes` would exceed the output limit.
  void check_size(size_t bytes) const;
  Value call(const Value& fn, CallArgs& args);
  const JinjaRenderOptions& options() const { return opts_; }

 private:
  struct Frame {
    std::vector<std::pair<std::string, Value>> vars;
    Frame* parent = nullptr;
    Value* find(const std::string& name);
    void set(const std::string& name, Value v);
  };
  enum class Flow { normal, break_, continue_ };

  Flow exec_body(const Body& body, Frame& frame);
  Flow exec(const Node& node, Frame& frame);
  void exec_for(const Node& node, Frame& frame, bool& broke);
  void exec_set(const Node& node, Frame& frame);
  Value eval(const Expr& e, Frame& frame);
  Value eval_binary(const std::string& op, const Value& a, const Value& b);
  bool compare(const std::string& op, const Value& a, const Value& b);
  Value lookup(const std::string& name, Frame& frame);
  Value subscript(const Value& obj, const Value& key);
  Value slice(const Value& obj, const Value* start, const Value* stop, const Value* step);
  Value call_macro(const Node& macro, CallArgs& args, const Value* caller);
  std::string capture(const Body& body, Frame& frame);
  void emit(const std::string& s);
  void set_pos(int line, int col) {
    line_ = line;
    col_ = col;
  }

  const JinjaRenderOptions& opts_;
  Frame* root_ = nullptr;
  std::string* out_ = nullptr;
  size_t total_out_ = 0;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int line_ = 0, col_ = 0;
};

// Builtins (jinja_builtins.cc). `v` is the value filtered or tested.
Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
bool has_test(const std::string& name);
// obj.name as Jinja resolves it (methods of str/dict/list, dict keys); Undefined when missing.
Value get_attribute(Interpreter& in, const Value& obj, const std::string& name);
// A global function (range, namespace, dict, raise_exception, strftime_now) or Undefined.
Value builtin_global(const std::string& name);
// Python's sequence/dict iteration: list items, dict keys, string characters.
std::vector<Value> iterate(Interpreter& in, const Value& v);
// Python's <, for sorting and comparisons; fails on unorderable types.
bool less_than(Interpreter& in, const Value& a, const Value& b);

}  // namespace hearth::chat::jinja
