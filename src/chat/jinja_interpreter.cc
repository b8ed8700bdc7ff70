#include "chat/jinja_interpreter.h"

#include <cmath>

#include "chat/jinja_parser.h"

namespace hearth::chat::jinja {

Value* Interpreter::Frame::find(const std::string& name) {
  for (Frame* f = this; f; f = f->parent)
    for (auto& kv : f->vars)
      if (kv.first == name) return &kv.second;
  return nullptr;
}

void Interpreter::Frame::set(const std::string& name, Value v) {
  for (auto& kv : vars) {
    if (kv.first == name) {
      kv.second = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

void Interpreter::fail(const std::string& message) const {
  throw TemplateError(ErrorCode::invalid_argument, "chat template: line " + std::to_string(line_) + ", column " +
                                                       std::to_string(col_) + ": " + message);
}

void Interpreter::step() {
  if (++steps_ > opts_.limits.max_steps)
    throw TemplateError(ErrorCode::resource_exhausted, "chat template: too many steps (limit " +
                                                           std::to_string(opts_.limits.max_steps) + ")");
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > opts_.limits.max_output_bytes)
    throw TemplateError(ErrorCode::resource_exhausted,
                        "chat template: output exceeds " + std::to_string(opts_.limits.max_output_bytes) + " bytes");
}

void Interpreter::emit(const std::string& s) {
  total_out_ += s.size();
  check_size(total_out_);
  out_->append(s);
}

std::string Interpreter::render(const TemplateAst& ast, const nlohmann::ordered_json& context) {
  Frame root;
  if (context.is_object())
    for (auto it = context.begin(); it != context.end(); ++it) root.set(it.key(), Value::from_json(it.value()));
  root_ = &root;
  std::string out;
  out_ = &out;
  exec_body(ast.body, root);
  return out;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, Frame& frame) {
  for (const auto& n : body) {
    Flow f = exec(*n, frame);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

std::string Interpreter::capture(const Body& body, Frame& frame) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    exec_body(body, frame);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buf;
}

Interpreter::Flow Interpreter::exec(const Node& n, Frame& frame) {
  step();
  switch (n.type) {
    case Node::Type::text: emit(n.text); return Flow::normal;
    case Node::Type::output: {
      set_pos(n.line, n.col);
      Value v = eval(*n.expr, frame);
      emit(v.str());
      return Flow::normal;
    }
    case Node::Type::if_:
      for (const auto& [cond, body] : n.branches) {
        if (!cond || eval(*cond, frame).truthy()) return exec_body(body, frame);
      }
      return Flow::normal;
    case Node::Type::for_: {
      bool broke = false;
      exec_for(n, frame, broke);
      return Flow::normal;
    }
    case Node::Type::set: exec_set(n, frame); return Flow::normal;
    case Node::Type::set_block: {
      Value v(capture(n.body, frame));
      for (const auto& [name, args] : n.filters) {
        CallArgs a;
        for (const auto& e : args) a.positional.push_back(eval(*e, frame));
        v = apply_filter(*this, name, v, a);
      }
      frame.set(n.text, std::move(v));
      return Flow::normal;
    }
    case Node::Type::macro: {
      const Node* macro = &n;
      frame.set(n.text, Value::function(n.text, [macro](Interpreter& in, CallArgs& args) {
                  return in.call_macro(*macro, args, nullptr);
                }));
      return Flow::normal;
    }
    case Node::Type::call_block: {
      const Node* block = &n;
      Frame* outer = &frame;
      // `caller` may be stashed (in a namespace) and called after this block's frame is gone.
      auto alive = std::make_shared<bool>(true);
      Value caller = Value::function("caller", [block, outer, alive](Interpreter& in, CallArgs& args) {
        if (!*alive) in.fail("caller() called outside its call block");
        Frame f;
        f.parent = outer;
        for (size_t i = 0; i < block->params.size(); ++i) {
          const auto& [pname, def] = block->params[i];
          const Value* given = args.get(i, pname);
          f.set(pname, given ? *given : def ? in.eval(*def, *outer) : Value::undefined("'" + pname + "' is undefined"));
        }
        return Value(in.capture(block->body, f));
      });
      const Expr& call_expr = *n.expr;
      set_pos(call_expr.line, call_expr.col);
      Value fn = eval(*call_expr.args[0], frame);
      CallArgs args;
      for (size_t i = 1; i < call_expr.args.size(); ++i) args.positional.push_back(eval(*call_expr.args[i], frame));
      for (const auto& [k, e] : call_expr.kwargs) args.keyword.emplace_back(k, eval(*e, frame));
      args.keyword.emplace_back("caller", caller);
      struct Expire {
        std::shared_ptr<bool> alive;
        ~Expire() { *alive = false; }
      } expire{alive};
      emit(call(fn, args).str());
      return Flow::normal;
    }
    case Node::Type::filter_block: {
      Value v(capture(n.body, frame));
      for (const auto& [name, args] : n.filters) {
        CallArgs a;
        for (const auto& e : args) a.positional.push_back(eval(*e, frame));
        v = apply_filter(*this, name, v, a);
      }
      emit(v.str());
      return Flow::normal;
    }
    case Node::Type::break_: return Flow::break_;
    case Node::Type::continue_: return Flow::continue_;
  }
  return Flow::normal;
}

void Interpreter::exec_for(const Node& n, Frame& frame, bool& broke) {
  set_pos(n.line, n.col);
  Value seq = eval(*n.expr, frame);
  std::vector<Value> items = iterate(*this, seq);
  auto bind = [&](Frame& f, const Value& item) {
    if (n.targets.size() == 1) {
      f.set(n.targets[0], item);
      return;
    }
    std::vector<Value> parts = iterate(*this, item);
    if (parts.size() != n.targets.size())
      fail("cannot unpack " + std::to_string(parts.size()) + " values into " + std::to_string(n.targets.size()));
    for (size_t i = 0; i < parts.size(); ++i) f.set(n.targets[i], parts[i]);
  };
  if (n.cond) {
    std::vector<Value> kept;
    for (const auto& item : items) {
      step();
      Frame f;
      f.parent = &frame;
      bind(f, item);
      if (eval(*n.cond, f).truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    exec_body(n.else_body, frame);
    return;
  }
  const int64_t len = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < len; ++i) {
    step();
    Frame f;
    f.parent = &frame;
    bind(f, items[static_cast<size_t>(i)]);
    auto loop = std::make_shared<Dict>();
    loop->set("index", Value(i + 1));
    loop->set("index0", Value(i));
    loop->set("revindex", Value(len - i));
    loop->set("revindex0", Value(len - i - 1));
    loop->set("first", Value(i == 0));
    loop->set("last", Value(i == len - 1));
    loop->set("length", Value(len));
    loop->set("depth", Value(int64_t{1}));
    loop->set("depth0", Value(int64_t{0}));
    loop->set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
    loop->set("nextitem", i + 1 < len ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item"));
    loop->set("cycle", Value::function("cycle", [i](Interpreter& in, CallArgs& a) {
                if (a.positional.empty()) in.fail("no items for cycling given");
                return a.positional[static_cast<size_t>(i) % a.positional.size()];
              }));
    f.set("loop", Value::dict(loop));
    Flow flow = exec_body(n.body, f);
    if (flow == Flow::break_) {
      broke = true;
      break;
    }
  }
}

void Interpreter::exec_set(const Node& n, Frame& frame) {
  set_pos(n.line, n.col);
  Value v = eval(*n.expr, frame);
  if (!n.attr.empty()) {
    Value* target = frame.find(n.text);
    if (!target || !target->is_dict() || !target->as_dict().is_namespace)
      fail("cannot assign attribute on non-namespace object");
    target->as_dict().set(n.attr, std::move(v));
    return;
  }
  if (!n.targets.empty()) {
    std::vector<Value> parts = iterate(*this, v);
    if (parts.size() != n.targets.size())
      fail("cannot unpack " + std::to_string(parts.size()) + " values into " + std::to_string(n.targets.size()));
    for (size_t i = 0; i < parts.size(); ++i) frame.set(n.targets[i], parts[i]);
    return;
  }
  frame.set(n.text, std::move(v));
}

Value Interpreter::call_macro(const Node& macro, CallArgs& args, const Value*) {
  if (++call_depth_ > opts_.limits.max_call_depth) {
    --call_depth_;
    throw TemplateError(ErrorCode::resource_exhausted, "chat template: macro calls nested too deeply");
  }
  struct Guard {
    int& d;
    ~Guard() { --d; }
  } guard{call_depth_};
  Frame f;
  f.parent = root_;
  if (args.positional.size() > macro.params.size())
    fail("macro '" + macro.text + "' takes not more than " + std::to_string(macro.params.size()) + " argument(s)");
  for (size_t i = 0; i < macro.params.size(); ++i) {
    const auto& [pname, def] = macro.params[i];
    const Value* given = args.get(i, pname);
    if (given) f.set(pname, *given);
    else if (def) f.set(pname, eval(*def, f));
    else f.set(pname, Value::undefined("'" + pname + "' is undefined"));
  }
  if (const Value* c = args.kw("caller")) f.set("caller", *c);
  return Value(capture(macro.body, f));
}

Value Interpreter::call(const Value& fn, CallArgs& args) {
  step();
  if (fn.is_undefined()) fail(fn.name().empty() ? "undefined value is not callable" : fn.name());
  if (!fn.is_function()) fail("'" + fn.type_name() + "' object is not callable");
  return fn.as_function()(*this, args);
}

Value Interpreter::lookup(const std::string& name, Frame& frame) {
  if (Value* v = frame.find(name)) return *v;
  Value g = builtin_global(name);
  if (!g.is_undefined()) return g;
  return Value::undefined("'" + name + "' is undefined");
}

static int64_t norm_index(int64_t i, int64_t n) { return i < 0 ? i + n : i; }

Value Interpreter::subscript(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail(obj.name().empty() ? "undefined value has no items" : obj.name());
  if (obj.is_dict()) {
    if (key.is_string()) {
      if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
      return get_attribute(*this, obj, key.as_string());
    }
    return Value::undefined("'dict object' has no attribute " + key.repr());
  }
  if (obj.is_generator()) fail("'generator' object is not subscriptable");
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t k = key.is_bool() ? key.as_bool() : key.as_int();
    if (obj.is_list()) {
      int64_t n = static_cast<int64_t>(obj.as_list().size());
      int64_t i = norm_index(k, n);
      if (i < 0 || i >= n) return Value::undefined(obj.type_name() + " object has no element " + std::to_string(k));
      return obj.as_list()[static_cast<size_t>(i)];
    }
    auto chars = utf8_chars(obj.as_string());
    int64_t n = static_cast<int64_t>(chars.size());
    int64_t i = norm_index(k, n);
    if (i < 0 || i >= n) return Value::undefined("str object has no element " + std::to_string(k));
    return Value(std::string(chars[static_cast<size_t>(i)]));
  }
  if (key.is_string()) return get_attribute(*this, obj, key.as_string());
  return Value::undefined("'" + obj.type_name() + " object' has no attribute " + key.repr());
}

Value Interpreter::slice(const Value& obj, const Value* start, const Value* stop, const Value* stepv) {
  auto as_opt = [&](const Value* v) -> std::optional<int64_t> {
    if (!v || v->is_none()) return std::nullopt;
    if (!v->is_int()) fail("slice indices must be integers or None");
    return v->as_int();
  };
  std::optional<int64_t> a = as_opt(start), b = as_opt(stop), s = as_opt(stepv);
  int64_t st = s.value_or(1);
  if (st == 0) fail("slice step cannot be zero");
  auto pick = [&](int64_t n) {
    std::vector<int64_t> idx;
    auto clamp = [&](std::optional<int64_t> v, int64_t def_pos, int64_t def_neg) -> int64_t {
      if (!v) return st > 0 ? def_pos : def_neg;
      int64_t x = *v < 0 ? *v + n : *v;
      if (st > 0) return std::clamp<int64_t>(x, 0, n);
      return std::clamp<int64_t>(x, -1, n - 1);
    };
    int64_t lo = clamp(a, 0, n - 1), hi = clamp(b, n, -1);
    if (st > 0)
      for (int64_t i = lo; i < hi; i += st) idx.push_back(i);
    else
      for (int64_t i = lo; i > hi; i += st) idx.push_back(i);
    return idx;
  };
  if (obj.is_generator()) fail("'generator' object is not subscriptable");
  if (obj.is_list()) {
    const List& l = obj.as_list();
    List out;
    for (int64_t i : pick(static_cast<int64_t>(l.size()))) out.push_back(l[static_cast<size_t>(i)]);
    return Value::list(std::move(out), obj.is_tuple());
  }
  if (obj.is_string()) {
    auto chars = utf8_chars(obj.as_string());
    std::string out;
    for (int64_t i : pick(static_cast<int64_t>(chars.size()))) out += chars[static_cast<size_t>(i)];
    return Value(std::move(out));
  }
  if (obj.is_undefined()) fail(obj.name().empty() ? "undefined value has no items" : obj.name());
  fail("'" + obj.type_name() + "' object is not subscriptable");
}

static bool checked(bool overflow, Interpreter& in) {
  if (overflow) in.fail("integer overflow");
  return true;
}

Value Interpreter::eval_binary(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = a.str();
    std::string t = b.str();
    check_size(s.size() + t.size());
    return Value(s + t);
  }
  if (a.is_undefined()) fail(a.name().empty() ? "undefined value" : a.name());
  if (b.is_undefined()) fail(b.name().empty() ? "undefined value" : b.name());
  auto num = [](const Value& v) { return v.is_number() || v.is_bool(); };
  auto ival = [](const Value& v) { return v.is_bool() ? static_cast<int64_t>(v.as_bool()) : v.as_int(); };
  auto dval = [](const Value& v) { return v.is_bool() ? static_cast<double>(v.as_bool()) : v.as_double(); };
  auto unsupported = [&]() {
    fail("unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
  };
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      check_size(a.as_string().size() + b.as_string().size());
      if (a.is_markup() || b.is_markup()) {
        std::string x = a.is_markup() ? a.as_string() : html_escape(a.as_string());
        std::string y = b.is_markup() ? b.as_string() : html_escape(b.as_string());
        check_size(x.size() + y.size());
        return Value::markup(x + y);
      }
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_string()) fail("can only concatenate str (not \"" + b.type_name() + "\") to str");
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && !a.is_generator() && !b.is_generator()) {
      check_size((a.as_list().size() + b.as_list().size()) * sizeof(Value));
      List l = a.as_list();
      l.insert(l.end(), b.as_list().begin(), b.as_list().end());
      return Value::list(std::move(l), a.is_tuple());
    }
    if (a.is_list()) fail("can only concatenate " + a.type_name() + " (not \"" + b.type_name() + "\") to " + a.type_name());
  }
  if (op == "*") {
    const Value* seq = a.is_string() || a.is_list() ? &a : b.is_string() || b.is_list() ? &b : nullptr;
    const Value* cnt = seq == &a ? &b : &a;
    if (seq && (cnt->is_int() || cnt->is_bool())) {
      int64_t n = std::max<int64_t>(0, ival(*cnt));
      if (seq->is_string()) {
        size_t unit = seq->as_string().size();
        if (unit && static_cast<uint64_t>(n) > opts_.limits.max_output_bytes / unit) check_size(SIZE_MAX);
        std::string out;
        for (int64_t i = 0; i < n; ++i) out += seq->as_string();
        return seq->is_markup() ? Value::markup(std::move(out)) : Value(std::move(out));
      }
      size_t unit = seq->as_list().size() * sizeof(Value);
      if (unit && static_cast<uint64_t>(n) > opts_.limits.max_output_bytes / unit) check_size(SIZE_MAX);
      List out;
      for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq->as_list().begin(), seq->as_list().end());
      return Value::list(std::move(out), seq->is_tuple());
    }
  }
  if (!num(a) || !num(b)) unsupported();
  bool floating = a.is_float() || b.is_float();
  if (op == "/") {
    if (dval(b) == 0) fail("division by zero");
    return Value(dval(a) / dval(b));
  }
  if (floating) {
    double x = dval(a), y = dval(b);
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "**") return Value(std::pow(x, y));
    if (y == 0) fail("float division by zero");
    if (op == "//") return Value(std::floor(x / y));
    if (op == "%") {
      double r = std::fmod(x, y);
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Value(r);
    }
    unsupported();
  }
  int64_t x = ival(a), y = ival(b), r = 0;
  if (op == "+") { checked(__builtin_add_overflow(x, y, &r), *this); return Value(r); }
  if (op == "-") { checked(__builtin_sub_overflow(x, y, &r), *this); return Value(r); }
  if (op == "*") { checked(__builtin_mul_overflow(x, y, &r), *this); return Value(r); }
  if (op == "**") {
    if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
    r = 1;
    for (int64_t i = 0; i < y; ++i) {
      checked(__builtin_mul_overflow(r, x, &r), *this);
      if (r == 0 || r == 1) break;
    }
    return Value(r);
  }
  if (y == 0) fail("integer division or modulo by zero");
  if (x == INT64_MIN && y == -1) fail("integer overflow");
  int64_t q = x / y, m = x % y;
  if (m != 0 && ((m < 0) != (y < 0))) {
    --q;
    m += y;
  }
  if (op == "//") return Value(q);
  if (op == "%") return Value(m);
  fail("unsupported operator " + op);
}

bool Interpreter::compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return a.equals(b);
  if (op == "!=") return !a.equals(b);
  if (op == "in" || op == "notin") {
    bool found = false;
    if (b.is_string()) {
      if (!a.is_string()) fail("'in <string>' requires string as left operand, not " + a.type_name());
      found = b.as_string().find(a.as_string()) != std::string::npos;
    } else if (b.is_list()) {
      for (const auto& e : b.as_list())
        if (e.equals(a)) { found = true; break; }
    } else if (b.is_dict()) {
      found = a.is_string() && b.as_dict().find(a.as_string()) != nullptr;
    } else if (b.is_undefined()) {
      found = false;
    } else {
      fail("argument of type '" + b.type_name() + "' is not iterable");
    }
    return op == "in" ? found : !found;
  }
  if (op == "<") return less_than(*this, a, b);
  if (op == ">") return less_than(*this, b, a);
  if (op == "<=") return !less_than(*this, b, a);
  if (op == ">=") return !less_than(*this, a, b);
  fail("unknown operator " + op);
}

Value Interpreter::eval(const Expr& e, Frame& frame) {
  switch (e.type) {
    case Expr::Type::literal: return e.value;
    case Expr::Type::name: return lookup(e.name, frame);
    case Expr::Type::list:
    case Expr::Type::tuple: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a, frame));
      return Value::list(std::move(items), e.type == Expr::Type::tuple);
    }
    case Expr::Type::dict: {
      auto d = std::make_shared<Dict>();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i], frame);
        set_pos(e.line, e.col);
        if (!k.is_string()) fail("dict keys must be strings here");
        d->set(k.as_string(), eval(*e.args[i + 1], frame));
      }
      return Value::dict(std::move(d));
    }
    case Expr::Type::getattr: {
      Value obj = eval(*e.args[0], frame);
      set_pos(e.line, e.col);
      if (obj.is_undefined()) fail(obj.name().empty() ? "undefined value has no attributes" : obj.name());
      return get_attribute(*this, obj, e.name);
    }
    case Expr::Type::getitem: {
      Value obj = eval(*e.args[0], frame);
      Value key = eval(*e.args[1], frame);
      set_pos(e.line, e.col);
      return subscript(obj, key);
    }
    case Expr::Type::slice: {
      Value obj = eval(*e.args[0], frame);
      Value parts[3];
      for (int i = 0; i < 3; ++i)
        if (e.args[static_cast<size_t>(i) + 1]) parts[i] = eval(*e.args[static_cast<size_t>(i) + 1], frame);
      set_pos(e.line, e.col);
      return slice(obj, e.args[1] ? &parts[0] : nullptr, e.args[2] ? &parts[1] : nullptr,
                   e.args[3] ? &parts[2] : nullptr);
    }
    case Expr::Type::call: {
      Value fn = eval(*e.args[0], frame);
      CallArgs args;
      for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
      for (const auto& [k, a] : e.kwargs) args.keyword.emplace_back(k, eval(*a, frame));
      set_pos(e.line, e.col);
      return call(fn, args);
    }
    case Expr::Type::filter:
    case Expr::Type::test: {
      Value v = eval(*e.args[0], frame);
      CallArgs args;
      for (size_t i = 1; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i], frame));
      for (const auto& [k, a] : e.kwargs) args.keyword.emplace_back(k, eval(*a, frame));
      set_pos(e.line, e.col);
      step();
      if (e.type == Expr::Type::filter) return apply_filter(*this, e.name, v, args);
      return Value(apply_test(*this, e.name, v, args) != e.negated);
    }
    case Expr::Type::not_: return Value(!eval(*e.args[0], frame).truthy());
    case Expr::Type::neg:
    case Expr::Type::pos: {
      Value v = eval(*e.args[0], frame);
      set_pos(e.line, e.col);
      if (v.is_int()) {
        if (e.type == Expr::Type::pos) return v;
        if (v.as_int() == INT64_MIN) fail("integer overflow");
        return Value(-v.as_int());
      }
      if (v.is_float()) return Value(e.type == Expr::Type::neg ? -v.as_double() : v.as_double());
      if (v.is_bool()) return Value(static_cast<int64_t>(e.type == Expr::Type::neg ? -v.as_bool() : v.as_bool()));
      fail("bad operand type for unary " + std::string(e.type == Expr::Type::neg ? "-" : "+") + ": '" +
           v.type_name() + "'");
    }
    case Expr::Type::binary: {
      Value a = eval(*e.args[0], frame);
      Value b = eval(*e.args[1], frame);
      set_pos(e.line, e.col);
      return eval_binary(e.name, a, b);
    }
    case Expr::Type::compare: {
      Value left = eval(*e.args[0], frame);
      for (size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], frame);
        set_pos(e.line, e.col);
        if (!compare(e.ops[i], left, right)) return Value(false);
        left = std::move(right);
      }
      return Value(true);
    }
    case Expr::Type::and_: {
      Value a = eval(*e.args[0], frame);
      if (!a.truthy()) return a;
      return eval(*e.args[1], frame);
    }
    case Expr::Type::or_: {
      Value a = eval(*e.args[0], frame);
      if (a.truthy()) return a;
      return eval(*e.args[1], frame);
    }
    case Expr::Type::cond: {
      if (eval(*e.args[0], frame).truthy()) return eval(*e.args[1], frame);
      if (e.args.size() > 2) return eval(*e.args[2], frame);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
    }
  }
  return Value();
}

}  // namespace hearth::chat::jinja

namespace hearth::chat {

JinjaTemplate JinjaTemplate::parse(std::string_view source) {
  JinjaTemplate t;
  t.ast_ = jinja::parse_template(source);
  return t;
}

std::string JinjaTemplate::render(const nlohmann::ordered_json& context, const JinjaRenderOptions& options) const {
  jinja::Interpreter in(options);
  return in.render(*ast_, context);
}

}  // namespace hearth::chat
