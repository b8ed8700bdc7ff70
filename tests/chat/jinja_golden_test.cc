// Every real chat template in testdata/templates x every conversation in goldens/ renders
// byte-for-byte what Python's jinja2 renders in Hugging Face's environment
// (goldens/render_goldens.py), and raises where it raises.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/jinja_template.h"

namespace hearth::chat {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  EXPECT_TRUE(f.good()) << p;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const fs::path kGoldens = fs::path(HEARTH_SOURCE_DIR) / "tests/chat/goldens";
const fs::path kTemplates = fs::path(HEARTH_TESTDATA_DIR) / "templates";

// 2025-01-15 10:30:00 UTC, the clock render_goldens.py fixes for strftime_now.
constexpr std::time_t kFixedNow = 1736937000;

std::vector<std::string> template_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kTemplates))
    if (e.path().extension() == ".jinja") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class JinjaGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JinjaGoldenTest, MatchesPythonJinja2) {
  const std::string name = GetParam();
  JinjaTemplate tmpl = JinjaTemplate::parse(read_file(kTemplates / (name + ".jinja")));
  Json conversations = Json::parse(read_file(kGoldens / "conversations.json"));
  Json tools = Json::parse(read_file(kGoldens / "tools.json"));
  ASSERT_TRUE(fs::exists(kGoldens / (name + ".json"))) << "no goldens: run tests/chat/goldens/render_goldens.py";
  Json goldens = Json::parse(read_file(kGoldens / (name + ".json")));
  JinjaRenderOptions opts;
  opts.now = kFixedNow;
  int checked = 0;
  for (auto it = conversations.begin(); it != conversations.end(); ++it) {
    const Json& conv = it.value();
    Json ctx = Json::object();
    ctx["messages"] = conv["messages"];
    ctx["tools"] = conv.contains("tools") ? tools : Json(nullptr);
    ctx["documents"] = nullptr;
    ctx["add_generation_prompt"] = conv["add_generation_prompt"];
    ctx["bos_token"] = "<s>";
    ctx["eos_token"] = "</s>";
    ASSERT_TRUE(goldens.contains(it.key())) << it.key();
    const Json& want = goldens[it.key()];
    SCOPED_TRACE(name + " / " + it.key());
    if (want.contains("output")) {
      try {
        EXPECT_EQ(tmpl.render(ctx, opts), want["output"].get<std::string>());
      } catch (const std::exception& e) {
        ADD_FAILURE() << "unexpected error: " << e.what();
      }
    } else if (want["raise"].get<bool>()) {
      try {
        tmpl.render(ctx, opts);
        ADD_FAILURE() << "expected raise_exception: " << want["error"];
      } catch (const TemplateRaise& e) {
        EXPECT_EQ(std::string(e.what()), want["error"].get<std::string>());
      } catch (const std::exception& e) {
        ADD_FAILURE() << "expected raise_exception, got: " << e.what();
      }
    } else {
      // Python raised a TypeError/UndefinedError: we must fail too, with a template error.
      EXPECT_THROW(tmpl.render(ctx, opts), TemplateError) << "python: " << want["error"];
    }
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

INSTANTIATE_TEST_SUITE_P(Templates, JinjaGoldenTest, ::testing::ValuesIn(template_names()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

// One feature per snippet (filters, tests, loops, scoping, whitespace control, number and
// repr formatting), rendered by jinja2 in the same environment.
TEST(JinjaSnippets, MatchPythonJinja2) {
  Json golden = Json::parse(read_file(kGoldens / "snippets.golden.json"));
  JinjaRenderOptions opts;
  opts.now = kFixedNow;
  ASSERT_GT(golden["cases"].size(), 40u);
  for (const Json& c : golden["cases"]) {
    const std::string src = c["template"].get<std::string>();
    SCOPED_TRACE(src);
    try {
      std::string out = JinjaTemplate::parse(src).render(golden["context"], opts);
      if (c.contains("output")) EXPECT_EQ(out, c["output"].get<std::string>());
      else ADD_FAILURE() << "expected error " << c["error"] << ", rendered: " << out;
    } catch (const TemplateRaise& e) {
      EXPECT_TRUE(c.contains("raise") && c["raise"].get<bool>()) << e.what();
      if (c.contains("error")) {
        EXPECT_EQ(std::string(e.what()), c["error"].get<std::string>());
      }
    } catch (const TemplateError& e) {
      EXPECT_TRUE(c.contains("error") && !c["raise"].get<bool>()) << "unexpected error: " << e.what();
    }
  }
}

TEST(JinjaGoldenSet, EveryTemplateHasGoldens) {
  auto names = template_names();
  EXPECT_GE(names.size(), 19u);
  for (const auto& n : names) EXPECT_TRUE(fs::exists(kGoldens / (n + ".json"))) << n;
}

}  // namespace
}  // namespace hearth::chat
