// `format` through the real server: start `hearth serve` on a free loopback port with a temporary
// store, import the tiny Qwen2 model, and check that /api/chat with a JSON schema, /api/generate
// with one (streamed) and /v1/chat/completions with response_format json_schema return JSON that
// parses and matches, and that a malformed schema is a 400.

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../store/store_test_util.h"
#include "sample/json_schema.h"
#include "serve_process.h"
#include "store/digest.h"

namespace {

using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) { return hearth::store::testing::read_all(path); }

const char* kSchema = R"({"type":"object","properties":{
    "city":{"type":"string","maxLength":10},
    "population":{"type":"integer"},
    "coastal":{"type":"boolean"}},
    "required":["city","population","coastal"]})";

// The document has the schema's three keys, in order, with the right types.
void expect_matches(const std::string& text) {
  Json doc = Json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "[" << text << "]";
  ASSERT_TRUE(doc.is_object()) << text;
  std::vector<std::string> keys;
  for (auto it = doc.begin(); it != doc.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"city", "population", "coastal"})) << text;
  EXPECT_TRUE(doc["city"].is_string()) << text;
  EXPECT_TRUE(doc["population"].is_number_integer()) << text;
  EXPECT_TRUE(doc["coastal"].is_boolean()) << text;
}

class ServeFormatE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/hearth-format-e2e-XXXXXX";
    dir_ = mkdtemp(tmpl);
    serve_ = std::make_unique<hearth::testing::ServeProcess>(dir_ + "/models", dir_ + "/serve.log");
    ASSERT_TRUE(serve_->up()) << "hearth serve did not come up:\n" << serve_->log_text();

    const std::string file = "qwen2-tiny-q8_0.gguf";
    const std::string bytes = read_file(std::string(HEARTH_TESTDATA_DIR) + "/" + file);
    ASSERT_FALSE(bytes.empty());
    const std::string digest = hearth::store::sha256_digest(bytes);
    auto r = client().Post(("/api/blobs/" + digest).c_str(), bytes, "application/octet-stream");
    ASSERT_TRUE(r && (r->status == 201 || r->status == 200));
    r = post("/api/create", {{"model", "qwen"}, {"files", {{file, digest}}}});
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
  }

  static void TearDownTestSuite() {
    serve_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static httplib::Client client() { return serve_->client(); }

  static httplib::Result post(const std::string& path, const Json& body) {
    return client().Post(path.c_str(), body.dump(), "application/json");
  }

  static std::string dir_;
  static std::unique_ptr<hearth::testing::ServeProcess> serve_;
};

std::string ServeFormatE2E::dir_;
std::unique_ptr<hearth::testing::ServeProcess> ServeFormatE2E::serve_;

TEST_F(ServeFormatE2E, ChatWithASchemaReturnsMatchingJson) {
  Json msgs = Json::array({{{"role", "user"}, {"content", "Describe a city as JSON."}}});
  auto r = post("/api/chat", {{"model", "qwen"}, {"messages", msgs}, {"stream", false}, {"think", false},
                              {"format", Json::parse(kSchema)}, {"options", {{"seed", 3}, {"num_predict", 1000}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json body = Json::parse(r->body);
  EXPECT_EQ(body["done_reason"], "stop") << r->body;
  expect_matches(body["message"]["content"].get<std::string>());
}

TEST_F(ServeFormatE2E, StreamedGenerateWithASchemaReturnsMatchingJson) {
  auto r = post("/api/generate", {{"model", "qwen"}, {"prompt", "A city:"}, {"format", Json::parse(kSchema)}, {"think", false},
                                  {"options", {{"seed", 8}, {"num_predict", 1000}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string text;
  std::istringstream in(r->body);
  std::string line;
  Json last;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = Json::parse(line);
    text += last.value("response", "");
  }
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["done_reason"], "stop");
  expect_matches(text);
}

TEST_F(ServeFormatE2E, OpenAIResponseFormatJsonSchema) {
  Json msgs = Json::array({{{"role", "user"}, {"content", "Describe a city as JSON."}}});
  Json rf = {{"type", "json_schema"}, {"json_schema", {{"name", "city"}, {"schema", Json::parse(kSchema)}}}};
  auto r = post("/v1/chat/completions",
                {{"model", "qwen"}, {"messages", msgs}, {"seed", 5}, {"max_tokens", 1000}, {"response_format", rf},
                 {"reasoning_effort", "none"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json body = Json::parse(r->body);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop") << r->body;
  expect_matches(body["choices"][0]["message"]["content"].get<std::string>());
}

// This model's template opens thinking in the prompt: the thinking stays free and only the
// answer after the close tag is constrained. With random weights the close tag rarely comes, so
// the whole budget is thinking and the answer is empty, never unconstrained text.
TEST_F(ServeFormatE2E, ThinkingIsLeftFree) {
  auto r = post("/api/generate", {{"model", "qwen"}, {"prompt", "A city:"}, {"format", Json::parse(kSchema)},
                                  {"stream", false}, {"options", {{"seed", 8}, {"num_predict", 40}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json body = Json::parse(r->body);
  const std::string thinking = body.value("thinking", "");
  const std::string response = body.value("response", "");
  EXPECT_FALSE(thinking.empty()) << r->body;
  // Free thinking from a random model is not even the start of a JSON document.
  hearth::sample::GrammarMatcher json(hearth::sample::json_schema_grammar(kSchema));
  EXPECT_FALSE(json.accepts(thinking)) << r->body;
  if (!response.empty()) {
    hearth::sample::GrammarMatcher m(hearth::sample::json_schema_grammar(kSchema));
    EXPECT_TRUE(m.accept(std::string_view(response))) << r->body;
  }
}

TEST_F(ServeFormatE2E, MalformedSchemaIs400) {
  Json msgs = Json::array({{{"role", "user"}, {"content", "hi"}}});
  auto r = post("/api/chat", {{"model", "qwen"}, {"messages", msgs}, {"stream", false},
                              {"format", {{"type", "object"}, {"properties", {{"a", {{"$ref", "#/$defs/nope"}}}}}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("invalid format"), std::string::npos) << r->body;
  Json rf = {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "thing"}}}}}};
  r = post("/v1/chat/completions", {{"model", "qwen"}, {"messages", msgs}, {"response_format", rf}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
}

}  // namespace
