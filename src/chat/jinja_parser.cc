#include "chat/jinja_parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "chat/jinja_template.h"

namespace hearth::chat::jinja {
namespace {

// Deep nesting would recurse the parser (and later the interpreter) without bound.
constexpr int kMaxNesting = 200;

enum class Tok { text, var_begin, var_end, block_begin, block_end, name, string, integer, floating, op, eof };

struct Token {
  Tok type;
  std::string value;
  size_t pos;
};

[[noreturn]] void fail_at(std::string_view src, size_t pos, const std::string& msg) {
  int line = 1, col = 1;
  for (size_t i = 0; i < pos && i < src.size(); ++i) {
    if (src[i] == '\n') { ++line; col = 1; } else { ++col; }
  }
  throw TemplateError(ErrorCode::corrupt,
                      "chat template: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + msg);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t p = find_tag(pos);
      std::string text(src_.substr(pos, p - pos));
      if (p >= src_.size()) {
        emit_text(std::move(text), pos);
        break;
      }
      char kind = src_[p + 1];  // '{', '%' or '#'
      size_t inner = p + 2;
      char sign = inner < src_.size() && (src_[inner] == '-' || src_[inner] == '+') ? src_[inner] : 0;
      if (sign) ++inner;
      if (sign == '-') {
        text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
      } else if (sign != '+' && kind != '{') {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
            std::all_of(text.begin() + static_cast<long>(l_pos), text.end(), is_space))
          text.resize(l_pos);
      }
      emit_text(std::move(text), pos);
      if (kind == '#') {
        size_t end = src_.find("#}", inner);
        if (end == std::string_view::npos) fail_at(src_, p, "missing end of comment tag");
        bool strip = end > inner && src_[end - 1] == '-';
        pos = finish_tag(end + 2, strip, true);
      } else {
        bool block = kind == '%';
        tokens_.push_back({block ? Tok::block_begin : Tok::var_begin, "", p});
        size_t end = lex_expression(inner, block ? '%' : '}');
        bool strip = src_[end] == '-';
        bool plus = src_[end] == '+';
        size_t after = end + (strip || plus ? 1 : 0) + 2;
        tokens_.push_back({block ? Tok::block_end : Tok::var_end, "", end});
        pos = finish_tag(after, strip, block && !plus);
        if (block && is_raw_begin()) pos = lex_raw(pos);
      }
      line_starting = pos > 0 && src_[pos - 1] == '\n';
    }
    tokens_.push_back({Tok::eof, "", src_.size()});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return src_.size();
  }

  void emit_text(std::string text, size_t pos) {
    if (!text.empty()) tokens_.push_back({Tok::text, std::move(text), pos});
  }

  // After a closing delimiter: `-` strips all whitespace, trim_blocks one newline.
  size_t finish_tag(size_t pos, bool strip, bool trim_newline) {
    if (strip) {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
    } else if (trim_newline && pos < src_.size() && src_[pos] == '\n') {
      ++pos;
    }
    return pos;
  }

  bool is_raw_begin() const {
    size_t n = tokens_.size();
    return n >= 3 && tokens_[n - 3].type == Tok::block_begin && tokens_[n - 2].type == Tok::name &&
           tokens_[n - 2].value == "raw";
  }

  // {% raw %}...{% endraw %}: the inside is text.
  size_t lex_raw(size_t pos) {
    tokens_.resize(tokens_.size() - 3);
    for (size_t i = pos; i + 1 < src_.size(); ++i) {
      if (src_[i] != '{' || src_[i + 1] != '%') continue;
      size_t j = i + 2;
      bool lstrip = j < src_.size() && src_[j] == '-';
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
      while (j < src_.size() && is_space(src_[j])) ++j;
      if (src_.compare(j, 6, "endraw") != 0) continue;
      j += 6;
      while (j < src_.size() && is_space(src_[j])) ++j;
      bool strip = j < src_.size() && src_[j] == '-';
      if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
      if (src_.compare(j, 2, "%}") != 0) continue;
      std::string text(src_.substr(pos, i - pos));
      if (lstrip) text.erase(std::find_if_not(text.rbegin(), text.rend(), is_space).base(), text.end());
      emit_text(std::move(text), pos);
      return finish_tag(j + 2, strip, true);
    }
    fail_at(src_, pos, "missing endraw tag");
  }

  // Tokens of one tag until its closer ("%}" or "}}", optionally with - or + before).
  // Returns the position of the closer (or of its - / +).
  size_t lex_expression(size_t pos, char closer) {
    int depth = 0;  // brackets: a '}' inside {...} does not close a variable tag
    while (true) {
      while (pos < src_.size() && is_space(src_[pos])) ++pos;
      if (pos >= src_.size()) fail_at(src_, pos, closer == '%' ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      char c = src_[pos];
      auto closes_at = [&](size_t at) { return at + 1 < src_.size() && src_[at] == closer && src_[at + 1] == '}'; };
      if (depth == 0 && closes_at(pos)) return pos;
      if (depth == 0 && (c == '-' || c == '+') && closes_at(pos + 1)) return pos;
      if (is_name_start(c)) {
        size_t s = pos;
        while (pos < src_.size() && is_name_char(src_[pos])) ++pos;
        tokens_.push_back({Tok::name, std::string(src_.substr(s, pos - s)), s});
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        pos = lex_number(pos);
      } else if (c == '\'' || c == '"') {
        pos = lex_string(pos);
      } else {
        static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"};
        const char* op = nullptr;
        for (const char* o : kOps) {
          if (src_.compare(pos, std::strlen(o), o) == 0) { op = o; break; }
        }
        if (!op) fail_at(src_, pos, std::string("unexpected char '") + c + "'");
        if (*op == '(' || *op == '[' || *op == '{') ++depth;
        if ((*op == ')' || *op == ']' || *op == '}') && depth > 0) --depth;
        tokens_.push_back({Tok::op, op, pos});
        pos += std::strlen(op);
      }
    }
  }

  size_t lex_number(size_t pos) {
    size_t s = pos;
    bool is_float = false;
    auto digits = [&] {
      while (pos < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos])) || src_[pos] == '_')) ++pos;
    };
    digits();
    if (pos + 1 < src_.size() && src_[pos] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos + 1]))) {
      is_float = true;
      ++pos;
      digits();
    }
    if (pos < src_.size() && (src_[pos] == 'e' || src_[pos] == 'E')) {
      size_t q = pos + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
        is_float = true;
        pos = q;
        digits();
      }
    }
    std::string text;
    for (size_t i = s; i < pos; ++i)
      if (src_[i] != '_') text += src_[i];
    tokens_.push_back({is_float ? Tok::floating : Tok::integer, text, s});
    return pos;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Python string literal escapes, as jinja2 decodes them.
  size_t lex_string(size_t pos) {
    char q = src_[pos];
    size_t s = pos++;
    std::string out;
    while (true) {
      if (pos >= src_.size()) fail_at(src_, s, "unterminated string");
      char c = src_[pos++];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos >= src_.size()) fail_at(src_, s, "unterminated string");
      char e = src_[pos++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;
        case 'x': case 'u': case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (pos + n > src_.size()) fail_at(src_, pos, "truncated escape");
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            char h = src_[pos + k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) fail_at(src_, pos, "bad escape");
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          if (cp > 0x10FFFF) fail_at(src_, pos, "bad escape");
          pos += n;
          append_utf8(out, cp);
          break;
        }
        default: out += '\\'; out += e;
      }
    }
    tokens_.push_back({Tok::string, std::move(out), s});
    return pos;
  }

  std::string_view src_;
  std::vector<Token> tokens_;
};

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens) : src_(src), toks_(std::move(tokens)) {
    line_starts_.push_back(0);
    for (size_t k = 0; k < src_.size(); ++k)
      if (src_[k] == '\n') line_starts_.push_back(k + 1);
  }

  std::unique_ptr<TemplateAst> run() {
    auto ast = std::make_unique<TemplateAst>();
    std::string end = parse_body(ast->body, {});
    (void)end;
    return ast;
  }

 private:
  const Token& peek(size_t k = 0) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  [[noreturn]] void fail(const std::string& msg) const { fail_at(src_, peek().pos, msg); }
  bool is_op(const char* op, size_t k = 0) const { return peek(k).type == Tok::op && peek(k).value == op; }
  bool is_name(const char* n, size_t k = 0) const { return peek(k).type == Tok::name && peek(k).value == n; }
  bool accept_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool accept_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(std::string("expected '") + op + "'");
  }
  std::string expect_name() {
    if (peek().type != Tok::name) fail("expected a name");
    return next().value;
  }
  void expect_block_end() {
    if (peek().type != Tok::block_end) fail("expected end of statement block");
    next();
  }

  struct Depth {
    explicit Depth(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.fail("template nested too deeply");
    }
    ~Depth() { --p_.depth_; }
    Parser& p_;
  };

  template <typename T>
  void locate(T& n, size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    n.line = static_cast<int>(line);
    n.col = static_cast<int>(pos - line_starts_[line - 1] + 1);
  }

  ExprPtr make(Expr::Type t, size_t pos) {
    auto e = std::make_unique<Expr>();
    e->type = t;
    locate(*e, pos);
    return e;
  }

  // Parses statements until a block tag whose name is in `ends`; returns that name (consumed
  // up to and including the name), or "" at end of input (an error when ends is not empty).
  std::string parse_body(Body& body, std::initializer_list<const char*> ends) {
    Depth d(*this);
    while (true) {
      const Token& t = peek();
      if (t.type == Tok::eof) {
        if (ends.size() != 0) fail(std::string("unexpected end of template, expected '") + *ends.begin() + "'");
        return "";
      }
      if (t.type == Tok::text) {
        auto n = std::make_unique<Node>();
        n->type = Node::Type::text;
        n->text = next().value;
        body.push_back(std::move(n));
      } else if (t.type == Tok::var_begin) {
        auto n = std::make_unique<Node>();
        n->type = Node::Type::output;
        locate(*n, t.pos);
        next();
        n->expr = parse_tuple_or_expr();
        if (peek().type != Tok::var_end) fail("expected end of print statement");
        next();
        body.push_back(std::move(n));
      } else if (t.type == Tok::block_begin) {
        size_t pos = t.pos;
        next();
        if (peek().type != Tok::name) fail("expected a statement name");
        std::string name = peek().value;
        for (const char* e : ends) {
          if (name == e) {
            next();
            return name;
          }
        }
        next();
        body.push_back(parse_statement(name, pos));
      } else {
        fail("unexpected token");
      }
    }
  }

  NodePtr parse_statement(const std::string& name, size_t pos) {
    auto n = std::make_unique<Node>();
    locate(*n, pos);
    if (name == "if") {
      n->type = Node::Type::if_;
      ExprPtr cond = parse_expr();
      while (true) {
        expect_block_end();
        Body body;
        std::string end = parse_body(body, {"elif", "else", "endif"});
        n->branches.emplace_back(std::move(cond), std::move(body));
        if (end == "endif") break;
        if (end == "else") {
          expect_block_end();
          Body else_body;
          parse_body(else_body, {"endif"});
          n->branches.emplace_back(nullptr, std::move(else_body));
          break;
        }
        cond = parse_expr();
      }
      expect_block_end();
    } else if (name == "for") {
      n->type = Node::Type::for_;
      do {
        n->targets.push_back(expect_name());
      } while (accept_op(","));
      if (!accept_name("in")) fail("expected 'in'");
      n->expr = parse_tuple_or_expr(/*no_cond=*/true);
      if (accept_name("if")) n->cond = parse_expr();
      if (accept_name("recursive")) fail("recursive loops are not supported");
      expect_block_end();
      std::string end = parse_body(n->body, {"else", "endfor"});
      if (end == "else") {
        expect_block_end();
        parse_body(n->else_body, {"endfor"});
      }
      expect_block_end();
    } else if (name == "set") {
      std::string target = expect_name();
      if (accept_op(".")) n->attr = expect_name();
      if (is_op(",")) {
        n->targets.push_back(target);
        while (accept_op(",")) n->targets.push_back(expect_name());
      }
      n->text = target;
      if (accept_op("=")) {
        n->type = Node::Type::set;
        n->expr = parse_tuple_or_expr();
        expect_block_end();
      } else {
        if (!n->attr.empty() || !n->targets.empty()) fail("expected '='");
        n->type = Node::Type::set_block;
        parse_filter_chain(*n);
        expect_block_end();
        parse_body(n->body, {"endset"});
        expect_block_end();
      }
    } else if (name == "macro") {
      n->type = Node::Type::macro;
      n->text = expect_name();
      parse_params(*n);
      expect_block_end();
      parse_body(n->body, {"endmacro"});
      if (peek().type == Tok::name) next();
      expect_block_end();
    } else if (name == "call") {
      n->type = Node::Type::call_block;
      if (is_op("(")) parse_params(*n);
      n->expr = parse_expr();
      if (n->expr->type != Expr::Type::call) fail("expected a call");
      expect_block_end();
      parse_body(n->body, {"endcall"});
      expect_block_end();
    } else if (name == "filter") {
      n->type = Node::Type::filter_block;
      n->filters.emplace_back(expect_name(), parse_filter_args());
      parse_filter_chain(*n);
      expect_block_end();
      parse_body(n->body, {"endfilter"});
      expect_block_end();
    } else if (name == "break" || name == "continue") {
      n->type = name == "break" ? Node::Type::break_ : Node::Type::continue_;
      expect_block_end();
    } else if (name == "generation") {
      // Hugging Face's AssistantTracker tag: renders its body unchanged.
      n->type = Node::Type::filter_block;
      expect_block_end();
      parse_body(n->body, {"endgeneration"});
      expect_block_end();
    } else {
      fail_at(src_, pos, "unknown tag '" + name + "'");
    }
    return n;
  }

  void parse_filter_chain(Node& n) {
    while (accept_op("|")) n.filters.emplace_back(expect_name(), parse_filter_args());
  }

  std::vector<ExprPtr> parse_filter_args() {
    std::vector<ExprPtr> args;
    if (accept_op("(")) {
      while (!accept_op(")")) {
        args.push_back(parse_expr());
        if (!is_op(")")) expect_op(",");
      }
    }
    return args;
  }

  void parse_params(Node& n) {
    expect_op("(");
    while (!accept_op(")")) {
      std::string p = expect_name();
      ExprPtr def;
      if (accept_op("=")) def = parse_expr();
      n.params.emplace_back(std::move(p), std::move(def));
      if (!is_op(")")) expect_op(",");
    }
  }

  // A bare tuple (`a, b`) is allowed where Jinja allows one: print, set, for iterables.
  ExprPtr parse_tuple_or_expr(bool no_cond = false) {
    size_t pos = peek().pos;
    ExprPtr first = no_cond ? parse_or() : parse_expr();
    if (!is_op(",")) return first;
    auto t = make(Expr::Type::tuple, pos);
    t->args.push_back(std::move(first));
    while (accept_op(",")) {
      if (peek().type == Tok::block_end || peek().type == Tok::var_end) break;
      t->args.push_back(no_cond ? parse_or() : parse_expr());
    }
    return t;
  }

  ExprPtr parse_expr() {
    Depth d(*this);
    size_t pos = peek().pos;
    ExprPtr e = parse_or();
    if (is_name("if")) {
      next();
      auto c = make(Expr::Type::cond, pos);
      c->args.push_back(parse_or());  // condition
      c->args.push_back(std::move(e));  // then
      if (accept_name("else")) c->args.push_back(parse_expr());
      return c;
    }
    return e;
  }

  ExprPtr parse_or() {
    size_t pos = peek().pos;
    ExprPtr e = parse_and();
    while (accept_name("or")) {
      auto o = make(Expr::Type::or_, pos);
      o->args.push_back(std::move(e));
      o->args.push_back(parse_and());
      e = std::move(o);
    }
    return e;
  }

  ExprPtr parse_and() {
    size_t pos = peek().pos;
    ExprPtr e = parse_not();
    while (accept_name("and")) {
      auto o = make(Expr::Type::and_, pos);
      o->args.push_back(std::move(e));
      o->args.push_back(parse_not());
      e = std::move(o);
    }
    return e;
  }

  ExprPtr parse_not() {
    Depth d(*this);
    size_t pos = peek().pos;
    if (accept_name("not")) {
      auto o = make(Expr::Type::not_, pos);
      o->args.push_back(parse_not());
      return o;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    size_t pos = peek().pos;
    ExprPtr e = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (peek().type == Tok::op && (peek().value == "==" || peek().value == "!=" || peek().value == "<" ||
                                     peek().value == ">" || peek().value == "<=" || peek().value == ">=")) {
        op = next().value;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Type::compare, pos);
        cmp->args.push_back(std::move(e));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(e);
  }

  ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b, size_t pos) {
    auto o = make(Expr::Type::binary, pos);
    o->name = op;
    o->args.push_back(std::move(a));
    o->args.push_back(std::move(b));
    return o;
  }

  ExprPtr parse_math1() {
    size_t pos = peek().pos;
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = next().value;
      e = binary(op, std::move(e), parse_concat(), pos);
    }
    return e;
  }

  ExprPtr parse_concat() {
    size_t pos = peek().pos;
    ExprPtr e = parse_math2();
    while (accept_op("~")) e = binary("~", std::move(e), parse_math2(), pos);
    return e;
  }

  ExprPtr parse_math2() {
    size_t pos = peek().pos;
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = next().value;
      e = binary(op, std::move(e), parse_pow(), pos);
    }
    return e;
  }

  ExprPtr parse_pow() {
    size_t pos = peek().pos;
    ExprPtr e = parse_unary();
    while (accept_op("**")) e = binary("**", std::move(e), parse_unary(), pos);
    return e;
  }

  ExprPtr parse_unary(bool with_filter = true) {
    Depth d(*this);
    size_t pos = peek().pos;
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      bool neg = next().value == "-";
      e = make(neg ? Expr::Type::neg : Expr::Type::pos, pos);
      e->args.push_back(parse_unary(false));
    } else {
      e = parse_postfix(parse_primary());
    }
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    Depth d(*this);
    const Token& t = peek();
    size_t pos = t.pos;
    switch (t.type) {
      case Tok::name: {
        std::string n = next().value;
        auto e = make(Expr::Type::literal, pos);
        if (n == "true" || n == "True") e->value = Value(true);
        else if (n == "false" || n == "False") e->value = Value(false);
        else if (n == "none" || n == "None") e->value = Value::none();
        else {
          e->type = Expr::Type::name;
          e->name = n;
        }
        return e;
      }
      case Tok::string: {
        std::string s = next().value;
        while (peek().type == Tok::string) s += next().value;  // adjacent literals concatenate
        auto e = make(Expr::Type::literal, pos);
        e->value = Value(std::move(s));
        return e;
      }
      case Tok::integer: {
        auto e = make(Expr::Type::literal, pos);
        errno = 0;
        const std::string& text = next().value;
        long long v = std::strtoll(text.c_str(), nullptr, 10);
        if (errno == ERANGE) e->value = Value(std::strtod(text.c_str(), nullptr));
        else e->value = Value(static_cast<int64_t>(v));
        return e;
      }
      case Tok::floating: {
        auto e = make(Expr::Type::literal, pos);
        e->value = Value(std::strtod(next().value.c_str(), nullptr));
        return e;
      }
      case Tok::op: {
        if (accept_op("(")) {
          if (accept_op(")")) return make(Expr::Type::tuple, pos);
          ExprPtr first = parse_expr();
          if (accept_op(")")) return first;
          auto tup = make(Expr::Type::tuple, pos);
          tup->args.push_back(std::move(first));
          while (accept_op(",")) {
            if (is_op(")")) break;
            tup->args.push_back(parse_expr());
          }
          expect_op(")");
          return tup;
        }
        if (accept_op("[")) {
          auto l = make(Expr::Type::list, pos);
          while (!accept_op("]")) {
            l->args.push_back(parse_expr());
            if (!is_op("]")) expect_op(",");
          }
          return l;
        }
        if (accept_op("{")) {
          auto dct = make(Expr::Type::dict, pos);
          while (!accept_op("}")) {
            dct->args.push_back(parse_expr());
            expect_op(":");
            dct->args.push_back(parse_expr());
            if (!is_op("}")) expect_op(",");
          }
          return dct;
        }
        break;
      }
      default: break;
    }
    fail(t.type == Tok::eof ? "unexpected end of template" : "unexpected '" + t.value + "'");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      size_t pos = peek().pos;
      if (accept_op(".")) {
        auto a = make(Expr::Type::getattr, pos);
        if (peek().type == Tok::integer) {
          a->type = Expr::Type::getitem;
          auto idx = make(Expr::Type::literal, pos);
          idx->value = Value(static_cast<int64_t>(std::strtoll(next().value.c_str(), nullptr, 10)));
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
        } else {
          a->name = expect_name();
          a->args.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (accept_op("[")) {
        e = parse_subscript(std::move(e), pos);
      } else if (is_op("(")) {
        e = parse_call(std::move(e), pos);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr target, size_t pos) {
    ExprPtr parts[3];
    int colons = 0;
    if (!is_op(":")) parts[0] = parse_expr();
    while (colons < 2 && accept_op(":")) {
      ++colons;
      if (!is_op(":") && !is_op("]")) parts[colons] = parse_expr();
    }
    expect_op("]");
    if (colons == 0) {
      auto g = make(Expr::Type::getitem, pos);
      g->args.push_back(std::move(target));
      g->args.push_back(std::move(parts[0]));
      return g;
    }
    auto s = make(Expr::Type::slice, pos);
    s->args.push_back(std::move(target));
    for (auto& p : parts) s->args.push_back(std::move(p));  // null = omitted
    return s;
  }

  void parse_call_args(Expr& call) {
    expect_op("(");
    while (!accept_op(")")) {
      if (peek().type == Tok::name && is_op("=", 1)) {
        std::string k = next().value;
        next();
        call.kwargs.emplace_back(std::move(k), parse_expr());
      } else {
        call.args.push_back(parse_expr());
      }
      if (!is_op(")")) expect_op(",");
    }
  }

  ExprPtr parse_call(ExprPtr callee, size_t pos) {
    auto c = make(Expr::Type::call, pos);
    c->args.push_back(std::move(callee));
    parse_call_args(*c);
    return c;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      size_t pos = peek().pos;
      if (accept_op("|")) {
        auto f = make(Expr::Type::filter, pos);
        f->name = expect_name();
        f->args.push_back(std::move(e));
        if (is_op("(")) parse_call_args(*f);
        e = parse_postfix(std::move(f));
      } else if (is_name("is")) {
        next();
        auto t = make(Expr::Type::test, pos);
        t->negated = accept_name("not");
        t->name = expect_name();
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          parse_call_args(*t);
        } else if ((peek().type == Tok::name && !is_name("else") && !is_name("or") && !is_name("and") &&
                    !is_name("if") && !is_name("is") && !is_name("in") && !is_name("not")) ||
                   peek().type == Tok::string || peek().type == Tok::integer || peek().type == Tok::floating ||
                   is_op("[") || is_op("{")) {
          t->args.push_back(parse_postfix(parse_primary()));
        }
        e = std::move(t);
      } else {
        return e;
      }
    }
  }

  std::string_view src_;
  std::vector<Token> toks_;
  std::vector<size_t> line_starts_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<TemplateAst> parse_template(std::string_view source) {
  Lexer lexer(source);
  Parser parser(source, lexer.run());
  return parser.run();
}

}  // namespace hearth::chat::jinja
