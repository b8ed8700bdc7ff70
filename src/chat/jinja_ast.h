#pragma once
// Syntax tree of a parsed Jinja template (internal to the Jinja interpreter).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace hearth::chat::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Type {
    literal, name, list, tuple, dict, getattr, getitem, slice, call, filter, test,
    not_, neg, pos, binary, compare, and_, or_, cond,
  };
  Type type;
  int line = 0, col = 0;
  Value value;              // literal
  std::string name;         // name, attribute, filter, test, binary operator
  bool negated = false;     // `is not`
  std::vector<ExprPtr> args;                                // operands / positional args
  std::vector<std::pair<std::string, ExprPtr>> kwargs;      // keyword args
  std::vector<std::string> ops;                             // compare chain operators
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Type { text, output, if_, for_, set, set_block, macro, call_block, filter_block, break_, continue_ };
  Type type;
  int line = 0, col = 0;
  std::string text;                         // text; set/set_block/macro name
  std::string attr;                         // set ns.attr
  std::vector<std::string> targets;         // for / tuple set targets
  ExprPtr expr;                             // output, set value, for iterable, call expression
  ExprPtr cond;                             // for ... if cond
  std::vector<std::pair<ExprPtr, Body>> branches;  // if/elif/else (else: null condition)
  Body body, else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // macro / caller parameters with defaults
  std::vector<std::pair<std::string, std::vector<ExprPtr>>> filters;  // filter block: name, args
};

struct TemplateAst {
  Body body;
};

}  // namespace hearth::chat::jinja
