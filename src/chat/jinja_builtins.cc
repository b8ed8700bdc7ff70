// Jinja's builtin filters, tests, globals and the Python str/dict/list methods templates call.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

#include "chat/jinja_interpreter.h"

namespace hearth::chat::jinja {
namespace {

const char* const kPyWhitespace = " \t\n\r\x0b\x0c";

std::string strip(const std::string& s, const std::string& chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  if (right)
    while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  return s.substr(b, e - b);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string replace_all(Interpreter& in, const std::string& s, const std::string& from, const std::string& to,
                        int64_t count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` between every character (and at both ends).
    auto chars = utf8_chars(s);
    int64_t done = 0;
    for (auto c : chars) {
      if (count < 0 || done < count) { out += to; ++done; }
      out += c;
      in.check_size(out.size());
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t f = s.find(from, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += to;
    in.check_size(out.size());
    pos = f + from.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

List split(const std::string& s, const Value* sep, int64_t maxsplit, bool from_right) {
  List out;
  if (!sep || sep->is_none()) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::strchr(kPyWhitespace, s[i]) && s[i]) ++i;
      if (i >= s.size()) break;
      size_t j = i;
      while (j < s.size() && !(std::strchr(kPyWhitespace, s[j]) && s[j])) ++j;
      words.push_back(s.substr(i, j - i));
      i = j;
    }
    if (maxsplit >= 0 && static_cast<int64_t>(words.size()) > maxsplit + 1) {
      // Rare: rejoin the tail as Python leaves it (approximate: single spaces).
      std::string tail;
      for (size_t k = static_cast<size_t>(maxsplit); k < words.size(); ++k) tail += (tail.empty() ? "" : " ") + words[k];
      words.resize(static_cast<size_t>(maxsplit));
      words.push_back(tail);
    }
    for (auto& w : words) out.emplace_back(std::move(w));
    return out;
  }
  const std::string& d = sep->as_string();
  if (from_right) {
    std::vector<std::string> parts;
    size_t end = s.size();
    int64_t done = 0;
    while (maxsplit < 0 || done < maxsplit) {
      if (end < d.size()) break;
      size_t f = s.rfind(d, end - d.size());
      if (f == std::string::npos) break;
      parts.push_back(s.substr(f + d.size(), end - f - d.size()));
      end = f;
      ++done;
    }
    parts.push_back(s.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    for (auto& p : parts) out.emplace_back(std::move(p));
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (maxsplit < 0 || done < maxsplit) {
    size_t f = s.find(d, pos);
    if (f == std::string::npos) break;
    out.emplace_back(s.substr(pos, f - pos));
    pos = f + d.size();
    ++done;
  }
  out.emplace_back(s.substr(pos));
  return out;
}

std::string need_str(Interpreter& in, const Value* v, const char* what) {
  if (!v || !v->is_string()) in.fail(std::string(what) + " must be a string");
  return v->as_string();
}

int64_t need_int(Interpreter& in, const Value* v, int64_t def) {
  if (!v || v->is_none()) return def;
  if (v->is_bool()) return v->as_bool();
  if (!v->is_int()) in.fail("an integer is required, not '" + v->type_name() + "'");
  return v->as_int();
}

std::string join(Interpreter& in, const List& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i].str();
    in.check_size(out.size());
  }
  return out;
}

Value bound(std::string name, Function fn) { return Value::function(std::move(name), std::move(fn)); }

Value string_method(Interpreter& in, const Value& obj, const std::string& name) {
  const std::string s = obj.as_string();
  auto chars_arg = [&in](CallArgs& a) -> std::string {
    const Value* c = a.get(0, "chars");
    if (!c || c->is_none()) return kPyWhitespace;
    return need_str(in, c, "strip argument");
  };
  if (name == "strip") return bound(name, [s, chars_arg](Interpreter&, CallArgs& a) { return Value(strip(s, chars_arg(a), true, true)); });
  if (name == "lstrip") return bound(name, [s, chars_arg](Interpreter&, CallArgs& a) { return Value(strip(s, chars_arg(a), true, false)); });
  if (name == "rstrip") return bound(name, [s, chars_arg](Interpreter&, CallArgs& a) { return Value(strip(s, chars_arg(a), false, true)); });
  if (name == "upper") return bound(name, [s](Interpreter&, CallArgs&) { return Value(upper(s)); });
  if (name == "lower") return bound(name, [s](Interpreter&, CallArgs&) { return Value(lower(s)); });
  if (name == "capitalize")
    return bound(name, [s](Interpreter&, CallArgs&) {
      std::string r = lower(s);
      if (!r.empty()) r[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(r[0])));
      return Value(r);
    });
  if (name == "title")
    return bound(name, [s](Interpreter&, CallArgs&) {
      std::string r;
      bool prev_alpha = false;
      for (char c : s) {
        bool alpha = std::isalpha(static_cast<unsigned char>(c));
        r += static_cast<char>(alpha ? (prev_alpha ? std::tolower(static_cast<unsigned char>(c)) : std::toupper(static_cast<unsigned char>(c))) : c);
        prev_alpha = alpha;
      }
      return Value(r);
    });
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return bound(name, [s, start](Interpreter& in, CallArgs& a) {
      const Value* p = a.get(0, "prefix");
      if (!p) in.fail("startswith/endswith takes one argument");
      List options = p->is_list() ? p->as_list() : List{*p};
      for (const auto& o : options) {
        std::string x = need_str(in, &o, "prefix");
        if (x.size() <= s.size() && (start ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0))
          return Value(true);
      }
      return Value(false);
    });
  }
  if (name == "split" || name == "rsplit") {
    bool right = name == "rsplit";
    return bound(name, [s, right](Interpreter& in, CallArgs& a) {
      const Value* sep = a.get(0, "sep");
      if (sep && !sep->is_none() && (!sep->is_string() || sep->as_string().empty())) in.fail("empty separator");
      return Value::list(split(s, sep, need_int(in, a.get(1, "maxsplit"), -1), right));
    });
  }
  if (name == "splitlines")
    return bound(name, [s](Interpreter&, CallArgs&) {
      List out;
      size_t pos = 0;
      while (pos < s.size()) {
        size_t f = s.find_first_of("\r\n", pos);
        if (f == std::string::npos) { out.emplace_back(s.substr(pos)); break; }
        out.emplace_back(s.substr(pos, f - pos));
        pos = f + ((s[f] == '\r' && f + 1 < s.size() && s[f + 1] == '\n') ? 2 : 1);
      }
      return Value::list(std::move(out));
    });
  if (name == "replace")
    return bound(name, [s](Interpreter& in, CallArgs& a) {
      return Value(replace_all(in, s, need_str(in, a.get(0, "old"), "old"), need_str(in, a.get(1, "new"), "new"),
                               need_int(in, a.get(2, "count"), -1)));
    });
  if (name == "find" || name == "rfind" || name == "count") {
    return bound(name, [s, name](Interpreter& in, CallArgs& a) {
      std::string sub = need_str(in, a.get(0, "sub"), "argument");
      if (name == "count") {
        if (sub.empty()) return Value(static_cast<int64_t>(utf8_chars(s).size() + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value(n);
      }
      size_t p = name == "find" ? s.find(sub) : s.rfind(sub);
      if (p == std::string::npos) return Value(int64_t{-1});
      return Value(static_cast<int64_t>(utf8_chars(s.substr(0, p)).size()));
    });
  }
  if (name == "join")
    return bound(name, [s](Interpreter& in, CallArgs& a) {
      const Value* it = a.get(0, "iterable");
      if (!it) in.fail("join() takes exactly one argument");
      return Value(join(in, iterate(in, *it), s));
    });
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "isupper" ||
      name == "islower") {
    return bound(name, [s, name](Interpreter&, CallArgs&) {
      if (s.empty()) return Value(false);
      bool cased = false;
      for (unsigned char c : s) {
        if (name == "isdigit" && !std::isdigit(c)) return Value(false);
        if (name == "isalpha" && !std::isalpha(c)) return Value(false);
        if (name == "isalnum" && !std::isalnum(c)) return Value(false);
        if (name == "isspace" && !std::isspace(c)) return Value(false);
        if (name == "isupper" && std::islower(c)) return Value(false);
        if (name == "islower" && std::isupper(c)) return Value(false);
        if (std::isalpha(c)) cased = true;
      }
      return Value(name == "isupper" || name == "islower" ? cased : true);
    });
  }
  return Value::undefined("'str object' has no attribute '" + name + "'");
}

Value dict_method(const Value& obj, const std::string& name) {
  auto d = obj.dict_ptr();
  if (name == "get")
    return bound(name, [d](Interpreter& in, CallArgs& a) {
      const Value* k = a.get(0, "key");
      if (!k) in.fail("get expected at least 1 argument");
      if (k->is_string())
        if (const Value* v = d->find(k->as_string())) return *v;
      const Value* def = a.get(1, "default");
      return def ? *def : Value::none();
    });
  if (name == "items")
    return bound(name, [d](Interpreter&, CallArgs&) {
      List out;
      for (const auto& [k, v] : d->items) out.push_back(Value::list({Value(k), v}, true));
      return Value::list(std::move(out));
    });
  if (name == "keys")
    return bound(name, [d](Interpreter&, CallArgs&) {
      List out;
      for (const auto& kv : d->items) out.emplace_back(kv.first);
      return Value::list(std::move(out));
    });
  if (name == "values")
    return bound(name, [d](Interpreter&, CallArgs&) {
      List out;
      for (const auto& kv : d->items) out.push_back(kv.second);
      return Value::list(std::move(out));
    });
  return Value();
}

bool is_unsafe_mutator(const std::string& name) {
  static const char* const kNames[] = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                                       "update", "setdefault", "popitem", "__setitem__", "__delitem__"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

Value attr_path(Interpreter& in, const Value& v, const std::string& path) {
  Value cur = v;
  size_t pos = 0;
  while (true) {
    size_t dot = path.find('.', pos);
    std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (cur.is_undefined()) return cur;
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (cur.is_list() && numeric) {
      size_t i = std::stoul(part.substr(0, 9));
      cur = i < cur.as_list().size() ? cur.as_list()[i] : Value::undefined();
    } else if (cur.is_dict()) {
      const Value* f = cur.as_dict().find(part);
      cur = f ? *f : get_attribute(in, cur, part);
    } else {
      cur = get_attribute(in, cur, part);
    }
    if (dot == std::string::npos) return cur;
    pos = dot + 1;
  }
}

// select/reject/selectattr/rejectattr: optional attribute, then an optional test name and args.
Value select_items(Interpreter& in, const Value& v, CallArgs& args, bool by_attr, bool keep) {
  size_t i = 0;
  std::string attr;
  if (by_attr) {
    attr = need_str(in, args.get(0, "attribute"), "attribute");
    i = 1;
  }
  std::string test;
  CallArgs test_args;
  if (i < args.positional.size()) {
    test = need_str(in, &args.positional[i], "test name");
    test_args.positional.assign(args.positional.begin() + static_cast<long>(i) + 1, args.positional.end());
  }
  List out;
  if (!v.truthy()) return Value::generator({});  // jinja2 yields nothing for a false value
  for (const auto& item : iterate(in, v)) {
    in.step();
    Value x = by_attr ? attr_path(in, item, attr) : item;
    bool ok = test.empty() ? x.truthy() : apply_test(in, test, x, test_args);
    if (ok == keep) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

int64_t length_of(Interpreter& in, const Value& v) {
  if (v.is_string()) return static_cast<int64_t>(utf8_chars(v.as_string()).size());
  if (v.is_list() && !v.is_generator()) return static_cast<int64_t>(v.as_list().size());
  if (v.is_dict()) return static_cast<int64_t>(v.as_dict().items.size());
  if (v.is_undefined()) return 0;
  in.fail("object of type '" + v.type_name() + "' has no len()");
}

}  // namespace

std::vector<Value> iterate(Interpreter& in, const Value& v) {
  if (v.is_list()) return v.as_list();
  if (v.is_dict()) {
    if (v.as_dict().is_namespace) in.fail("'Namespace' object is not iterable");
    std::vector<Value> keys;
    for (const auto& kv : v.as_dict().items) keys.emplace_back(kv.first);
    return keys;
  }
  if (v.is_string()) {
    std::vector<Value> out;
    for (auto c : utf8_chars(v.as_string())) out.emplace_back(std::string(c));
    return out;
  }
  if (v.is_undefined()) return {};
  in.fail("'" + v.type_name() + "' object is not iterable");
}

bool less_than(Interpreter& in, const Value& a, const Value& b) {
  auto num = [](const Value& v) { return v.is_number() || v.is_bool(); };
  auto d = [](const Value& v) { return v.is_bool() ? static_cast<double>(v.as_bool()) : v.as_double(); };
  if (num(a) && num(b)) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int();
    return d(a) < d(b);
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    const List &x = a.as_list(), &y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i].equals(y[i])) continue;
      return less_than(in, x[i], y[i]);
    }
    return x.size() < y.size();
  }
  in.fail("'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'");
}

Value get_attribute(Interpreter& in, const Value& obj, const std::string& name) {
  if (obj.is_dict()) {
    if (obj.as_dict().is_namespace) {
      if (const Value* v = obj.as_dict().find(name)) return *v;
      return Value::undefined("'Namespace object' has no attribute '" + name + "'");
    }
    Value m = dict_method(obj, name);
    if (!m.is_undefined()) return m;
    if (const Value* v = obj.as_dict().find(name)) return *v;
    if (is_unsafe_mutator(name)) return bound(name, [name](Interpreter& in2, CallArgs&) -> Value {
      in2.fail("access to attribute '" + name + "' of 'dict' object is unsafe.");
    });
    return Value::undefined("'dict object' has no attribute '" + name + "'");
  }
  if (obj.is_string()) return string_method(in, obj, name);
  if (obj.is_list()) {
    if (is_unsafe_mutator(name)) {
      std::string type = obj.type_name();
      return bound(name, [name, type](Interpreter& in2, CallArgs&) -> Value {
        in2.fail("access to attribute '" + name + "' of '" + type + "' object is unsafe.");
      });
    }
    if (name == "index" || name == "count") {
      auto l = obj.list_ptr();
      return bound(name, [l, name](Interpreter& in2, CallArgs& a) {
        const Value* x = a.get(0, "value");
        if (!x) in2.fail(name + "() takes exactly one argument");
        int64_t n = 0;
        for (size_t i = 0; i < l->size(); ++i) {
          if (!(*l)[i].equals(*x)) continue;
          if (name == "index") return Value(static_cast<int64_t>(i));
          ++n;
        }
        if (name == "index") in2.fail(x->repr() + " is not in list");
        return Value(n);
      });
    }
    return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + name + "'");
  }
  if (obj.is_none()) return Value::undefined("'None' has no attribute '" + name + "'");
  return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + name + "'");
}

bool has_test(const std::string& name) {
  static const char* const kTests[] = {"defined", "undefined", "none", "boolean", "true", "false", "integer",
                                       "float", "number", "string", "mapping", "sequence", "iterable", "callable",
                                       "sameas", "equalto", "eq", "==", "ne", "!=", "lt", "<", "le", "<=", "gt",
                                       ">", "ge", ">=", "in", "odd", "even", "divisibleby", "lower", "upper",
                                       "escaped"};
  for (const char* t : kTests)
    if (name == t) return true;
  return false;
}

bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  const Value* arg = args.get(0, "other");
  auto need_arg = [&]() -> const Value& {
    if (!arg) in.fail("test '" + name + "' needs an argument");
    return *arg;
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number() || v.is_bool();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict() && !v.as_dict().is_namespace;
  if (name == "sequence" || name == "iterable") return v.is_string() || v.is_list() || (v.is_dict() && !v.as_dict().is_namespace) || (name == "iterable" && v.is_undefined());
  if (name == "callable") return v.is_function();
  if (name == "sameas") {
    const Value& o = need_arg();
    if (v.kind() != o.kind()) return false;
    if (v.is_none() || v.is_bool() || v.is_int()) return v.equals(o);
    if (v.is_list()) return v.list_ptr() == o.list_ptr();
    if (v.is_dict()) return v.dict_ptr() == o.dict_ptr();
    return false;
  }
  if (name == "equalto" || name == "eq" || name == "==") return v.equals(need_arg());
  if (name == "ne" || name == "!=") return !v.equals(need_arg());
  if (name == "lt" || name == "<") return less_than(in, v, need_arg());
  if (name == "le" || name == "<=") return !less_than(in, need_arg(), v);
  if (name == "gt" || name == ">") return less_than(in, need_arg(), v);
  if (name == "ge" || name == ">=") return !less_than(in, v, need_arg());
  if (name == "in") {
    const Value& c = need_arg();
    if (c.is_string()) return v.is_string() && c.as_string().find(v.as_string()) != std::string::npos;
    for (const auto& e : iterate(in, c))
      if (e.equals(v)) return true;
    return false;
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int()) in.fail("test '" + name + "' needs an integer");
    if (name == "odd") return v.as_int() % 2 != 0;
    if (name == "even") return v.as_int() % 2 == 0;
    int64_t d = need_int(in, &need_arg(), 1);
    if (d == 0) in.fail("integer division or modulo by zero");
    return d == -1 || v.as_int() % d == 0;
  }
  if (name == "lower") return v.is_string() && lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && upper(v.as_string()) == v.as_string();
  if (name == "escaped") return false;
  in.fail("no test named '" + name + "'");
}

Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  if (name == "default" || name == "d") {
    const Value* def = args.get(0, "default_value");
    const Value* boolean = args.get(1, "boolean");
    bool use_def = v.is_undefined() || (boolean && boolean->truthy() && !v.truthy());
    return use_def ? (def ? *def : Value(std::string())) : v;
  }
  if (name == "tojson") {
    const Value* indent = args.get(0, "indent");
    const Value* sort_keys = args.kw("sort_keys");
    int ind = -1;
    if (indent && !indent->is_none()) ind = static_cast<int>(std::clamp<int64_t>(need_int(in, indent, 0), 0, 64));
    try {
      std::string out = v.to_json(ind, sort_keys && sort_keys->truthy());
      in.check_size(out.size());
      return Value(std::move(out));
    } catch (const TemplateError&) {
      throw;
    } catch (const Error& e) {
      in.fail(e.what());
    }
  }
  if (name == "safe") return Value::markup(v.str());
  if (name == "string") return v.is_markup() ? v : Value(v.str());
  if (name == "escape" || name == "e" || name == "forceescape") {
    if (v.is_markup() && name != "forceescape") return v;
    return Value::markup(html_escape(v.str()));
  }
  if (name == "length" || name == "count") return Value(length_of(in, v));
  if (name == "trim" || name == "strip") {
    const Value* chars = args.get(0, "chars");
    return Value(strip(v.str(), chars && chars->is_string() ? chars->as_string() : kPyWhitespace, true, true));
  }
  if (name == "upper") return Value(upper(v.str()));
  if (name == "lower") return Value(lower(v.str()));
  if (name == "capitalize" || name == "title") {
    CallArgs none;
    return in.call(string_method(in, Value(v.str()), name), none);
  }
  if (name == "replace") {
    std::string s = v.str();
    return Value(replace_all(in, s, need_str(in, args.get(0, "old"), "old"),
                             args.get(1, "new") ? args.get(1, "new")->str() : "", need_int(in, args.get(2, "count"), -1)));
  }
  if (name == "split") {
    const Value* sep = args.get(0, "sep");
    if (sep && !sep->is_none() && (!sep->is_string() || sep->as_string().empty())) in.fail("empty separator");
    return Value::list(split(v.str(), sep, need_int(in, args.get(1, "maxsplit"), -1), false));
  }
  if (name == "join") {
    const Value* sep = args.get(0, "d");
    const Value* attr = args.get(1, "attribute");
    List items = iterate(in, v);
    if (attr && !attr->is_none())
      for (auto& x : items) x = attr_path(in, x, attr->str());
    return Value(join(in, items, sep ? sep->str() : ""));
  }
  if (name == "first" || name == "last") {
    List items = iterate(in, v);
    if (items.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::list(iterate(in, v));
  if (name == "items") {
    if (v.is_undefined()) return Value::list({});
    if (!v.is_dict()) in.fail("Can only get item pairs from a mapping.");
    CallArgs none;
    return Value::generator(in.call(dict_method(v, "items"), none).as_list());
  }
  if (name == "dictsort") {
    if (!v.is_dict()) in.fail("dictsort needs a mapping");
    List out;
    for (const auto& [k, x] : v.as_dict().items) out.push_back(Value::list({Value(k), x}, true));
    std::stable_sort(out.begin(), out.end(), [&](const Value& a, const Value& b) {
      return lower(a.as_list()[0].as_string()) < lower(b.as_list()[0].as_string());
    });
    return Value::list(std::move(out));
  }
  if (name == "selectattr") return select_items(in, v, args, true, true);
  if (name == "rejectattr") return select_items(in, v, args, true, false);
  if (name == "select") return select_items(in, v, args, false, true);
  if (name == "reject") return select_items(in, v, args, false, false);
  if (name == "map") {
    List out;
    if (!v.truthy()) return Value::generator({});
    if (const Value* attr = args.kw("attribute")) {
      const Value* def = args.kw("default");
      for (const auto& item : iterate(in, v)) {
        in.step();
        Value x = attr_path(in, item, attr->str());
        out.push_back(x.is_undefined() && def ? *def : x);
      }
      return Value::generator(std::move(out));
    }
    std::string filter = need_str(in, args.get(0, "filter"), "map filter name");
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const auto& item : iterate(in, v)) {
      in.step();
      CallArgs a = rest;
      out.push_back(apply_filter(in, filter, item, a));
    }
    return Value::generator(std::move(out));
  }
  if (name == "unique") {
    List out;
    for (const auto& item : iterate(in, v)) {
      in.step();
      bool seen = false;
      for (const auto& o : out)
        if (o.equals(item)) { seen = true; break; }
      if (!seen) out.push_back(item);
    }
    return Value::generator(std::move(out));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      auto chars = utf8_chars(v.as_string());
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value(out);
    }
    List items = iterate(in, v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "sort") {
    const Value* rev = args.get(0, "reverse");
    const Value* attr = args.kw("attribute");
    List items = iterate(in, v);
    auto key = [&](const Value& x) { return attr ? attr_path(in, x, attr->str()) : x; };
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) { return less_than(in, key(a), key(b)); });
    if (rev && rev->truthy()) std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "min" || name == "max") {
    List items = iterate(in, v);
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    Value best = items[0];
    for (const auto& x : items)
      if (name == "min" ? less_than(in, x, best) : less_than(in, best, x)) best = x;
    return best;
  }
  if (name == "sum") {
    const Value* attr = args.kw("attribute");
    const Value* start = args.kw("start");
    CallArgs none;
    Value total = start ? *start : Value(int64_t{0});
    for (const auto& x : iterate(in, v)) {
      Value y = attr ? attr_path(in, x, attr->str()) : x;
      if (!(y.is_number() || y.is_bool()) || !(total.is_number())) in.fail("sum needs numbers");
      total = total.is_float() || y.is_float() ? Value(total.as_double() + (y.is_bool() ? y.as_bool() : y.as_double()))
                                               : Value(total.as_int() + (y.is_bool() ? y.as_bool() : y.as_int()));
    }
    return total;
  }
  if (name == "abs") {
    if (v.is_int()) return Value(v.as_int() < 0 && v.as_int() != INT64_MIN ? -v.as_int() : v.as_int());
    if (v.is_float()) return Value(std::fabs(v.as_double()));
    in.fail("bad operand type for abs(): '" + v.type_name() + "'");
  }
  if (name == "int") {
    const Value* def = args.get(0, "default");
    int64_t d = def ? need_int(in, def, 0) : 0;
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(static_cast<int64_t>(v.as_bool()));
    if (v.is_float()) {
      double x = v.as_double();
      if (!std::isfinite(x) || std::fabs(x) > 9.2e18) return Value(d);
      return Value(static_cast<int64_t>(x));
    }
    if (v.is_string()) {
      std::string s = strip(v.as_string(), kPyWhitespace, true, true);
      char* end = nullptr;
      errno = 0;
      long long x = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end && *end == 0 && errno == 0) return Value(static_cast<int64_t>(x));
      double f = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0 && std::isfinite(f) && std::fabs(f) < 9.2e18) return Value(static_cast<int64_t>(f));
    }
    return Value(d);
  }
  if (name == "float") {
    const Value* def = args.get(0, "default");
    if (v.is_number()) return Value(v.as_double());
    if (v.is_bool()) return Value(static_cast<double>(v.as_bool()));
    if (v.is_string()) {
      std::string s = strip(v.as_string(), kPyWhitespace, true, true);
      char* end = nullptr;
      double f = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0) return Value(f);
    }
    return def ? *def : Value(0.0);
  }
  if (name == "round") {
    int64_t prec = need_int(in, args.get(0, "precision"), 0);
    std::string method = args.get(1, "method") ? args.get(1, "method")->str() : "common";
    double x = v.is_bool() ? v.as_bool() : v.is_number() ? v.as_double() : 0;
    double m = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(prec, -300, 300)));
    double r = method == "ceil" ? std::ceil(x * m) / m : method == "floor" ? std::floor(x * m) / m : std::round(x * m) / m;
    return Value(r);
  }
  if (name == "indent") {
    const Value* w = args.get(0, "width");
    std::string pad = w && w->is_string() ? w->as_string() : std::string(static_cast<size_t>(std::clamp<int64_t>(need_int(in, w, 4), 0, 256)), ' ');
    bool first = args.get(1, "first") && args.get(1, "first")->truthy();
    bool blank = args.get(2, "blank") && args.get(2, "blank")->truthy();
    std::string s = v.str();
    std::string out;
    size_t pos = 0;
    bool is_first = true;
    while (pos <= s.size()) {
      size_t nl = s.find('\n', pos);
      std::string line = s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      if ((!is_first || first) && (blank || !strip(line, kPyWhitespace, true, true).empty())) out += pad;
      out += line;
      in.check_size(out.size());
      if (nl == std::string::npos) break;
      out += '\n';
      pos = nl + 1;
      is_first = false;
    }
    return Value(out);
  }
  if (name == "attr") {
    std::string a = need_str(in, args.get(0, "name"), "attribute name");
    if (v.is_undefined()) return v;
    return get_attribute(in, v, a);
  }
  if (name == "wordcount") {
    return Value(static_cast<int64_t>(split(v.str(), nullptr, -1, false).size()));
  }
  in.fail("no filter named '" + name + "'");
}

Value builtin_global(const std::string& name) {
  if (name == "range")
    return bound(name, [](Interpreter& in, CallArgs& a) {
      int64_t start = 0, stop = 0, step = 1;
      if (a.positional.size() == 1) {
        stop = need_int(in, &a.positional[0], 0);
      } else if (a.positional.size() >= 2) {
        start = need_int(in, &a.positional[0], 0);
        stop = need_int(in, &a.positional[1], 0);
        if (a.positional.size() >= 3) step = need_int(in, &a.positional[2], 1);
      } else {
        in.fail("range expected at least 1 argument");
      }
      if (step == 0) in.fail("range() arg 3 must not be zero");
      List out;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        in.check_size((out.size() + 1) * sizeof(Value));
        in.step();
        out.emplace_back(i);
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
      }
      return Value::list(std::move(out));
    });
  if (name == "namespace" || name == "dict")
    return bound(name, [name](Interpreter& in, CallArgs& a) {
      auto d = std::make_shared<Dict>();
      d->is_namespace = name == "namespace";
      for (const auto& p : a.positional) {
        if (!p.is_dict()) in.fail(name + "() positional argument must be a mapping");
        for (const auto& [k, x] : p.as_dict().items) d->set(k, x);
      }
      for (const auto& [k, x] : a.keyword) d->set(k, x);
      return Value::dict(std::move(d));
    });
  if (name == "raise_exception")
    return bound(name, [](Interpreter&, CallArgs& a) -> Value {
      throw TemplateRaise(a.positional.empty() ? std::string() : a.positional[0].str());
    });
  if (name == "strftime_now")
    return bound(name, [](Interpreter& in, CallArgs& a) {
      std::string fmt = need_str(in, a.get(0, "format"), "strftime format");
      if (fmt.size() > 256) in.fail("strftime format too long");
      std::time_t t = in.options().now ? *in.options().now : std::time(nullptr);
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::string buf(fmt.size() * 64 + 64, '\0');
      size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
      buf.resize(n);
      return Value(buf);
    });
  return Value();
}

}  // namespace hearth::chat::jinja
