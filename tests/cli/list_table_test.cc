// `hearth list`'s table, shared by the server and the no-server path.
#include <gtest/gtest.h>

#include "cli/run_session.h"

namespace hearth::cli {
namespace {

TEST(ListTable, PrefixIgnoresCaseAsOllamaDoes) {
  const std::vector<ListRow> models = {
      {"Llama3:8B", std::string(64, 'a'), 4'700'000'000, {}},
      {"qwen:latest", std::string(64, 'b'), 1'200'000, {}},
  };
  const std::string table = list_table(models, "lLaMa");
  EXPECT_NE(table.find("Llama3:8B    aaaaaaaaaaaa    4.7 GB    Never"), std::string::npos) << table;
  EXPECT_EQ(table.find("qwen"), std::string::npos) << table;
  EXPECT_EQ(table.rfind("NAME", 0), 0u) << table;
  EXPECT_NE(list_table(models, "").find("qwen:latest"), std::string::npos);
}

}  // namespace
}  // namespace hearth::cli
