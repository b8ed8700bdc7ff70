#include "store/create.h"

#include <optional>

#include "chat/go_template.h"
#include "gguf/gguf_file.h"
#include "store/atomic_file.h"
#include "store/model_details.h"
#include "store/quantize.h"
#include "store/registry_ops.h"
#include "util/error.h"

namespace hearth::store {

namespace {

bool is_weights_layer(const std::string& mt) {
  return mt == kMediaModel || mt == kMediaProjector || mt == kMediaAdapter || mt == kMediaDraft;
}

}  // namespace

void create_model(Store& store, std::string_view text, const CreateSpec& spec,
                  const RegistryOptions& pull_options, const ProgressFn& progress) {
  auto emit = [&](const std::string& status, const std::string& digest = "", uint64_t total = 0,
                  uint64_t completed = 0) {
    if (progress) progress(Progress{status, digest, total, completed});
  };
  ModelName name = ModelName::parse(text);
  if (!spec.adapters.empty()) {
    throw Error(ErrorCode::unsupported, kAdaptersUnsupported);
  }
  if (spec.from.empty() && spec.from_path.empty()) {
    throw Error(ErrorCode::invalid_argument, "neither 'from' or 'files' was specified");
  }
  std::optional<FileType> qtype;
  if (!spec.quantize.empty()) qtype = parse_quantization_type(spec.quantize);
  if (spec.has_template) {
    // Ollama parses a new TEMPLATE before storing it ("template error: ..."); checked before any
    // import or quantization, so a typo costs nothing.
    try {
      chat::GoTemplate::parse(spec.template_text);
    } catch (const Error& e) {
      throw Error(ErrorCode::invalid_argument, std::string("template error: ") + e.what());
    }
  }

  // A base model that is not here is pulled first, under its own name's lock, before this
  // name's lock is taken (create X FROM X would otherwise wait on itself).
  std::optional<ModelName> base;
  if (spec.from_path.empty()) {
    ModelName base_req = ModelName::parse(spec.from);
    base = store.resolve(base_req);
    if (!base) {
      pull_model(store, spec.from, pull_options, progress);
      base = store.resolve(base_req);
      if (!base) throw Error(ErrorCode::not_found, "model '" + spec.from + "' not found");
    }
  }
  // Operations on one name run one after another, for their whole length.
  FileLock model_lock = store.lock_model(name);
  FileLock gc = store.lock_gc_shared();
  std::vector<Layer> layers;
  ModelConfig config;
  nlohmann::json params = nlohmann::json::object();

  auto add_layer = [&](Layer l, bool existed) {
    emit(std::string(existed ? "using existing layer " : "creating new layer ") + l.digest);
    layers.push_back(std::move(l));
  };
  auto add_text = [&](const char* media, const std::string& body) {
    bool existed = false;
    Layer l;
    l.media_type = media;
    l.digest = store.put_blob(body, &existed);
    l.size = body.size();
    add_layer(std::move(l), existed);
  };
  // Re-quantizes a GGUF into a new blob; returns the layer and updates the config.
  auto quantize_layer = [&](const gguf::File& src, const std::string& media) {
    GgufDetails d = read_gguf_details(src);
    std::string target = file_type_name(static_cast<uint32_t>(*qtype));
    std::string status = "quantizing " + d.file_type + " model to " + target;
    make_dirs(store.blobs_dir());
    std::string tmp = temp_path_for(store.blobs_dir() + "/quantize");
    try {
      quantize_gguf(src, *qtype, tmp, [&](uint64_t done, uint64_t total) { emit(status, "", total, done); });
      emit("verifying conversion");
      gguf::File check = gguf::File::open(tmp);
      if (check.tensors().size() != src.tensors().size()) {
        throw Error(ErrorCode::internal, "quantized model lost tensors");
      }
    } catch (...) {
      ::unlink(tmp.c_str());
      throw;
    }
    Layer l;
    l.media_type = media;
    bool existed = false;
    l.digest = store.adopt_temp_file(tmp, &l.size, &existed);
    add_layer(l, existed);
    config.file_type = target;
  };

  if (!spec.from_path.empty()) {
    emit("parsing GGUF");
    gguf::File f = gguf::File::open(spec.from_path);
    config = config_from_gguf(read_gguf_details(f));
    if (qtype) {
      quantize_layer(f, kMediaModel);
    } else {
      Layer l;
      l.media_type = kMediaModel;
      bool existed = false;
      l.digest = store.import_blob_file(spec.from_path, &l.size, &existed);
      add_layer(std::move(l), existed);
    }
  } else {
    Manifest bm = store.read_manifest(*base);
    try {
      config = ModelConfig::parse(store.read_blob(bm.config.digest));
    } catch (const Error&) {
      config = ModelConfig();
    }
    for (const auto& l : bm.layers) {
      const std::string& mt = l.media_type;
      if (mt == kMediaParams) {
        auto j = nlohmann::json::parse(store.read_blob(l.digest), nullptr, false);
        if (j.is_object()) params = j;
        continue;
      }
      if ((mt == kMediaTemplate || mt == kMediaPrompt) && spec.has_template) continue;
      if (mt == kMediaSystem && spec.has_system) continue;
      if (mt == kMediaLicense && !spec.licenses.empty()) continue;
      if (mt == kMediaMessages && !spec.messages.empty()) continue;
      if (mt == kMediaModel && qtype) {
        emit("parsing GGUF");
        gguf::File f = gguf::File::open(store.blob_path(l.digest));
        quantize_layer(f, kMediaModel);
        continue;
      }
      Layer copy = l;
      if (is_weights_layer(mt) && copy.from.empty()) copy.from = base->full();
      add_layer(std::move(copy), true);
    }
  }

  if (spec.has_template) add_text(kMediaTemplate, spec.template_text);
  if (spec.has_system) add_text(kMediaSystem, spec.system);
  for (const auto& lic : spec.licenses) add_text(kMediaLicense, lic);
  for (const auto& [k, v] : spec.parameters.items()) params[k] = v;
  if (!params.empty()) add_text(kMediaParams, params.dump());
  if (!spec.messages.empty()) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& m : spec.messages) {
      nlohmann::ordered_json o;
      o["role"] = m.role;
      o["content"] = m.content;
      arr.push_back(o);
    }
    add_text(kMediaMessages, arr.dump());
  }
  if (!spec.renderer.empty()) config.renderer = spec.renderer;
  if (!spec.parser.empty()) config.parser = spec.parser;
  if (!spec.requires_version.empty()) config.requires_version = spec.requires_version;

  Manifest m;
  std::string cfg = config.to_json();
  m.config.media_type = kConfigMediaType;
  m.config.digest = store.put_blob(cfg);
  m.config.size = cfg.size();
  m.layers = layers;

  emit("writing manifest");
  const std::vector<std::string> unused = store.replace_manifest(name, m.to_json());
  gc.release();
  if (!unused.empty()) store.remove_blobs_if_unreferenced(unused);
  emit("success");
}

}  // namespace hearth::store
