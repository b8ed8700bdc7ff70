#include "store/show.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chat/harmony.h"
#include "gguf/gguf_file.h"
#include "store/model_details.h"
#include "util/error.h"

namespace hearth::store {

namespace {

nlohmann::json scalar_json(const gguf::Value& v) {
  using gguf::ValueType;
  switch (v.type()) {
    case ValueType::STRING: return v.as_string() != nullptr ? *v.as_string() : std::string();
    case ValueType::BOOL: return v.as_bool().value_or(false);
    case ValueType::FLOAT32:
    case ValueType::FLOAT64: {
      double d = v.as_f64().value_or(0);
      return std::isfinite(d) ? nlohmann::json(d) : nlohmann::json(nullptr);
    }
    case ValueType::UINT8:
    case ValueType::UINT16:
    case ValueType::UINT32:
    case ValueType::UINT64: return v.as_u64().value_or(0);
    default: return v.as_i64().value_or(0);
  }
}

nlohmann::json value_json(const gguf::Value& v, bool verbose) {
  if (!v.is_array()) return scalar_json(v);
  nlohmann::json arr = nlohmann::json::array();
  if (!verbose && v.size() > 5) return arr;
  using gguf::ValueType;
  if (v.elem_type() == ValueType::STRING) {
    for (const auto& s : v.strings()) arr.push_back(s);
  } else if (v.elem_type() == ValueType::ARRAY) {
    for (const auto& a : v.arrays()) arr.push_back(value_json(a, verbose));
  } else if (gguf::is_float_type(v.elem_type())) {
    for (size_t i = 0; i < v.size(); ++i) arr.push_back(v.float_at(i).value_or(0));
  } else {
    for (size_t i = 0; i < v.size(); ++i) arr.push_back(v.int_at(i).value_or(0));
  }
  return arr;
}

// Go's %#v for the JSON values a params layer holds.
std::string go_value(const nlohmann::json& v) {
  if (v.is_string()) return nlohmann::json(v.get<std::string>()).dump();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 1e21) return std::to_string(static_cast<int64_t>(d));
    return nlohmann::json(d).dump();
  }
  return v.dump();
}

std::string pad30(const std::string& k) {
  std::string s = k;
  if (s.size() < 30) s.resize(30, ' ');
  return s;
}

}  // namespace

ModelDetails details_of(const ModelEntry& e) {
  ModelDetails d;
  d.format = e.config.model_format;
  d.family = e.config.model_family;
  d.families = e.config.model_families;
  d.parameter_size = e.config.model_type;
  d.quantization_level = e.config.file_type;
  return d;
}

ShowInfo show_model(const Store& store, std::string_view text, bool verbose) {
  ShowInfo info;
  ModelName name = store.resolve_existing(text);
  info.entry = store.entry(name);
  info.details = details_of(info.entry);
  std::vector<std::string> licenses;
  std::string chat_template;
  bool has_projector = false;
  for (const auto& l : info.entry.manifest.layers) {
    const std::string& mt = l.media_type;
    if (mt == kMediaModel) {
      info.model_path = store.blob_path(l.digest);
    } else if (mt == kMediaProjector) {
      has_projector = true;
    } else if (mt == kMediaTemplate || mt == kMediaPrompt) {
      info.template_text = store.read_blob(l.digest);
    } else if (mt == kMediaSystem) {
      info.system = store.read_blob(l.digest);
    } else if (mt == kMediaLicense) {
      licenses.push_back(store.read_blob(l.digest));
    } else if (mt == kMediaParams) {
      auto j = nlohmann::json::parse(store.read_blob(l.digest), nullptr, false);
      if (j.is_object()) info.params_json = j;
    } else if (mt == kMediaMessages) {
      auto j = nlohmann::json::parse(store.read_blob(l.digest), nullptr, false);
      if (j.is_array()) {
        for (const auto& m : j) {
          if (!m.is_object()) continue;
          ChatMessage cm;
          cm.role = m.value("role", "");
          cm.content = m.value("content", "");
          info.messages.push_back(std::move(cm));
        }
      }
    }
  }
  for (size_t i = 0; i < licenses.size(); ++i) info.license += (i ? "\n" : "") + licenses[i];

  if (!info.model_path.empty()) {
    gguf::File f = gguf::File::open(info.model_path);
    for (const auto& [key, value] : f.metadata()) {
      if (key == "general.name" || key == "tokenizer.chat_template") {
        if (key == "tokenizer.chat_template" && value.as_string() != nullptr) {
          chat_template = *value.as_string();
        }
        continue;
      }
      info.model_info[key] = value_json(value, verbose);
    }
    if (!info.model_info.contains("general.parameter_count")) {
      info.model_info["general.parameter_count"] = read_gguf_details(f).parameter_count;
    }
  }

  std::vector<std::string> lines;
  for (const auto& [k, v] : info.params_json.items()) {
    if (v.is_array()) {
      for (const auto& e : v) lines.push_back(pad30(k) + " " + go_value(e));
    } else {
      lines.push_back(pad30(k) + " " + go_value(v));
    }
  }
  for (size_t i = 0; i < lines.size(); ++i) info.parameters += (i ? "\n" : "") + lines[i];

  Modelfile mf;
  mf.commands.push_back({"model", info.model_path});
  if (!info.template_text.empty()) mf.commands.push_back({"template", info.template_text});
  if (!info.system.empty()) mf.commands.push_back({"system", info.system});
  for (const auto& [k, v] : info.params_json.items()) {
    auto plain = [](const nlohmann::json& x) { return x.is_string() ? x.get<std::string>() : go_value(x); };
    if (v.is_array()) {
      for (const auto& e : v) mf.commands.push_back({k, plain(e)});
    } else {
      mf.commands.push_back({k, plain(v)});
    }
  }
  for (const auto& lic : licenses) mf.commands.push_back({"license", lic});
  for (const auto& m : info.messages) mf.commands.push_back({"message", m.role + ": " + m.content});
  std::string body = mf.to_string();
  // TEMPLATE, SYSTEM and LICENSE are always written in triple quotes by `ollama show`.
  info.modelfile = "# Modelfile generated by \"hearth show\"\n"
                   "# To build a new Modelfile based on this, replace FROM with:\n"
                   "# FROM " + info.entry.name.display() + "\n\n";
  for (const auto& c : mf.commands) {
    if (c.name == "template" || c.name == "system" || c.name == "license") {
      std::string up = c.name;
      for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      info.modelfile += up + " \"\"\"" + c.args + "\"\"\"\n";
    } else {
      Modelfile one;
      one.commands.push_back(c);
      info.modelfile += one.to_string();
    }
  }
  (void)body;
  (void)has_projector;
  info.capabilities = model_capabilities(info, chat_template);
  return info;
}

std::vector<std::string> model_capabilities(const ShowInfo& info, const std::string& jinja) {
  std::vector<std::string> caps;
  std::string arch;
  if (auto it = info.model_info.find("general.architecture");
      it != info.model_info.end() && it->is_string()) {
    arch = it->get<std::string>();
  }
  bool embedding = !arch.empty() && info.model_info.contains(arch + ".pooling_type");
  caps.push_back(embedding ? "embedding" : "completion");
  if (embedding) return caps;
  const std::string& t = info.template_text;
  bool go_template = !t.empty();
  if ((go_template && t.find(".Tools") != std::string::npos) ||
      (!go_template && (jinja.find("tools") != std::string::npos ||
                        jinja.find("tool_call") != std::string::npos))) {
    caps.push_back("tools");
  }
  if (go_template && t.find(".Suffix") != std::string::npos) caps.push_back("insert");
  bool vision = (!arch.empty() && info.model_info.contains(arch + ".vision.block_count"));
  for (const auto& l : info.entry.manifest.layers) {
    if (l.media_type == kMediaProjector) vision = true;
  }
  if (vision) caps.push_back("vision");
  // Ollama's modelFamilyCapabilities: the gpt-oss family thinks whatever its template says.
  if ((go_template && t.find(".Thinking") != std::string::npos) ||
      (!go_template && jinja.find("<think>") != std::string::npos &&
       jinja.find("</think>") != std::string::npos) ||
      chat::is_harmony_family(info.entry.config.model_family) || chat::is_harmony_family(arch)) {
    caps.push_back("thinking");
  }
  return caps;
}

std::vector<TensorListing> list_tensors(const std::string& gguf_path) {
  std::vector<TensorListing> out;
  const gguf::File f = gguf::File::open(gguf_path);
  for (const auto& t : f.tensors()) {
    TensorListing l;
    l.name = t.name;
    l.type = gguf::type_name(t.type);
    for (auto& c : l.type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int d = 0; d < t.n_dims; ++d) l.shape.push_back(static_cast<uint64_t>(t.ne[d]));
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace hearth::store
