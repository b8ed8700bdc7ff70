#include "cli/repl.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace hearth::cli {
namespace {

// Answers every chat with scripted chunks and records what the REPL sent.
class FakeModel : public ReplApi {
 public:
  std::vector<Json> chats, creates, shows;
  std::vector<std::string> loads;
  std::vector<Json> script = {
      {{"message", {{"role", "assistant"}, {"content", ""}, {"thinking", "hmm"}}}},
      {{"message", {{"role", "assistant"}, {"content", "Hello"}}}},
      {{"message", {{"role", "assistant"}, {"content", " there"}}}},
      {{"message", {{"role", "assistant"}, {"content", ""}}},
       {"done", true},
       {"total_duration", 2'000'000'000},
       {"prompt_eval_count", 10},
       {"prompt_eval_duration", 500'000'000},
       {"eval_count", 2},
       {"eval_duration", 1'000'000'000}}};
  bool cancel_after_first = false;
  Json show_reply = {{"modelfile", "FROM m\n"},
                     {"parameters", "temperature 0.5\nstop \"<x>\""},
                     {"template", "{{ .Prompt }}"},
                     {"details", {{"parent_model", ""}, {"quantization_level", "Q8_0"}}},
                     {"model_info", {{"general.architecture", "llama"}, {"llama.context_length", 2048}}},
                     {"capabilities", {"completion"}}};

  Json show(const Json& request) override {
    shows.push_back(request);
    if (request.value("model", "") == "missing") throw Error(ErrorCode::not_found, "model 'missing' not found");
    return show_reply;
  }
  void create(const Json& request) override {
    if (request.value("model", "") == "bad//name") throw Error(ErrorCode::invalid_argument, "invalid model name");
    creates.push_back(request);
  }
  std::string list_table() override { return "NAME    ID\n"; }
  void load(const std::string& model, const Json&) override { loads.push_back(model); }
  bool chat(const Json& request, const std::function<bool(const Json&)>& on_chunk) override {
    chats.push_back(request);
    for (size_t i = 0; i < script.size(); ++i) {
      on_chunk(script[i]);
      if (cancel_after_first && i == 1) return false;  // Ctrl+C mid-answer
    }
    return true;
  }
};

struct ReplFixture : ::testing::Test {
  FakeModel backend;
  std::string out, err;
  std::unique_ptr<Repl> repl;
  void SetUp() override {
    RunOptions o;
    o.model = "m:latest";
    AnswerStyle style;
    style.wrap = false;
    repl = std::make_unique<Repl>(o, backend, [this](std::string_view s) { out.append(s); },
                                  [this](std::string_view s) { err.append(s); }, style);
  }
  Repl::Status feed(const std::string& line) { return repl->handle_line(line); }
};

TEST_F(ReplFixture, SendsMessageStreamsAnswerAndKeepsHistory) {
  feed("hi");
  EXPECT_EQ(out, "Thinking...\nhmm\n...done thinking.\n\nHello there\n\n");
  feed("again");
  ASSERT_EQ(backend.chats.size(), 2u);
  const Json& msgs = backend.chats[1]["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["content"], "hi");
  EXPECT_EQ(msgs[1]["role"], "assistant");
  EXPECT_EQ(msgs[1]["content"], "Hello there");
  EXPECT_EQ(msgs[1]["thinking"], "hmm");
  EXPECT_EQ(msgs[2]["content"], "again");
  EXPECT_EQ(err, "");  // quiet by default
}

TEST_F(ReplFixture, TripleQuotesMakeOneMultiLineMessage) {
  feed("\"\"\"first line");
  EXPECT_TRUE(repl->continuation());
  feed("second line");
  EXPECT_TRUE(backend.chats.empty());
  feed("third\"\"\"");
  EXPECT_FALSE(repl->continuation());
  ASSERT_EQ(backend.chats.size(), 1u);
  EXPECT_EQ(backend.chats[0]["messages"][0]["content"], "first line\nsecond line\nthird");
  feed("\"\"\"one line\"\"\"");
  EXPECT_EQ(backend.chats[1]["messages"][2]["content"], "one line");
}

TEST_F(ReplFixture, VerboseStatsAfterEveryAnswerOnStderr) {
  feed("/set verbose");
  EXPECT_EQ(out, "Set 'verbose' mode.\n");
  feed("hi");
  EXPECT_EQ(err,
            "total duration:       2s\n"
            "prompt eval count:    10 token(s)\n"
            "prompt eval duration: 500ms\n"
            "prompt eval rate:     20.00 tokens/s\n"
            "eval count:           2 token(s)\n"
            "eval duration:        1s\n"
            "eval rate:            2.00 tokens/s\n");
  feed("/set quiet");
  err.clear();
  feed("hi");
  EXPECT_EQ(err, "");
}

TEST_F(ReplFixture, CtrlCMidAnswerKeepsSessionWithoutTheAnswer) {
  backend.cancel_after_first = true;
  feed("stop me");
  EXPECT_EQ(repl->options().messages.size(), 1u);  // the question stays, the answer is dropped
  backend.cancel_after_first = false;
  out.clear();
  feed("next");
  EXPECT_EQ(out, "Thinking...\nhmm\n...done thinking.\n\nHello there\n\n");
  EXPECT_EQ(backend.chats.back()["messages"].size(), 2u);
}

TEST_F(ReplFixture, InterruptAtPromptAndMultiline) {
  repl->interrupt(true);
  EXPECT_EQ(out, "\nUse Ctrl + d or /bye to exit.\n");
  feed("\"\"\"half");
  repl->interrupt(false);
  EXPECT_FALSE(repl->continuation());
  feed("fresh");
  EXPECT_EQ(backend.chats.back()["messages"].back()["content"], "fresh");
}

TEST_F(ReplFixture, SetCommands) {
  feed("/set parameter temperature 0.2");
  feed("/set parameter stop <a> <b>");
  feed("/set parameter num_ctx lots");
  feed("/set parameter bogus 1");
  feed("/set think high");
  feed("/set format json");
  feed("/set format xml");
  feed("/set nowordwrap");
  feed("/set whatever");
  EXPECT_EQ(out,
            "Set parameter 'temperature' to '0.2'\n"
            "Set parameter 'stop' to '<a>, <b>'\n"
            "Couldn't set parameter: \"invalid int value [lots]\"\n"
            "Couldn't set parameter: \"unknown parameter 'bogus'\"\n"
            "Set 'think' mode to 'high'.\n"
            "Set format to 'json' mode.\n"
            "Invalid or missing format. For 'json' mode use '/set format json'\n"
            "Set 'nowordwrap' mode.\n"
            "Unknown command '/set whatever'. Type /? for help\n");
  feed("hi");
  const Json& req = backend.chats.back();
  EXPECT_FLOAT_EQ(req["options"]["temperature"].get<float>(), 0.2f);
  EXPECT_EQ(req["options"]["stop"], Json({"<a>", "<b>"}));
  EXPECT_EQ(req["think"], "high");
  EXPECT_EQ(req["format"], "json");
  feed("/set nothink");
  feed("/set noformat");
  feed("hi");
  EXPECT_EQ(backend.chats.back()["think"], false);
  EXPECT_FALSE(backend.chats.back().contains("format"));
  feed("/set nohistory");
  EXPECT_FALSE(repl->history_enabled());
  feed("/set history");
  EXPECT_TRUE(repl->history_enabled());
}

TEST_F(ReplFixture, SystemMessageOneLineAndMultiLineAndClear) {
  feed("/set system You are terse.");
  EXPECT_EQ(repl->options().system, "You are terse.");
  feed("/set system \"\"\"Line one");
  EXPECT_TRUE(repl->continuation());
  feed("line two\"\"\"");
  EXPECT_EQ(repl->options().system, "Line one\nline two");
  ASSERT_EQ(repl->options().messages.size(), 1u);  // replaced, not appended
  feed("hi");
  feed("/clear");
  ASSERT_EQ(repl->options().messages.size(), 1u);
  EXPECT_EQ(repl->options().messages[0].role, "system");
  EXPECT_NE(out.find("Set system message.\n"), std::string::npos);
  EXPECT_NE(out.find("Cleared session context\n"), std::string::npos);
}

TEST_F(ReplFixture, ShowCommands) {
  feed("/set parameter seed 7");
  out.clear();
  feed("/show parameters");
  EXPECT_EQ(out,
            "Model defined parameters:\n"
            "  temperature 0.5\n"
            "  stop \"<x>\"\n"
            "\n"
            "User defined parameters:\n"
            "  seed                           7\n"
            "\n");
  out.clear();
  feed("/show license");
  feed("/show template");
  feed("/show system");
  feed("/show bogus");
  EXPECT_EQ(out,
            "No license was specified for this model.\n"
            "{{ .Prompt }}\n"
            "No system message was specified for this model.\n"
            "Unknown command '/show bogus'. Type /? for help\n");
  feed("/show info");
  EXPECT_NE(err.find("  Model\n    architecture      llama\n"), std::string::npos) << err;
  EXPECT_NE(err.find("    quantization      Q8_0\n"), std::string::npos);
  EXPECT_EQ(backend.shows.back()["options"]["seed"], 7);
}

TEST_F(ReplFixture, SaveThenLoad) {
  feed("/set system Be brief.");
  feed("/set parameter temperature 0");
  feed("hi");
  out.clear();
  feed("/save mine");
  EXPECT_EQ(out, "Created new model 'mine'\n");
  ASSERT_EQ(backend.creates.size(), 1u);
  const Json& c = backend.creates[0];
  EXPECT_EQ(c["model"], "mine");
  EXPECT_EQ(c["from"], "m:latest");
  EXPECT_EQ(c["system"], "Be brief.");
  EXPECT_EQ(c["parameters"]["temperature"], 0.0);
  ASSERT_EQ(c["messages"].size(), 3u);  // system, user, assistant
  EXPECT_EQ(c["messages"][2]["content"], "Hello there");

  out.clear();
  feed("/save bad//name");
  EXPECT_EQ(out, "error: The model name 'bad//name' is invalid\n");

  // /load switches the model and starts a clean conversation with the model's own MESSAGEs.
  backend.show_reply["messages"] = Json::array({{{"role", "user"}, {"content", "saved q"}}});
  out.clear();
  feed("/load mine");
  EXPECT_EQ(out, "Loading model 'mine'\n");
  EXPECT_EQ(backend.loads, std::vector<std::string>{"mine"});
  EXPECT_EQ(repl->options().model, "mine");
  EXPECT_TRUE(repl->options().messages.empty());
  feed("/save again");
  EXPECT_EQ(backend.creates.back()["messages"][0]["content"], "saved q");

  out.clear();
  feed("/load missing");
  EXPECT_EQ(out, "Loading model 'missing'\nCouldn't find model 'missing'\n");
  EXPECT_EQ(repl->options().model, "mine");
  out.clear();
  feed("/load");
  EXPECT_EQ(out, "Usage:\n  /load <modelname>\n");
}

TEST_F(ReplFixture, HelpListUnknownAndBye) {
  feed("/?");
  EXPECT_NE(err.find("Use \"\"\" to begin a multi-line message."), std::string::npos);
  err.clear();
  feed("/? set");
  EXPECT_NE(err.find("/set nothink           Disable thinking"), std::string::npos);
  feed("/help shortcuts");
  EXPECT_NE(err.find("Ctrl + c            Stop the model from responding"), std::string::npos);
  feed("/list");
  EXPECT_EQ(out, "NAME    ID\n");
  out.clear();
  feed("/frobnicate now");
  EXPECT_EQ(out, "Unknown command '/frobnicate'. Type /? for help\n");
  EXPECT_EQ(feed("/bye"), Repl::Status::exit);
  EXPECT_EQ(feed("/exit"), Repl::Status::exit);
  EXPECT_TRUE(backend.chats.empty());
}

TEST(ShowInfo, SectionsLikeOllama) {
  Json show = {{"details", {{"parameter_size", "7.6B"}, {"quantization_level", "Q4_K_M"}}},
               {"model_info",
                {{"general.architecture", "qwen2"},
                 {"qwen2.context_length", 32768},
                 {"qwen2.embedding_length", 3584},
                 {"tokenizer.ggml.tokens", {"a", "b", "c", "d", "e", "f"}}}},
               {"capabilities", {"completion", "tools"}},
               {"parameters", "stop \"<|im_end|>\""},
               {"license", "Apache\nline2\nline3"}};
  EXPECT_EQ(format_show_info(show, false),
            "  Model\n"
            "    architecture        qwen2\n"
            "    parameters          7.6B\n"
            "    context length      32768\n"
            "    embedding length    3584\n"
            "    quantization        Q4_K_M\n"
            "\n"
            "  Capabilities\n"
            "    completion\n"
            "    tools\n"
            "\n"
            "  Parameters\n"
            "    stop    \"<|im_end|>\"\n"
            "\n"
            "  License\n"
            "    Apache\n"
            "    line2\n"
            "    ...\n"
            "\n");
  const std::string v = format_show_info(show, true);
  EXPECT_NE(v.find("  Metadata\n"), std::string::npos);
  EXPECT_NE(v.find("tokenizer.ggml.tokens     [a b c ...+3 more]"), std::string::npos) << v;
}

TEST(SplitFields, CollapsesSpaces) {
  EXPECT_EQ(split_fields("  /set  parameter\tx  1 "),
            (std::vector<std::string>{"/set", "parameter", "x", "1"}));
}

}  // namespace
}  // namespace hearth::cli
