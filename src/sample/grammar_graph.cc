// Grammar: the node graph json_schema.cc builds, and finalize(), which resolves and flattens it
// for the matcher.
#include "sample/grammar.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "sample/grammar_steps.h"
#include "util/error.h"

namespace hearth::sample {

using grammar_internal::fnv;

int32_t Grammar::add(GrammarNode node) {
  nodes_.push_back(std::move(node));
  return static_cast<int32_t>(nodes_.size() - 1);
}

int32_t Grammar::resolve(int32_t id) const {
  // Follows aliases; a chain longer than the node count is a cycle.
  for (size_t hops = 0; hops <= nodes_.size(); ++hops) {
    const GrammarNode& n = nodes_[static_cast<size_t>(id)];
    if (n.kind != GrammarNodeKind::alias) return id;
    id = n.alternatives[0];
  }
  throw Error(ErrorCode::invalid_argument, "invalid JSON schema: a $ref chain loops without a value");
}

void Grammar::finalize(int32_t root) {
  GrammarNode str;
  str.kind = GrammarNodeKind::string;
  any_string_ = add(std::move(str));

  const size_t n_built = nodes_.size();
  for (size_t i = 0; i < n_built; ++i) {
    GrammarNode& n = nodes_[i];
    if (n.kind != GrammarNodeKind::object || n.extra < 0) continue;
    if (n.properties.empty()) {
      n.extra_key = any_string_;
      continue;
    }
    GrammarNode key;
    key.kind = GrammarNodeKind::string;
    for (const GrammarProperty& p : n.properties) {
      key.excluded.push_back(fnv(std::string_view(p.key).substr(1, p.key.size() - 2)));
    }
    std::sort(key.excluded.begin(), key.excluded.end());
    const int32_t id = add(std::move(key));
    nodes_[i].extra_key = id;  // add() may have moved the nodes
  }

  for (GrammarNode& n : nodes_) {
    for (GrammarProperty& p : n.properties) p.node = resolve(p.node);
    if (n.extra >= 0) n.extra = resolve(n.extra);
    if (n.items >= 0) n.items = resolve(n.items);
    for (int32_t& p : n.prefix) p = resolve(p);
    if (n.kind == GrammarNodeKind::literals) {
      std::sort(n.literals.begin(), n.literals.end());
      n.literals.erase(std::unique(n.literals.begin(), n.literals.end()), n.literals.end());
      // An empty literal cannot be read; it is not valid JSON anyway.
      if (!n.literals.empty() && n.literals[0].empty()) n.literals.erase(n.literals.begin());
      if (n.literals.empty()) n.kind = GrammarNodeKind::never;
    }
  }
  root_ = resolve(root);

  // Flatten choices: alternatives become the leaf nodes they reach through choices and aliases
  // (a choice that reaches itself contributes nothing more the second time).
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].kind != GrammarNodeKind::choice) continue;
    std::vector<int32_t> leaves, stack(nodes_[i].alternatives.rbegin(), nodes_[i].alternatives.rend());
    std::vector<bool> seen(nodes_.size(), false);
    seen[i] = true;
    while (!stack.empty()) {
      int32_t id = resolve(stack.back());
      stack.pop_back();
      if (seen[static_cast<size_t>(id)]) continue;
      seen[static_cast<size_t>(id)] = true;
      const GrammarNode& a = nodes_[static_cast<size_t>(id)];
      if (a.kind == GrammarNodeKind::choice) {
        stack.insert(stack.end(), a.alternatives.rbegin(), a.alternatives.rend());
      } else if (a.kind != GrammarNodeKind::never) {
        leaves.push_back(id);
      }
    }
    nodes_[i].alternatives = std::move(leaves);
  }

  for (GrammarNode& n : nodes_) {
    n.first.reset();
    switch (n.kind) {
      case GrammarNodeKind::object: n.first.set('{'); break;
      case GrammarNodeKind::array: n.first.set('['); break;
      case GrammarNodeKind::string: n.first.set('"'); break;
      case GrammarNodeKind::number:
        n.first.set('-');
        for (int c = '0'; c <= '9'; ++c) n.first.set(static_cast<size_t>(c));
        break;
      case GrammarNodeKind::literals:
        for (const std::string& l : n.literals) n.first.set(static_cast<uint8_t>(l[0]));
        break;
      default: break;
    }
  }
  for (GrammarNode& n : nodes_) {
    if (n.kind != GrammarNodeKind::choice) continue;
    for (int32_t a : n.alternatives) n.first |= nodes_[static_cast<size_t>(a)].first;
  }
  for (const GrammarNode& n : nodes_) {
    for (const GrammarProperty& p : n.properties) {
      if (p.key.size() < 2 || p.key.size() > UINT16_MAX) {
        throw Error(ErrorCode::invalid_argument, "a property name in the schema is too long");
      }
    }
    for (const std::string& l : n.literals) {
      if (l.size() >= UINT16_MAX) {
        throw Error(ErrorCode::invalid_argument, "an enum or const value in the schema is too long");
      }
    }
  }
}

}  // namespace hearth::sample
