#include "store/create.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "gguf/gguf_file.h"
#include "store/digest.h"
#include "store/model_details.h"
#include "store/show.h"
#include "store_test_util.h"
#include "util/error.h"

namespace hearth::store {
namespace {

using testing::TempDir;

CreateSpec spec_of(const std::string& modelfile, const std::string& dir = HEARTH_TESTDATA_DIR) {
  return build_create_spec(Modelfile::parse(modelfile), dir);
}

std::vector<std::string> run_create(Store& s, const std::string& name, const CreateSpec& spec) {
  std::vector<std::string> statuses;
  create_model(s, name, spec, RegistryOptions(), [&](const Progress& p) { statuses.push_back(p.status); });
  return statuses;
}

size_t count_blobs(const Store& s) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(s.blobs_dir())) {
    if (e.path().filename().string().size() == 71) ++n;
  }
  return n;
}

TEST(Create, FromGgufPathMakesLayersAndConfig) {
  TempDir dir;
  Store s(dir.path());
  auto st = run_create(s, "stories:test", spec_of(
      "FROM ./stories260K.gguf\n"
      "TEMPLATE \"\"\"{{ .System }} {{ .Prompt }}\"\"\"\n"
      "SYSTEM You tell stories.\n"
      "PARAMETER temperature 0.6\nPARAMETER stop </s>\nPARAMETER num_ctx 128\n"
      "MESSAGE user Once upon a time\nLICENSE MIT\n"));
  EXPECT_EQ(st.front(), "parsing GGUF");
  EXPECT_EQ(st[1].rfind("creating new layer sha256:", 0), 0u);
  EXPECT_EQ(st[st.size() - 2], "writing manifest");
  EXPECT_EQ(st.back(), "success");

  ModelEntry e = s.entry(s.resolve_existing("stories:test"));
  ASSERT_EQ(e.manifest.layers.size(), 6u);
  const Layer& model = e.manifest.layers[0];
  EXPECT_EQ(model.media_type, kMediaModel);
  EXPECT_EQ(model.digest, sha256_file(testing::testdata("stories260K.gguf")));
  EXPECT_EQ(e.manifest.layers[1].media_type, kMediaTemplate);
  EXPECT_EQ(e.manifest.layers[2].media_type, kMediaSystem);
  EXPECT_EQ(e.manifest.layers[3].media_type, kMediaLicense);
  EXPECT_EQ(e.manifest.layers[4].media_type, kMediaParams);
  EXPECT_EQ(s.read_blob(e.manifest.layers[4].digest), R"({"num_ctx":128,"stop":["</s>"],"temperature":0.6})");
  EXPECT_EQ(e.manifest.layers[5].media_type, kMediaMessages);
  EXPECT_EQ(s.read_blob(e.manifest.layers[5].digest), R"([{"role":"user","content":"Once upon a time"}])");

  gguf::File f = gguf::File::open(testing::testdata("stories260K.gguf"));
  GgufDetails d = read_gguf_details(f);
  EXPECT_EQ(e.config.model_family, "llama");
  EXPECT_EQ(e.config.model_families, std::vector<std::string>{"llama"});
  EXPECT_EQ(e.config.model_type, human_number(d.parameter_count));
  EXPECT_EQ(e.config.file_type, "F32");
  EXPECT_EQ(human_number(7615616512ull), "7.6B");
  EXPECT_EQ(human_number(494032768ull), "494.03M");
  EXPECT_EQ(human_number(8'000'000'000ull), "8B");
  EXPECT_EQ(human_number(70'553'706'496ull), "70.6B");
  EXPECT_EQ(human_number(1'777'088'000ull), "1.8B");
  EXPECT_EQ(human_number(2'000'000ull), "2M");
  EXPECT_EQ(human_number(1'500ull), "2K");
  EXPECT_EQ(human_number(260000ull), "260K");
  EXPECT_EQ(human_number(12ull), "12");

  ShowInfo info = show_model(s, "stories:test");
  EXPECT_EQ(info.system, "You tell stories.");
  EXPECT_EQ(info.license, "MIT");
  ASSERT_EQ(info.messages.size(), 1u);
  EXPECT_EQ(info.details.family, "llama");
  EXPECT_EQ(info.model_path, s.blob_path(model.digest));
}

TEST(Create, RecreateReusesBlobsAndDerivedModelsShareWeights) {
  TempDir dir;
  Store s(dir.path());
  std::string mf = "FROM stories260K.gguf\nSYSTEM one\nPARAMETER top_k 20\n";
  run_create(s, "base", spec_of(mf));
  size_t blobs = count_blobs(s);
  auto again = run_create(s, "base", spec_of(mf));
  for (const auto& x : again) EXPECT_EQ(x.find("creating new layer"), std::string::npos) << x;
  EXPECT_EQ(count_blobs(s), blobs);

  // FROM an existing model: weights reused with a `from` reference, params merged, SYSTEM replaced.
  auto st = run_create(s, "derived:v1", spec_of("FROM base\nSYSTEM two\nPARAMETER temperature 0.1\n", "/"));
  ModelEntry base = s.entry(s.resolve_existing("base"));
  ModelEntry der = s.entry(s.resolve_existing("derived:v1"));
  EXPECT_EQ(der.manifest.layers[0].digest, base.manifest.layers[0].digest);
  EXPECT_EQ(der.manifest.layers[0].from, "registry.ollama.ai/library/base:latest");
  ShowInfo info = show_model(s, "derived:v1");
  EXPECT_EQ(info.system, "two");
  EXPECT_EQ(info.params_json.dump(), R"({"temperature":0.1,"top_k":20})");
  EXPECT_EQ(info.details.family, "llama");

  // Re-creating base with a new SYSTEM drops the old system blob (no other model uses it).
  std::string old_system = base.manifest.layers[1].digest;
  run_create(s, "base", spec_of("FROM stories260K.gguf\nSYSTEM three\nPARAMETER top_k 20\n"));
  EXPECT_FALSE(s.has_blob(old_system));
}

TEST(Create, QuantizeFromF32) {
  TempDir dir;
  Store s(dir.path());
  CreateSpec spec = spec_of("FROM stories260K.gguf\n");
  spec.quantize = "q8_0";
  auto st = run_create(s, "stories:q8", spec);
  EXPECT_NE(std::find(st.begin(), st.end(), "quantizing F32 model to Q8_0"), st.end());
  EXPECT_NE(std::find(st.begin(), st.end(), "verifying conversion"), st.end());
  ShowInfo info = show_model(s, "stories:q8");
  EXPECT_EQ(info.details.quantization_level, "Q8_0");
  gguf::File q = gguf::File::open(info.model_path);
  EXPECT_EQ(q.get_u32("general.file_type"), 7u);
  int q8 = 0;
  for (const auto& t : q.tensors()) q8 += t.type == gguf::GgmlType::Q8_0;
  EXPECT_GT(q8, 0);
  // Quantizing a quantized model is refused, as Ollama does.
  CreateSpec again = spec_of("FROM stories:q8\n", "/");
  again.quantize = "q4_K_M";
  EXPECT_THROW(run_create(s, "stories:q4", again), Error);
  EXPECT_FALSE(s.resolve(ModelName::parse("stories:q4")).has_value());
}

// Operations on one name run one after another for their whole length; other names go on. The
// first create is held inside (after its locks, at "parsing GGUF"); a second create of the same
// name must not report anything until the first has finished, while a create of another name
// completes meanwhile.
TEST(Create, OneNameAtATimeOtherNamesProceed) {
  TempDir dir;
  const CreateSpec spec = spec_of("FROM stories260K.gguf\n");
  std::mutex mu;
  std::condition_variable cv;
  bool inside = false, release = false;
  std::vector<std::string> log;
  auto note = [&](const std::string& s) {
    std::lock_guard<std::mutex> lk(mu);
    log.push_back(s);
  };
  std::thread first([&] {
    Store s(dir.path());
    create_model(s, "same:x", spec, RegistryOptions(), [&](const Progress& p) {
      note("first " + p.status);
      if (p.status != "parsing GGUF") return;
      std::unique_lock<std::mutex> lk(mu);
      inside = true;
      cv.notify_all();
      cv.wait(lk, [&] { return release; });
    });
  });
  {
    std::unique_lock<std::mutex> lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(30), [&] { return inside; }));
  }
  std::thread second([&] {
    Store s(dir.path());
    create_model(s, "same:x", spec, RegistryOptions(), [&](const Progress& p) { note("second " + p.status); });
  });
  auto other = std::async(std::launch::async, [&] {
    Store s(dir.path());
    return run_create(s, "other:x", spec).back();
  });
  ASSERT_EQ(other.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "another name waited";
  EXPECT_EQ(other.get(), "success");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // room for a wrong second to start
  {
    std::lock_guard<std::mutex> lk(mu);
    for (const auto& l : log) EXPECT_EQ(l.rfind("second ", 0), std::string::npos) << l;
    release = true;
    cv.notify_all();
  }
  first.join();
  second.join();
  const auto done = std::find(log.begin(), log.end(), "first success");
  ASSERT_NE(done, log.end());
  for (auto it = log.begin(); it != done; ++it) EXPECT_EQ(it->rfind("second ", 0), std::string::npos) << *it;
  EXPECT_EQ(log.back(), "second success");
}

TEST(Create, Errors) {
  TempDir dir;
  Store s(dir.path());
  auto err = [&](const std::string& name, const CreateSpec& spec) {
    try {
      run_create(s, name, spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(err("x", spec_of("FROM stories260K.gguf\nADAPTER stories260K.gguf\n")),
            "ADAPTER (LoRA) models are not supported yet");
  EXPECT_EQ(err("x", CreateSpec()), "neither 'from' or 'files' was specified");
  EXPECT_EQ(err("bad name", spec_of("FROM stories260K.gguf\n")), "invalid model name");
  CreateSpec q = spec_of("FROM stories260K.gguf\n");
  q.quantize = "q1_X";
  EXPECT_EQ(err("x", q),
            "unsupported quantization type q1_X - supported types are F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, "
            "Q8_0, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, MXFP4");
  // A TEMPLATE that does not parse is refused before anything is stored (Ollama: "template error").
  const std::string bad = err("x", spec_of("FROM stories260K.gguf\nTEMPLATE \"{{ .Prompt \"\n"));
  EXPECT_EQ(bad.rfind("template error: ", 0), 0u) << bad;
  EXPECT_NE(bad.find("line 1"), std::string::npos) << bad;
  EXPECT_EQ(err("x", spec_of("FROM stories260K.gguf\nTEMPLATE \"{{ if .System }}{{ .System }}\"\n")).rfind("template error: ", 0), 0u);
  EXPECT_EQ(err("x", spec_of("FROM stories260K.gguf\nTEMPLATE \"{{ .System }} {{ .Prompt }}\"\n")), "");
  s.remove("x");
  // A base model that is neither local nor pullable (nothing listens there).
  RegistryOptions o;
  o.insecure = true;
  o.max_retries = 0;
  CreateSpec missing = spec_of("FROM 127.0.0.1:" + std::to_string(testing::free_port()) + "/library/none:x\n", "/");
  EXPECT_THROW(create_model(s, "x", missing, o, nullptr), Error);
  EXPECT_TRUE(s.manifest_names().empty());
}

}  // namespace
}  // namespace hearth::store
