// The production LoadedModel (runner_model.cc) rendering prompts on the Qwen3 test model,
// whose GGUF carries a Jinja template with thinking and tools.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "chat/harmony.h"
#include "engine/chat_format.h"
#include "engine/loaded_model.h"

namespace hearth::engine {
namespace {

std::unique_ptr<LoadedModel> load_qwen3() {
  LoadSpec spec;
  spec.name = "qwen3-tiny";
  spec.model_path = std::string(HEARTH_TESTDATA_DIR) + "/qwen3-tiny-q8_0.gguf";
  spec.num_ctx = 256;
  return make_runner_loader()->load(spec);
}

RenderRequest hello() {
  RenderRequest r;
  r.messages.push_back(chat::text_message("user", "hello"));
  return r;
}

TEST(RunnerModel, TheRequestTemplateWinsOverAThinkingJinjaTemplate) {
  auto backend = load_qwen3();
  ASSERT_TRUE(backend->facts().thinking);
  RenderRequest r = hello();
  const std::string jinja = backend->render(r);
  EXPECT_NE(jinja.find("<|im_start|>user\nhello<|im_end|>"), std::string::npos) << jinja;
  r.request_template = "PLAIN {{ .Prompt }}";
  EXPECT_EQ(backend->render(r), "PLAIN hello");
  // A Modelfile TEMPLATE without thinking yields to the Jinja one; HEARTH_GO_TEMPLATE=0 too.
  r.request_template.clear();
  r.modelfile_template = "GO {{ .Prompt }}";
  EXPECT_EQ(backend->render(r), jinja);
}

TEST(RunnerModel, EarlierThinkingIsStrippedOnlyWhenAsked) {
  auto backend = load_qwen3();
  RenderRequest r;
  r.think = "false";
  r.messages.push_back(chat::text_message("user", "q1"));
  r.messages.push_back(chat::text_message("assistant", "<think>SECRET</think>answer one"));
  r.messages.push_back(chat::text_message("user", "q2"));
  r.request_template = "{{ range .Messages }}{{ .Role }}:{{ .Content }};{{ end }}";
  EXPECT_EQ(backend->render(r), "user:q1;assistant:<think>SECRET</think>answer one;user:q2;");
  r.strip_earlier_thinking = true;
  EXPECT_EQ(backend->render(r), "user:q1;assistant:answer one;user:q2;");
}

// Each generated token's log-probability comes from the real runner: greedy picks the likeliest
// token, so the chosen one is the first alternative, and the texts make up the answer.
TEST(RunnerModel, LogprobsOfEveryGeneratedToken) {
  auto backend = load_qwen3();
  CompletionJob job;
  job.prompt = backend->tokenize("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n", true);
  job.sampling.temperature = 0;
  job.num_predict = 6;
  job.top_logprobs = 3;
  std::vector<GeneratedLogprob> seen;
  std::string text;
  job.on_logprob = [&](GeneratedLogprob lp) { seen.push_back(std::move(lp)); };
  job.on_piece = [&](std::string_view piece) {
    text += piece;
    return true;
  };
  CompletionOutcome out = backend->complete(job);
  ASSERT_EQ(seen.size(), static_cast<size_t>(out.eval_count));
  std::string tokens;
  for (const auto& lp : seen) {
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.chosen.token, lp.top[0].token);
    EXPECT_DOUBLE_EQ(lp.chosen.logprob, lp.top[0].logprob);
    EXPECT_LE(lp.top[0].logprob, 0.0);
    EXPECT_GE(lp.top[0].logprob, lp.top[1].logprob);
    tokens += lp.chosen.token;
  }
  EXPECT_EQ(tokens, text);
}

}  // namespace
}  // namespace hearth::engine

namespace hearth::engine {
namespace {

// The scheduler's estimate: the file plus its KV cache in the chosen type, as Ollama counts it.
// stories260K: 5 layers, 4 KV heads of 8 -> K and V rows of 64 values; num_ctx 128, 2 sequences.
TEST(RunnerModel, EstimateCountsTheKvCacheOfItsType) {
  const std::string path = std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf";
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  const uint64_t file = static_cast<uint64_t>(st.st_size);
  auto loader = make_runner_loader();
  LoadSpec spec;
  spec.model_path = path;
  spec.num_ctx = 128;
  spec.num_parallel = 2;
  spec.kv_cache_type = "f16";
  EXPECT_EQ(loader->estimate_bytes(spec), file + 5 * 128 * 2 * 64 * 2);
  spec.kv_cache_type = "q8_0";
  EXPECT_EQ(loader->estimate_bytes(spec), file + 5 * 128 * 2 * (64 / 32 * 34));
  spec.num_ctx = 100000;  // capped at the trained context, 128
  spec.kv_cache_type = "f32";
  EXPECT_EQ(loader->estimate_bytes(spec), file + 5 * 128 * 2 * 64 * 4);
}

}  // namespace
}  // namespace hearth::engine

namespace hearth::engine {
namespace {

// Harmony is chosen as Ollama chooses it (family gptoss and a template with <|start|>/<|end|>),
// on the production model: the Go TEMPLATE renders with harmony's tool names and think mapping,
// and the parser is harmony's (it asks for control tokens as text).
TEST(RunnerModel, HarmonyForTheGptOssFamilyWithAHarmonyTemplate) {
  auto backend = load_qwen3();
  RenderRequest r = hello();
  r.think = "max";
  r.tools_json = R"([{"type":"function","function":{"name":"get-weather","parameters":{"type":"object"}}}])";
  r.modelfile_template = "<|start|>system<|message|>Reasoning: {{ .ThinkLevel }}<|end|>{{ range .Tools }}"
                         "{{ .Function.Name }}{{ end }}{{ range .Messages }}<|start|>{{ .Role }}<|message|>"
                         "{{ .Content }}<|end|>{{ end }}<|start|>assistant";
  const std::string expected =
      "<|start|>system<|message|>Reasoning: high<|end|>get_weather<|start|>user<|message|>hello<|end|><|start|>assistant";
  for (const char* family : {"gptoss", "gpt-oss"}) {
    r.model_family = family;
    EXPECT_EQ(backend->render(r), expected);
    EXPECT_TRUE(backend->make_output_parser(r, expected)->needs_special_tokens());
    EXPECT_EQ(backend->make_output_parser(r, expected)->answer_marker(), "<|channel|>final<|message|>");
  }
  // Another family, or a template without harmony's markers: the template as it is (given as
  // the request's, since qwen3's thinking Jinja template would win over this Go one).
  r.model_family = "qwen3";
  r.request_template = r.modelfile_template;
  EXPECT_EQ(backend->render(r),
            "<|start|>system<|message|>Reasoning: max<|end|>get-weather<|start|>user<|message|>hello<|end|><|start|>assistant");
  EXPECT_FALSE(backend->make_output_parser(r, expected)->needs_special_tokens());
  // The model's Go TEMPLATE decides (Ollama's m.Template), not the GGUF's.
  r.model_family = "gptoss";
  r.modelfile_template = "{{ range .Messages }}{{ .Content }}{{ end }}";
  EXPECT_FALSE(backend->make_output_parser(r, "")->needs_special_tokens());
  r.modelfile_template.clear();  // qwen3's GGUF template is not harmony's either
  EXPECT_FALSE(backend->make_output_parser(r, "")->needs_special_tokens());
}

}  // namespace
}  // namespace hearth::engine

namespace hearth::engine {
namespace {

// Which template decides harmony, and which renders it: the model's Go TEMPLATE when it has one
// (Ollama's m.Template), else its GGUF chat template, which then renders with the built-in
// harmony renderer (a gpt-oss GGUF imported without a registry TEMPLATE).
TEST(ChatFormat, HarmonySelectionAndRendererWithoutAGoTemplate) {
  const std::string hf_gpt_oss = "{#- harmony #}<|start|>system<|message|>...<|end|>{{ messages }}";
  RenderRequest r = hello();
  r.think = "low";
  EXPECT_TRUE(harmony_applies(r, "gpt-oss", hf_gpt_oss));
  EXPECT_FALSE(harmony_applies(r, "llama", hf_gpt_oss));
  r.model_family = "gptoss";  // the manifest's family wins over the architecture
  EXPECT_TRUE(harmony_applies(r, "llama", hf_gpt_oss));
  r.modelfile_template = "{{ .Prompt }}";  // a Go TEMPLATE without harmony's markers decides: no
  EXPECT_FALSE(harmony_applies(r, "gpt-oss", hf_gpt_oss));
  r.modelfile_template.clear();

  chat::HarmonyPromptInputs in;
  in.messages = r.messages;
  in.think = chat::harmony_think(think_setting(r.think, true));
  const std::string built_in = chat::render_harmony(in);
  EXPECT_NE(built_in.find("Reasoning: low"), std::string::npos) << built_in;
  std::string rendered = render_harmony_request(r, true), expected = built_in;
  if (rendered != expected) {  // the date may have turned between the two: once more
    rendered = render_harmony_request(r, true);
    expected = chat::render_harmony(in);
  }
  EXPECT_EQ(rendered, expected);
}

}  // namespace
}  // namespace hearth::engine
