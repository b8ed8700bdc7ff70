// libFuzzer target: the store's parsers of outside input. A registry sends manifests and config
// blobs; users write Modelfiles and model names. The first byte picks the parser, the rest is its
// input. Bad input must end in a hearth::Error, never a crash, hang or huge allocation; what
// parses must print back into something that parses again (manifests and configs are re-read
// from disk, Modelfiles are shown by /api/show and re-created from).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/manifest.h"
#include "store/model_name.h"
#include "store/modelfile.h"
#include "util/error.h"

namespace {

void must(bool ok) {
  if (!ok) std::abort();
}

void manifest(std::string_view in) {
  const auto m = hearth::store::Manifest::parse(in);
  m.blob_digests();
  const auto again = hearth::store::Manifest::parse(m.to_json());
  must(again.to_json() == m.to_json());
}

void config(std::string_view in) {
  const auto c = hearth::store::ModelConfig::parse(in);
  must(hearth::store::ModelConfig::parse(c.to_json()).to_json() == c.to_json());
}

void name(std::string_view in) {
  hearth::store::ModelName n;
  if (!hearth::store::ModelName::try_parse(in, &n)) return;
  n.display();
  n.manifest_rel_path();
  hearth::store::ModelName again;
  must(hearth::store::ModelName::try_parse(n.full(), &again) && again.key() == n.key());
}

void modelfile(std::string_view in) {
  const auto mf = hearth::store::Modelfile::parse(in);
  const std::string text = mf.to_string();
  hearth::store::Modelfile::parse(text);  // printed back, it must parse
  std::vector<std::string> warnings;
  hearth::store::build_create_spec(mf, "/nonexistent-fuzz-dir", &warnings);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: manifest(in); break;
      case 1: config(in); break;
      case 2: name(in); break;
      default: modelfile(in); break;
    }
  } catch (const hearth::Error&) {
  }
  return 0;
}
