#include "chat/go_template.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "chat/jinja_template.h"  // TemplateError

namespace hearth::chat {
namespace gotmpl {

using Json = nlohmann::ordered_json;

constexpr int kMaxNesting = 100;
constexpr size_t kMaxOutput = 16u << 20;

struct Pipeline;

struct Arg {
  enum class Type { field, variable, literal, ident, pipeline, dot };
  Type type = Type::literal;
  std::string name;                 // variable or function name
  std::vector<std::string> fields;  // trailing .A.B
  Json literal;
  std::shared_ptr<Pipeline> pipe;
};

struct Command {
  std::vector<Arg> args;
};

struct Pipeline {
  std::vector<std::string> vars;  // $i, $v := / =
  bool declare = false;
  bool assign = false;
  std::vector<Command> cmds;
};

struct Node {
  enum class Type { list, text, action, if_, range, with, break_, continue_ };
  Type type = Type::list;
  int seq = 0;
  int line = 0;
  std::string text;
  Pipeline pipe;
  std::vector<std::shared_ptr<Node>> body;
  std::shared_ptr<Node> else_body;  // a list node (else if / else with: a list holding one node)
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  std::shared_ptr<Node> run(int& response_seq, std::vector<std::string>& fields) {
    auto root = std::make_shared<Node>();
    std::string end = parse_list(*root, 0);
    if (!end.empty()) fail("unexpected {{" + end + "}}");
    response_seq = response_seq_;
    fields = std::move(fields_);
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    int line = 1;
    for (size_t i = 0; i < pos_ && i < src_.size(); ++i)
      if (src_[i] == '\n') ++line;
    throw TemplateError(ErrorCode::invalid_argument, "template: line " + std::to_string(line) + ": " + msg);
  }

  int line_now() const { return static_cast<int>(std::count(src_.begin(), src_.begin() + static_cast<long>(std::min(pos_, src_.size())), '\n')) + 1; }

  // Text up to the next action; applies a left trim marker of that action.
  // Returns false at end of input.
  bool next_action(Node& list) {
    size_t open = src_.find("{{", pos_);
    std::string text(src_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_));
    if (trim_next_text_) {
      text.erase(text.begin(), std::find_if_not(text.begin(), text.end(), is_space));
      trim_next_text_ = false;
    }
    if (open == std::string_view::npos) {
      add_text(list, std::move(text));
      pos_ = src_.size();
      return false;
    }
    pos_ = open + 2;
    if (pos_ + 1 < src_.size() && src_[pos_] == '-' && is_space(src_[pos_ + 1])) {
      text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
      pos_ += 2;
    }
    add_text(list, std::move(text));
    return true;
  }

  void add_text(Node& list, std::string text) {
    if (text.empty()) return;
    auto n = std::make_shared<Node>();
    n->type = Node::Type::text;
    n->seq = ++seq_;
    n->text = std::move(text);
    list.body.push_back(std::move(n));
  }

  void skip_ws() {
    while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
  }

  // At the end of an action: "}}" or " -}}".
  bool at_close() {
    size_t p = pos_;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 2, "}}") == 0) return true;
    return p > 0 && is_space(src_[p - 1]) && src_.compare(p, 3, "-}}") == 0;
  }

  void close_action() {
    bool had_space = pos_ < src_.size() && is_space(src_[pos_]);
    skip_ws();
    if (src_.compare(pos_, 3, "-}}") == 0 && (had_space || (pos_ > 0 && is_space(src_[pos_ - 1])))) {
      pos_ += 3;
      trim_next_text_ = true;
      return;
    }
    if (src_.compare(pos_, 2, "}}") == 0) {
      pos_ += 2;
      return;
    }
    fail("unexpected token in action");
  }

  std::string peek_word() {
    skip_ws();
    size_t p = pos_;
    while (p < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[p])) || src_[p] == '_')) ++p;
    return std::string(src_.substr(pos_, p - pos_));
  }

  // Parses nodes into `list` until {{end}}, {{else ...}} or end of input; returns "end",
  // "else" (positioned after the word "else") or "" at end of input.
  std::string parse_list(Node& list, int depth) {
    if (depth > kMaxNesting) fail("template nested too deeply");
    while (next_action(list)) {
      skip_ws();
      if (src_.compare(pos_, 2, "/*") == 0) {
        size_t end = src_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) fail("unclosed comment");
        pos_ = end + 2;
        close_action();
        continue;
      }
      std::string word = peek_word();
      if (word == "end") {
        pos_ += 3;
        close_action();
        return "end";
      }
      if (word == "else") {
        pos_ += 4;
        return "else";
      }
      auto n = std::make_shared<Node>();
      n->seq = ++seq_;
      n->line = line_now();
      if (word == "if" || word == "range" || word == "with") {
        pos_ += word.size();
        n->type = word == "if" ? Node::Type::if_ : word == "range" ? Node::Type::range : Node::Type::with;
        parse_control(*n, depth);
      } else if (word == "break" || word == "continue") {
        pos_ += word.size();
        n->type = word == "break" ? Node::Type::break_ : Node::Type::continue_;
        close_action();
      } else if (word == "define" || word == "template" || word == "block") {
        fail("{{" + word + "}} is not supported");
      } else {
        n->type = Node::Type::action;
        current_ = n.get();
        n->pipe = parse_pipeline(depth);
        close_action();
      }
      list.body.push_back(std::move(n));
    }
    return "";
  }

  void parse_control(Node& n, int depth) {
    current_ = &n;
    n.pipe = parse_pipeline(depth);
    close_action();
    auto body = std::make_shared<Node>();
    std::string end = parse_list(*body, depth + 1);
    n.body = std::move(body->body);
    if (end.empty()) fail("unexpected EOF");
    if (end == "else") {
      n.else_body = std::make_shared<Node>();
      std::string word = peek_word();
      if ((word == "if" && n.type == Node::Type::if_) || (word == "with" && n.type == Node::Type::with)) {
        // {{ else if ... }}: a nested control that consumes the shared {{ end }}.
        pos_ += word.size();
        auto nested = std::make_shared<Node>();
        nested->seq = ++seq_;
        nested->line = line_now();
        nested->type = n.type;
        parse_control(*nested, depth + 1);
        n.else_body->body.push_back(std::move(nested));
        return;
      }
      close_action();
      end = parse_list(*n.else_body, depth + 1);
      if (end != "end") fail("expected {{end}}");
    }
  }

  Pipeline parse_pipeline(int depth) {
    if (depth > kMaxNesting) fail("template nested too deeply");
    Pipeline p;
    // Variable declarations: $x := or $i, $v :=
    size_t save = pos_;
    skip_ws();
    if (pos_ < src_.size() && src_[pos_] == '$') {
      std::vector<std::string> vars;
      while (true) {
        skip_ws();
        if (pos_ >= src_.size() || src_[pos_] != '$') break;
        size_t s = pos_++;
        while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
        vars.emplace_back(src_.substr(s, pos_ - s));
        skip_ws();
        if (pos_ < src_.size() && src_[pos_] == ',') { ++pos_; continue; }
        break;
      }
      skip_ws();
      if (src_.compare(pos_, 2, ":=") == 0) {
        pos_ += 2;
        p.vars = vars;
        p.declare = true;
      } else if (pos_ < src_.size() && src_[pos_] == '=' && src_.compare(pos_, 2, "==") != 0) {
        pos_ += 1;
        p.vars = vars;
        p.assign = true;
      } else {
        pos_ = save;
      }
    }
    while (true) {
      Command c;
      while (true) {
        skip_ws();
        if (pos_ >= src_.size()) fail("unclosed action");
        if (at_close() || src_[pos_] == '|' || src_[pos_] == ')') break;
        c.args.push_back(parse_operand(depth));
      }
      if (c.args.empty()) fail("missing value for command");
      p.cmds.push_back(std::move(c));
      if (pos_ < src_.size() && src_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    return p;
  }

  std::vector<std::string> parse_fields() {
    std::vector<std::string> fields;
    while (pos_ < src_.size() && src_[pos_] == '.' && pos_ + 1 < src_.size() &&
           (std::isalpha(static_cast<unsigned char>(src_[pos_ + 1])) || src_[pos_ + 1] == '_')) {
      size_t s = ++pos_;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      fields.emplace_back(src_.substr(s, pos_ - s));
      note_field(fields.back());
    }
    return fields;
  }

  void note_field(const std::string& f) {
    if (std::find(fields_.begin(), fields_.end(), f) == fields_.end()) fields_.push_back(f);
    if (f == "Response" && response_seq_ < 0 && current_) response_seq_ = current_->seq;
  }

  Arg parse_operand(int depth) {
    Arg a;
    char c = src_[pos_];
    if (c == '.') {
      if (pos_ + 1 < src_.size() && (std::isalpha(static_cast<unsigned char>(src_[pos_ + 1])) || src_[pos_ + 1] == '_')) {
        a.type = Arg::Type::field;
        a.fields = parse_fields();
      } else {
        ++pos_;
        a.type = Arg::Type::dot;
      }
      return a;
    }
    if (c == '$') {
      size_t s = pos_++;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      a.type = Arg::Type::variable;
      a.name = std::string(src_.substr(s, pos_ - s));
      a.fields = parse_fields();
      return a;
    }
    if (c == '(') {
      ++pos_;
      a.type = Arg::Type::pipeline;
      a.pipe = std::make_shared<Pipeline>(parse_pipeline(depth + 1));
      skip_ws();
      if (pos_ >= src_.size() || src_[pos_] != ')') fail("unclosed left paren");
      ++pos_;
      a.fields = parse_fields();
      return a;
    }
    if (c == '"' || c == '`') {
      a.literal = parse_string();
      return a;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && pos_ + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
      size_t s = pos_++;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '.' || src_[pos_] == '_')) ++pos_;
      std::string num(src_.substr(s, pos_ - s));
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(num.c_str(), &end, 0);
      if (end && *end == 0 && errno == 0) {
        a.literal = static_cast<int64_t>(i);
      } else {
        double d = std::strtod(num.c_str(), &end);
        if (!end || *end != 0) fail("bad number syntax: " + num);
        a.literal = d;
      }
      return a;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::string word = peek_word();
      pos_ += word.size();
      if (word == "true" || word == "false") a.literal = word == "true";
      else if (word == "nil") a.literal = nullptr;
      else {
        a.type = Arg::Type::ident;
        a.name = word;
      }
      return a;
    }
    fail(std::string("unexpected \"") + c + "\" in operand");
  }

  Json parse_string() {
    char q = src_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) fail("unterminated quoted string");
      char c = src_[pos_++];
      if (c == q) break;
      if (q == '"' && c == '\n') fail("unterminated quoted string");
      if (q == '"' && c == '\\') {
        if (pos_ >= src_.size()) fail("unterminated quoted string");
        char e = src_[pos_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '\\': out += '\\'; break;
          case '"': out += '"'; break;
          case '\'': out += '\''; break;
          default: out += '\\'; out += e;
        }
        continue;
      }
      out += c;
    }
    return out;
  }

  std::string_view src_;
  size_t pos_ = 0;
  bool trim_next_text_ = false;
  int seq_ = 0;
  int response_seq_ = -1;
  Node* current_ = nullptr;
  std::vector<std::string> fields_;
};

// encoding/json's float64: the shortest digits that read back, in %f form unless the magnitude
// is below 1e-6 or at least 1e21 (then %e with a one-digit negative exponent kept short: 1e-7).
std::string go_float(double d) {
  if (!std::isfinite(d)) return "null";  // json.Marshal refuses these; a template gets nothing better
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  char b[64];
  int prec = 0;
  for (; prec < 17; ++prec) {
    std::snprintf(b, sizeof b, "%.*e", prec, d);
    if (std::strtod(b, nullptr) == d) break;
  }
  std::snprintf(b, sizeof b, "%.*e", prec, d);
  std::string s = b, sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const size_t e = s.find('e');
  int exp10 = std::atoi(s.c_str() + e + 1);
  std::string digits = s.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const double mag = std::fabs(d);
  if (mag < 1e-6 || mag >= 1e21) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    std::string ex = eb;
    if (ex.size() == 4 && ex[1] == '-' && ex[2] == '0') ex.erase(2, 1);
    return out + ex;
  }
  std::string out;
  if (exp10 < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  } else if (static_cast<size_t>(exp10) + 1 >= digits.size()) {
    out = digits + std::string(static_cast<size_t>(exp10) + 1 - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<size_t>(exp10) + 1) + "." + digits.substr(static_cast<size_t>(exp10) + 1);
  }
  return sign + out;
}

// Go's json.Marshal: compact, with <, > and & escaped.
void go_json(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ',';
        first = false;
        go_json(out, Json(it.key()));
        out += ':';
        go_json(out, it.value());
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        go_json(out, v[i]);
      }
      out += ']';
      return;
    }
    case Json::value_t::string: {
      std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
      for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '<') out += "\\u003c";
        else if (c == '>') out += "\\u003e";
        else if (c == '&') out += "\\u0026";
        else out += c;
      }
      return;
    }
    case Json::value_t::number_float: out += go_float(v.get<double>()); return;
    default: out += v.dump(); return;
  }
}

std::string format_number(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  double d = v.get<double>();
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
    char b[64];
    std::snprintf(b, sizeof b, "%.0f", d);
    return b;
  }
  char b[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(b, sizeof b, "%.*g", prec, d);
    if (std::strtod(b, nullptr) == d) break;
  }
  return b;
}

// fmt's %v, with Ollama's String() methods: its API structs print as JSON.
std::string print_value(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "<no value>";
    case Json::value_t::string: return v.get<std::string>();
    case Json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ' ';
        out += v[i].is_null() ? "<nil>" : print_value(v[i]);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out;
      go_json(out, v);
      return out;
    }
    default: return format_number(v);
  }
}

bool truthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return v.get<bool>();
    case Json::value_t::string: return !v.get<std::string>().empty();
    case Json::value_t::array:
    case Json::value_t::object: return !v.empty();
    case Json::value_t::number_float: return v.get<double>() != 0;
    default: return v.get<int64_t>() != 0;
  }
}

struct BreakSignal {};
struct ContinueSignal {};

class Exec {
 public:
  Exec(const Json& data, int cut_seq) : cut_seq_(cut_seq) { vars_.emplace_back("$", data); }

  void run(const Node& list, const Json& dot, std::string& out) {
    for (const auto& n : list.body) {
      if (cut_seq_ >= 0 && n->seq > cut_seq_) return;
      exec(*n, dot, out);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw TemplateError(ErrorCode::invalid_argument, "template: line " + std::to_string(line_) + ": " + msg);
  }

  void emit(std::string& out, const std::string& s) {
    total_ += s.size();
    if (total_ > kMaxOutput) throw TemplateError(ErrorCode::resource_exhausted, "template: output too large");
    out += s;
  }

  void step() {
    if (++steps_ > 10'000'000) throw TemplateError(ErrorCode::resource_exhausted, "template: too many steps");
  }

  void exec(const Node& n, const Json& dot, std::string& out) {
    step();
    line_ = n.line;
    switch (n.type) {
      case Node::Type::list: run(n, dot, out); return;
      case Node::Type::text: emit(out, n.text); return;
      case Node::Type::action: {
        Json v = eval_pipeline(n.pipe, dot);
        if (n.pipe.vars.empty()) emit(out, print_value(v));
        return;
      }
      case Node::Type::break_: throw BreakSignal{};
      case Node::Type::continue_: throw ContinueSignal{};
      case Node::Type::if_:
      case Node::Type::with: {
        size_t mark = vars_.size();
        Json v = eval_pipeline(n.pipe, dot);
        if (truthy(v)) {
          run_children(n, n.type == Node::Type::with ? v : dot, out);
        } else if (n.else_body) {
          run(*n.else_body, dot, out);
        }
        vars_.resize(mark);
        return;
      }
      case Node::Type::range: {
        size_t mark = vars_.size();
        Pipeline p = n.pipe;
        std::vector<std::string> names = p.vars;
        p.vars.clear();
        p.declare = p.assign = false;
        Json seq = eval_pipeline(p, dot);
        std::vector<std::pair<Json, Json>> items;
        if (seq.is_array()) {
          for (size_t i = 0; i < seq.size(); ++i) items.emplace_back(static_cast<int64_t>(i), seq[i]);
        } else if (seq.is_object()) {
          std::vector<std::string> keys;
          for (auto it = seq.begin(); it != seq.end(); ++it) keys.push_back(it.key());
          std::sort(keys.begin(), keys.end());
          for (const auto& k : keys) items.emplace_back(k, seq[k]);
        } else if (seq.is_number_integer()) {
          int64_t n_iter = std::min<int64_t>(seq.get<int64_t>(), 10'000'000);
          for (int64_t i = 0; i < n_iter; ++i) items.emplace_back(i, i);
        } else if (!seq.is_null()) {
          fail("range can't iterate over " + print_value(seq));
        }
        if (items.empty()) {
          if (n.else_body) run(*n.else_body, dot, out);
          return;
        }
        for (const auto& [k, v] : items) {
          step();
          vars_.resize(mark);
          if (names.size() == 1) vars_.emplace_back(names[0], v);
          if (names.size() >= 2) {
            vars_.emplace_back(names[0], k);
            vars_.emplace_back(names[1], v);
          }
          try {
            run_children(n, v, out);
          } catch (const BreakSignal&) {
            break;
          } catch (const ContinueSignal&) {
          }
        }
        vars_.resize(mark);
        return;
      }
    }
  }

  void run_children(const Node& n, const Json& dot, std::string& out) {
    for (const auto& c : n.body) {
      if (cut_seq_ >= 0 && c->seq > cut_seq_) return;
      exec(*c, dot, out);
    }
  }

  Json* find_var(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) return &it->second;
    return nullptr;
  }

  Json field_chain(Json v, const std::vector<std::string>& fields) {
    for (const auto& f : fields) {
      if (v.is_object()) {
        auto it = v.find(f);
        if (it == v.end()) {
          // Go field .Function of a wire-JSON object {"function": ...}.
          std::string lower = f;
          lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
          it = v.find(lower);
        }
        v = it == v.end() ? Json() : Json(*it);
      } else if (v.is_null()) {
        return Json();  // missingkey=zero: nil.Field is nil
      } else {
        fail("can't evaluate field " + f + " in type " + std::string(v.type_name()));
      }
    }
    return v;
  }

  Json eval_pipeline(const Pipeline& p, const Json& dot) {
    Json v;
    bool have = false;
    for (const auto& c : p.cmds) {
      v = eval_command(c, dot, have ? &v : nullptr);
      have = true;
    }
    if (p.declare) {
      for (const auto& name : p.vars) vars_.emplace_back(name, v);
    } else if (p.assign) {
      for (const auto& name : p.vars) {
        Json* slot = find_var(name);
        if (!slot) fail("undefined variable: " + name);
        *slot = v;
      }
    }
    return v;
  }

  Json eval_arg(const Arg& a, const Json& dot) {
    switch (a.type) {
      case Arg::Type::literal: return a.literal;
      case Arg::Type::dot: return dot;
      case Arg::Type::field: return field_chain(dot, a.fields);
      case Arg::Type::variable: {
        Json* v = find_var(a.name);
        if (!v) fail("undefined variable \"" + a.name + "\"");
        return field_chain(*v, a.fields);
      }
      case Arg::Type::pipeline: {
        size_t mark = vars_.size();
        Json v = eval_pipeline(*a.pipe, dot);
        vars_.resize(mark);
        return field_chain(v, a.fields);
      }
      case Arg::Type::ident: {
        Command c;
        c.args.push_back(a);
        return eval_command(c, dot, nullptr);
      }
    }
    return Json();
  }

  static int cmp_values(const Json& a, const Json& b, bool& ok) {
    ok = true;
    if (a.is_number() && b.is_number()) {
      if (a.is_number_float() || b.is_number_float()) {
        double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
      }
      int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
    if (a.is_boolean() && b.is_boolean()) return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
    if (a.is_null() && b.is_null()) return 0;
    ok = false;
    return 0;
  }

  Json eval_command(const Command& c, const Json& dot, const Json* piped) {
    step();
    const Arg& head = c.args[0];
    if (head.type != Arg::Type::ident) {
      if (c.args.size() > 1 || piped) fail("can't give argument to non-function");
      return eval_arg(head, dot);
    }
    const std::string& fn = head.name;
    // and/or short-circuit over unevaluated operands, as Go 1.18+ does.
    if (fn == "and" || fn == "or") {
      size_t n = c.args.size() - 1 + (piped ? 1 : 0);
      if (n == 0) fail("wrong number of args for " + fn);
      Json v;
      for (size_t i = 1; i <= n; ++i) {
        v = i < c.args.size() ? eval_arg(c.args[i], dot) : *piped;
        if (truthy(v) != (fn == "and")) return v;
      }
      return v;
    }
    std::vector<Json> args;
    for (size_t i = 1; i < c.args.size(); ++i) args.push_back(eval_arg(c.args[i], dot));
    if (piped) args.push_back(*piped);
    auto need = [&](size_t n) {
      if (args.size() != n) fail("wrong number of args for " + fn + ": want " + std::to_string(n) + " got " + std::to_string(args.size()));
    };
    if (fn == "not") {
      need(1);
      return !truthy(args[0]);
    }
    if (fn == "eq" || fn == "ne") {
      if (args.size() < 2) fail("missing argument for comparison");
      bool eq = false;
      for (size_t i = 1; i < args.size(); ++i) {
        bool ok = false;
        int r = cmp_values(args[0], args[i], ok);
        if (!ok) {
          if (args[0].is_null() || args[i].is_null()) { ok = true; r = 1; }
          else fail("incompatible types for comparison");
        }
        if (r == 0) { eq = true; break; }
      }
      return fn == "eq" ? eq : !eq;
    }
    if (fn == "lt" || fn == "le" || fn == "gt" || fn == "ge") {
      need(2);
      bool ok = false;
      int r = cmp_values(args[0], args[1], ok);
      if (!ok) fail("incompatible types for comparison");
      if (fn == "lt") return r < 0;
      if (fn == "le") return r <= 0;
      if (fn == "gt") return r > 0;
      return r >= 0;
    }
    if (fn == "len") {
      need(1);
      if (args[0].is_string()) return static_cast<int64_t>(args[0].get<std::string>().size());
      if (args[0].is_array() || args[0].is_object()) return static_cast<int64_t>(args[0].size());
      fail("len of type " + std::string(args[0].type_name()));
    }
    if (fn == "index") {
      if (args.empty()) fail("index of nothing");
      Json v = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        if (v.is_array() && args[i].is_number_integer()) {
          int64_t k = args[i].get<int64_t>();
          if (k < 0 || k >= static_cast<int64_t>(v.size())) fail("index out of range: " + std::to_string(k));
          v = v[static_cast<size_t>(k)];
        } else if (v.is_object() && args[i].is_string()) {
          auto it = v.find(args[i].get<std::string>());
          v = it == v.end() ? Json() : *it;
        } else if (v.is_null()) {
          return Json();
        } else {
          fail("can't index item of type " + std::string(v.type_name()));
        }
      }
      return v;
    }
    if (fn == "slice") {
      if (args.empty()) fail("slice of nothing");
      const Json& v = args[0];
      int64_t n = v.is_string() ? static_cast<int64_t>(v.get<std::string>().size()) : v.is_array() ? static_cast<int64_t>(v.size()) : -1;
      if (n < 0) fail("can't slice item of type " + std::string(v.type_name()));
      int64_t lo = 0, hi = n;
      if (args.size() > 1) { if (!args[1].is_number_integer()) fail("slice index must be an integer"); lo = args[1].get<int64_t>(); }
      if (args.size() > 2) { if (!args[2].is_number_integer()) fail("slice index must be an integer"); hi = args[2].get<int64_t>(); }
      if (lo < 0 || hi < lo || hi > n) fail("slice index out of range");
      if (v.is_string()) return v.get<std::string>().substr(static_cast<size_t>(lo), static_cast<size_t>(hi - lo));
      Json out = Json::array();
      for (int64_t i = lo; i < hi; ++i) out.push_back(v[static_cast<size_t>(i)]);
      return out;
    }
    if (fn == "json") {
      need(1);
      std::string out;
      go_json(out, args[0]);
      return out;
    }
    if (fn == "print" || fn == "println") {
      std::string out;
      for (size_t i = 0; i < args.size(); ++i) {
        if (i && (fn == "println" || (!args[i].is_string() && !args[i - 1].is_string()))) out += ' ';
        out += print_value(args[i]);
      }
      if (fn == "println") out += '\n';
      return out;
    }
    if (fn == "printf") {
      if (args.empty() || !args[0].is_string()) fail("printf needs a format string");
      std::string f = args[0].get<std::string>(), out;
      size_t ai = 1;
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%' || i + 1 >= f.size()) { out += f[i]; continue; }
        char verb = f[++i];
        if (verb == '%') { out += '%'; continue; }
        if (ai >= args.size()) { out += "%!"; out += verb; out += "(MISSING)"; continue; }
        const Json& a = args[ai++];
        if (verb == 'q') { std::string q; go_json(q, Json(print_value(a))); out += q; }
        else out += print_value(a);
      }
      return out;
    }
    if (fn == "currentDate" || fn == "yesterdayDate") return local_date(fn == "yesterdayDate" ? -1 : 0);
    if (fn == "toTypeScriptType") {
      need(1);
      return typescript_type(args[0]);
    }
    if (fn == "html" || fn == "urlquery" || fn == "js" || fn == "call") fail("function \"" + fn + "\" is not supported");
    fail("function \"" + fn + "\" not defined");
  }

  int cut_seq_;
  int line_ = 0;
  size_t total_ = 0;
  uint64_t steps_ = 0;
  std::vector<std::pair<std::string, Json>> vars_;
};

}  // namespace gotmpl

std::string go_json_text(const nlohmann::ordered_json& v) {
  std::string out;
  gotmpl::go_json(out, v);
  return out;
}

std::string typescript_type(const nlohmann::ordered_json& prop) {
  // api.ToolProperty.ToTypeScriptType: anyOf alternatives joined with " | ", else the JSON
  // Schema type (or types) mapped; no type at all is "any".
  auto mapped = [](const nlohmann::ordered_json& t) -> std::string {
    if (!t.is_string()) return "any";
    const std::string& s = t.get_ref<const std::string&>();
    if (s == "string" || s == "boolean" || s == "null") return s;
    if (s == "number" || s == "integer") return "number";
    if (s == "array") return "any[]";
    if (s == "object") return "Record<string, any>";
    return "any";
  };
  if (!prop.is_object()) return "any";
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? " | " : "") + parts[i];
    return out;
  };
  if (auto any_of = prop.find("anyOf"); any_of != prop.end() && any_of->is_array() && !any_of->empty()) {
    std::vector<std::string> parts;
    for (const auto& alt : *any_of) parts.push_back(typescript_type(alt));
    return join(parts);
  }
  auto type = prop.find("type");
  if (type == prop.end() || type->is_null()) return "any";
  if (!type->is_array()) return mapped(*type);
  if (type->empty()) return "any";
  std::vector<std::string> parts;
  for (const auto& t : *type) parts.push_back(mapped(t));
  return join(parts);
}

std::string local_date(int day_offset) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(day_offset) * 86400;
  std::tm tm{};
  localtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d", &tm);
  return std::string(b);
}

GoTemplate GoTemplate::parse(std::string_view source) {
  GoTemplate t;
  t.source_ = std::make_shared<const std::string>(source);
  gotmpl::Parser p(*t.source_);
  t.root_ = p.run(t.response_seq_, t.fields_);
  return t;
}

bool GoTemplate::uses(std::string_view field) const {
  return std::find(fields_.begin(), fields_.end(), field) != fields_.end();
}

std::string GoTemplate::execute(const nlohmann::ordered_json& data, bool cut_at_response) const {
  gotmpl::Exec ex(data, cut_at_response ? response_seq_ : -1);
  std::string out;
  try {
    ex.run(*root_, data, out);
  } catch (const gotmpl::BreakSignal&) {
  } catch (const gotmpl::ContinueSignal&) {
  }
  return out;
}

namespace {

using Json = nlohmann::ordered_json;

Json message_json(const Message& m) {
  Json j = Json::object();
  j["Role"] = m.role;
  j["Content"] = m.content;
  j["Thinking"] = m.thinking;
  Json images = Json::array();
  for (size_t i = 0; i < m.images.size(); ++i) images.push_back(static_cast<int64_t>(i));
  j["Images"] = images;
  // Wire JSON: templates read .Function.Name (field lookup falls back to the lowercase key)
  // and printing .Function.Arguments prints JSON, as Ollama's String() methods do.
  Json calls = Json::array();
  for (const auto& c : m.tool_calls) {
    Json fn = Json::object();
    fn["index"] = c.index;
    fn["name"] = c.name;
    // Ollama hands templates the arguments as a Go map (templateArgs), so they print as
    // json.Marshal prints a map: keys sorted, at every level.
    fn["arguments"] = Json(nlohmann::json(c.arguments));
    calls.push_back(Json::object({{"function", fn}}));
  }
  j["ToolCalls"] = calls;
  j["ToolName"] = m.tool_name;
  return j;
}

Json tools_json(const std::vector<ToolDefinition>& tools) {
  Json arr = Json::array();
  for (const auto& t : tools) arr.push_back(t);
  return arr;
}

void add_think(Json& j, const ThinkSetting& think) {
  j["Think"] = think.enabled;
  j["ThinkLevel"] = think.level;
  j["IsThinkSet"] = think.explicitly_set;
}

}  // namespace

Json go_template_data(const GoTemplateValues& v) {
  std::string system;
  Json messages = Json::array();
  std::string last_role;
  for (const auto& m : v.messages) {
    if (m.role == "system") system += (system.empty() ? "" : "\n\n") + m.content;
    if (!messages.empty() && m.role == last_role && m.role != "tool") {
      Json& prev = messages.back();
      prev["Content"] = prev["Content"].get<std::string>() + "\n\n" + m.content;
      continue;
    }
    messages.push_back(message_json(m));
    last_role = m.role;
  }
  Json j = Json::object();
  j["System"] = system;
  j["Messages"] = messages;
  j["Tools"] = tools_json(v.tools);
  j["Response"] = "";
  add_think(j, v.think);
  return j;
}

std::string render_go_template(const GoTemplate& tmpl, const GoTemplateValues& v) {
  if (!v.prompt.empty() && !v.suffix.empty()) {
    Json j = Json::object({{"Prompt", v.prompt}, {"Suffix", v.suffix}, {"Response", ""}});
    add_think(j, v.think);
    return tmpl.execute(j);
  }
  if (!v.force_legacy && tmpl.uses("Messages")) return tmpl.execute(go_template_data(v));

  // Legacy templates: one execution per user turn, the last one cut after .Response.
  std::string out, system, prompt, response;
  auto turn = [&](bool last) {
    Json j = Json::object({{"System", system}, {"Prompt", prompt}, {"Response", response}});
    add_think(j, v.think);
    out += tmpl.execute(j, last);
    system.clear();
    prompt.clear();
    response.clear();
  };
  for (const auto& m : v.messages) {
    if (m.role == "system") {
      if (!prompt.empty() || !response.empty()) turn(false);
      system = m.content;
    } else if (m.role == "user") {
      if (!response.empty()) turn(false);
      prompt = m.content;
    } else if (m.role == "assistant") {
      response = m.content;
    }
  }
  turn(true);
  return out;
}

}  // namespace hearth::chat
