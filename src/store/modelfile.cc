#include "store/modelfile.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "util/error.h"

namespace hearth::store {

namespace {

enum class St { nil, name, value, parameter, message, comment };

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_newline(char c) { return c == '\r' || c == '\n'; }
bool is_print(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= 0x20 && u < 0x7f);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = s.size();
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

bool unquote(const std::string& s, std::string* out) {
  if (s.size() >= 3 && s.compare(0, 3, "\"\"\"") == 0) {
    if (s.size() >= 6 && s.compare(s.size() - 3, 3, "\"\"\"") == 0) {
      *out = s.substr(3, s.size() - 6);
      return true;
    }
    return false;
  }
  if (!s.empty() && s[0] == '"') {
    if (s.size() >= 2 && s.back() == '"') {
      *out = s.substr(1, s.size() - 2);
      return true;
    }
    return false;
  }
  *out = s;
  return true;
}

bool valid_command(const std::string& c) {
  static const char* kCommands[] = {"from", "license", "template", "system", "adapter", "draft",
                                    "renderer", "parser", "parameter", "message", "requires"};
  std::string l = lower(c);
  for (const char* k : kCommands) {
    if (l == k) return true;
  }
  return false;
}

const char* kInvalidCommand =
    "command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", "
    "\"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or \"requires\"";
const char* kInvalidRole = "message role must be one of \"system\", \"user\", or \"assistant\"";

[[noreturn]] void line_error(int line, const std::string& msg) {
  throw Error(ErrorCode::invalid_argument, "(line " + std::to_string(line) + "): " + msg);
}

enum class Type { int_, float_, bool_, strings };

struct ParamDef {
  const char* name;
  Type type;
};

// Ollama's Options and Runner fields by JSON name (api/types.go).
const ParamDef kParams[] = {
    {"num_ctx", Type::int_},          {"num_batch", Type::int_},
    {"num_gpu", Type::int_},          {"main_gpu", Type::int_},
    {"use_mmap", Type::bool_},        {"num_thread", Type::int_},
    {"num_keep", Type::int_},         {"seed", Type::int_},
    {"num_predict", Type::int_},      {"top_k", Type::int_},
    {"top_p", Type::float_},          {"min_p", Type::float_},
    {"typical_p", Type::float_},      {"repeat_last_n", Type::int_},
    {"temperature", Type::float_},    {"repeat_penalty", Type::float_},
    {"presence_penalty", Type::float_}, {"frequency_penalty", Type::float_},
    {"stop", Type::strings},          {"draft_num_predict", Type::int_},
};

// float32 printed with the fewest digits that read back to the same float, as Go's JSON does.
double shortest_float32(float f) {
  char buf[64];
  for (int p = 1; p <= 9; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) return std::strtod(buf, nullptr);
  }
  return static_cast<double>(f);
}

std::string bracketed(const std::string& v) { return "[" + v + "]"; }

std::string expand_path(const std::string& path, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path p;
  if (!path.empty() && path[0] == '/') {
    p = path;
  } else if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    p = fs::path(home != nullptr ? home : "") / path.substr(path.size() > 1 ? 2 : 1);
  } else {
    p = fs::path(dir.empty() ? "." : dir) / path;
  }
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

}  // namespace

Modelfile Modelfile::parse(std::string_view text) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.remove_prefix(3);
  }
  Modelfile f;
  ModelfileCommand cmd;
  St curr = St::nil;
  int line = 1;
  std::string buf, role;

  for (char r : text) {
    if (is_newline(r)) ++line;
    // The transition for this character, as Ollama's parseRuneForState.
    St next = curr;
    char keep = r;
    switch (curr) {
      case St::nil:
        if (r == '#') {
          next = St::comment;
          keep = 0;
        } else if (is_space(r) || is_newline(r)) {
          keep = 0;
        } else {
          next = St::name;
        }
        break;
      case St::name:
        if (is_alpha(r)) break;
        if (is_space(r)) {
          next = St::value;
          keep = 0;
          break;
        }
        line_error(line, kInvalidCommand);
      case St::value:
        if (is_newline(r) || is_space(r)) next = St::nil;
        break;
      case St::parameter:
        if (is_alpha(r) || is_digit(r) || r == '_') break;
        if (is_space(r)) {
          next = St::value;
          keep = 0;
          break;
        }
        // Ollama wraps io.ErrUnexpectedEOF with what it had read of the name so far.
        throw Error(ErrorCode::invalid_argument, "unexpected EOF: " + buf);
      case St::message:
        if (is_alpha(r)) break;
        if (is_space(r)) {
          next = St::value;
          keep = 0;
          break;
        }
        throw Error(ErrorCode::invalid_argument, "unexpected EOF: " + buf);
      case St::comment:
        keep = 0;
        if (is_newline(r)) next = St::nil;
        break;
    }

    if (next != curr) {
      switch (curr) {
        case St::name: {
          if (!valid_command(buf)) line_error(line, kInvalidCommand);
          std::string s = lower(buf);
          if (s == "from") {
            cmd.name = "model";
          } else if (s == "parameter") {
            next = St::parameter;
          } else if (s == "message") {
            next = St::message;
            cmd.name = s;
          } else {
            cmd.name = s;
          }
          break;
        }
        case St::parameter:
          cmd.name = buf;
          break;
        case St::message:
          if (buf != "system" && buf != "user" && buf != "assistant") line_error(line, kInvalidRole);
          role = buf;
          break;
        case St::comment:
        case St::nil:
          break;
        case St::value: {
          std::string s;
          // A value ends only at a newline that leaves its quotes balanced.
          if (!unquote(trim(buf), &s) || is_space(r)) {
            buf.push_back(r);
            continue;
          }
          if (!role.empty()) {
            s = role + ": " + s;
            role.clear();
          }
          cmd.args = s;
          f.commands.push_back(cmd);
          break;
        }
      }
      buf.clear();
      curr = next;
    }
    if (keep != 0 && is_print(keep)) buf.push_back(keep);
  }

  switch (curr) {
    case St::comment:
    case St::nil:
      break;
    case St::value: {
      std::string s;
      if (!unquote(trim(buf), &s)) throw Error(ErrorCode::invalid_argument, "unexpected EOF");
      if (!role.empty()) s = role + ": " + s;
      cmd.args = s;
      f.commands.push_back(cmd);
      break;
    }
    default:
      throw Error(ErrorCode::invalid_argument, "unexpected EOF");
  }
  for (const auto& c : f.commands) {
    if (c.name == "model") return f;
  }
  throw Error(ErrorCode::invalid_argument, "no FROM line");
}

std::string modelfile_quote(const std::string& s) {
  bool needs = s.find('\n') != std::string::npos || (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!needs) return s;
  if (s.find('"') != std::string::npos) return "\"\"\"" + s + "\"\"\"";
  return "\"" + s + "\"";
}

std::string Modelfile::to_string() const {
  std::string out;
  for (const auto& c : commands) {
    if (c.name == "model") {
      out += "FROM " + c.args;
    } else if (c.name == "license" || c.name == "template" || c.name == "system" ||
               c.name == "adapter" || c.name == "renderer" || c.name == "parser" ||
               c.name == "requires" || c.name == "draft") {
      std::string up = c.name;
      for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      out += up + " " + modelfile_quote(c.args);
    } else if (c.name == "message") {
      auto pos = c.args.find(": ");
      std::string role = c.args.substr(0, pos);
      std::string msg = pos == std::string::npos ? "" : c.args.substr(pos + 2);
      out += "MESSAGE " + role + " " + modelfile_quote(msg);
    } else {
      out += "PARAMETER " + c.name + " " + modelfile_quote(c.args);
    }
    out += "\n";
  }
  return out;
}

bool is_deprecated_parameter(std::string_view name) {
  static const char* kDeprecated[] = {"penalize_newline", "low_vram", "f16_kv", "logits_all",
                                      "vocab_only", "use_mlock", "mirostat", "mirostat_tau",
                                      "mirostat_eta", "tfs_z", "numa"};
  for (const char* d : kDeprecated) {
    if (name == d) return true;
  }
  return false;
}

nlohmann::json parse_parameter_value(const std::string& name, const std::string& value) {
  const ParamDef* def = nullptr;
  for (const auto& p : kParams) {
    if (name == p.name) def = &p;
  }
  if (def == nullptr) throw Error(ErrorCode::invalid_argument, "unknown parameter '" + name + "'");
  switch (def->type) {
    case Type::int_: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno == ERANGE || std::isspace(static_cast<unsigned char>(value[0]))) {
        throw Error(ErrorCode::invalid_argument, "invalid int value " + bracketed(value));
      }
      return v;
    }
    case Type::float_: {
      errno = 0;
      char* end = nullptr;
      float v = std::strtof(value.c_str(), &end);
      if (value.empty() || *end != '\0' || errno == ERANGE || std::isspace(static_cast<unsigned char>(value[0])) ||
          !std::isfinite(v)) {
        throw Error(ErrorCode::invalid_argument, "invalid float value " + bracketed(value));
      }
      return shortest_float32(v);
    }
    case Type::bool_: {
      // strconv.ParseBool's spellings.
      static const char* kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
      static const char* kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
      for (const char* t : kTrue) {
        if (value == t) return true;
      }
      for (const char* t : kFalse) {
        if (value == t) return false;
      }
      throw Error(ErrorCode::invalid_argument, "invalid bool value " + bracketed(value));
    }
    case Type::strings:
      return nlohmann::json::array({value});
  }
  return nullptr;
}

CreateSpec build_create_spec(const Modelfile& mf, const std::string& modelfile_dir,
                             std::vector<std::string>* warnings) {
  CreateSpec spec;
  for (const auto& c : mf.commands) {
    if (c.name == "model") {
      std::string path = expand_path(c.args, modelfile_dir);
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {
        spec.from = c.args;
        spec.from_path.clear();
      } else if (S_ISDIR(st.st_mode)) {
        throw Error(ErrorCode::unsupported,
                    "FROM " + c.args + ": importing safetensors directories is not supported yet");
      } else {
        spec.from_path = path;
        spec.from.clear();
      }
    } else if (c.name == "adapter") {
      spec.adapters.push_back(expand_path(c.args, modelfile_dir));
    } else if (c.name == "draft") {
      throw Error(ErrorCode::unsupported, "DRAFT models are not supported yet");
    } else if (c.name == "template") {
      spec.template_text = c.args;
      spec.has_template = true;
    } else if (c.name == "system") {
      spec.system = c.args;
      spec.has_system = true;
    } else if (c.name == "license") {
      spec.licenses.push_back(c.args);
    } else if (c.name == "renderer") {
      spec.renderer = c.args;
    } else if (c.name == "parser") {
      spec.parser = c.args;
    } else if (c.name == "requires") {
      std::string v = c.args.rfind('v', 0) == 0 ? c.args.substr(1) : c.args;
      // semver: MAJOR[.MINOR[.PATCH]] with an optional -prerelease / +build.
      size_t i = 0, parts = 0;
      bool ok = true;
      while (ok) {
        size_t start = i;
        while (i < v.size() && is_digit(v[i])) ++i;
        if (i == start) ok = false;
        ++parts;
        if (i < v.size() && v[i] == '.' && parts < 3) {
          ++i;
          continue;
        }
        break;
      }
      if (i < v.size() && v[i] != '-' && v[i] != '+') ok = false;
      if (!ok) throw Error(ErrorCode::invalid_argument, "requires must be a valid semver (e.g. 0.14.0)");
      spec.requires_version = v;
    } else if (c.name == "message") {
      auto pos = c.args.find(": ");
      ChatMessage m;
      m.role = c.args.substr(0, pos);
      if (pos != std::string::npos) m.content = c.args.substr(pos + 2);
      spec.messages.push_back(std::move(m));
    } else {
      if (is_deprecated_parameter(c.name)) {
        if (warnings != nullptr) warnings->push_back("parameter " + c.name + " is deprecated");
        continue;
      }
      nlohmann::json v = parse_parameter_value(c.name, c.args);
      auto& slot = spec.parameters[c.name];
      if (v.is_array() && slot.is_array()) {
        for (auto& e : v) slot.push_back(e);
      } else {
        slot = v;
      }
    }
  }
  return spec;
}

}  // namespace hearth::store
