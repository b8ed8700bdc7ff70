#include "store/model_name.h"

#include <gtest/gtest.h>

#include "store/digest.h"
#include "util/error.h"

namespace hearth::store {
namespace {

TEST(ModelName, DefaultsFillMissingParts) {
  ModelName n = ModelName::parse("llama3.2");
  EXPECT_EQ(n.host, "registry.ollama.ai");
  EXPECT_EQ(n.ns, "library");
  EXPECT_EQ(n.model, "llama3.2");
  EXPECT_EQ(n.tag, "latest");
  EXPECT_EQ(n.display(), "llama3.2:latest");
  EXPECT_EQ(n.manifest_rel_path(), "registry.ollama.ai/library/llama3.2/latest");
  EXPECT_FALSE(n.host_given);
}

TEST(ModelName, NamespaceAndHostForms) {
  ModelName a = ModelName::parse("jmorgan/mistral:7b-q4");
  EXPECT_EQ(a.ns, "jmorgan");
  EXPECT_EQ(a.tag, "7b-q4");
  EXPECT_EQ(a.display(), "jmorgan/mistral:7b-q4");
  ModelName b = ModelName::parse("localhost:5000/library/stories:260k");
  EXPECT_EQ(b.host, "localhost:5000");
  EXPECT_TRUE(b.host_given);
  EXPECT_EQ(b.display(), "localhost:5000/library/stories:260k");
  EXPECT_EQ(b.repository(), "library/stories");
  ModelName c = ModelName::parse("https://example.com/ns/m:t");
  EXPECT_EQ(c.host, "example.com");
  ModelName d = ModelName::parse("registry.ollama.ai/library/qwen3:8b");
  EXPECT_EQ(d.display(), "qwen3:8b");
}

TEST(ModelName, CaseInsensitiveKeyKeepsSpelling) {
  ModelName a = ModelName::parse("Llama3:Latest");
  ModelName b = ModelName::parse("llama3:latest");
  EXPECT_EQ(a.model, "Llama3");
  EXPECT_EQ(a.key(), b.key());
  EXPECT_TRUE(a == b);
}

TEST(ModelName, RejectsInvalidNames) {
  for (const char* bad : {"", ":", "m:", "../x", "a/../b", "ns/.hidden", "a/b/c/d", "-x",
                          "x y", "n.s/m", "m:t/x", "/m", "a//b", "m:..", "m:-t"}) {
    ModelName n;
    EXPECT_FALSE(ModelName::try_parse(bad, &n)) << bad;
  }
  EXPECT_THROW(ModelName::parse("a/b/c/d"), Error);
  std::string long_model(81, 'a');
  ModelName n;
  EXPECT_FALSE(ModelName::try_parse(long_model, &n));
  EXPECT_TRUE(ModelName::try_parse(std::string(80, 'a'), &n));
  try {
    ModelName::parse("bad name");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "invalid model name");
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  }
}

TEST(Digest, ValidationAndHashing) {
  EXPECT_EQ(sha256_digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string d = sha256_digest("abc");
  EXPECT_TRUE(is_valid_digest(d));
  EXPECT_EQ(parse_digest("sha256-" + d.substr(7)), d);
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_valid_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(is_valid_digest("sha256:../" + std::string(61, 'a')));
  EXPECT_THROW(parse_digest("sha256:xyz"), Error);
}

}  // namespace
}  // namespace hearth::store
