// Runs scripts/install.sh into a temporary root (no useradd/systemctl outside it) and checks what
// it wrote: binary, unit (accepted by systemd-analyze verify inside the script), env file, the
// planned user and system commands; then --uninstall; and the data-dir traversal check.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct InstallFixture : ::testing::Test {
  fs::path root;
  std::string log;
  void SetUp() override {
    char tmpl[] = "/tmp/hearth-install-XXXXXX";
    root = mkdtemp(tmpl);
    chmod(root.c_str(), 0755);  // it stands for "/", which everyone may enter
  }
  void TearDown() override { fs::remove_all(root); }
  int install(const std::string& args) {
    const fs::path out = root.string() + ".log";
    const std::string cmd = std::string("bash ") + HEARTH_SOURCE_DIR + "/scripts/install.sh --root " +
                            root.string() + " --binary " + HEARTH_EXE + " " + args + " >" +
                            out.string() + " 2>&1";
    const int st = std::system(cmd.c_str());
    log = slurp(out);
    fs::remove(out);
    return WEXITSTATUS(st);
  }
};

TEST_F(InstallFixture, StagesServiceUserUnitAndEnvThenUninstalls) {
  ASSERT_EQ(install("--data-dir /data/hearth"), 0) << log;
  EXPECT_TRUE(fs::exists(root / "usr/local/bin/hearth"));
  EXPECT_TRUE(fs::is_directory(root / "data/hearth/models"));
  const std::string unit = slurp(root / "etc/systemd/system/hearth.service");
  EXPECT_NE(unit.find("ExecStart=/usr/local/bin/hearth serve\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("User=hearth\n"), std::string::npos);
  EXPECT_NE(unit.find("Environment=HOME=/data/hearth\n"), std::string::npos);
  EXPECT_NE(unit.find("Environment=HEARTH_MODELS=/data/hearth/models\n"), std::string::npos);
  EXPECT_NE(unit.find("EnvironmentFile=-/etc/hearth/env\n"), std::string::npos);
  EXPECT_NE(unit.find("EnvironmentFile=-/data/hearth/env\n"), std::string::npos);
  EXPECT_EQ(unit.find('@'), std::string::npos) << "unreplaced placeholder";
  // The script ran systemd-analyze verify on the unit (when the tool exists) and said so.
  if (std::system("command -v systemd-analyze >/dev/null") == 0) {
    EXPECT_NE(log.find("systemd-analyze verify: /etc/systemd/system/hearth.service is valid"),
              std::string::npos) << log;
  }
  EXPECT_NE(slurp(root / "etc/hearth/env").find("HEARTH_HOST=127.0.0.1:11434"), std::string::npos);
  EXPECT_EQ(slurp(root / "etc/hearth/passwd.plan"),
            "hearth:x:999:999:Hearth LLM server:/data/hearth:/usr/sbin/nologin\n");
  const std::string plan = slurp(root / "etc/hearth/install-plan.txt");
  EXPECT_NE(plan.find("useradd --system --user-group --home-dir /data/hearth"), std::string::npos) << plan;
  EXPECT_NE(plan.find("chown -R hearth:hearth /data/hearth\n"), std::string::npos) << plan;
  EXPECT_NE(plan.find("systemctl enable --now hearth.service\n"), std::string::npos) << plan;

  // A second install keeps the administrator's env file.
  std::ofstream(root / "etc/hearth/env") << "HEARTH_HOST=0.0.0.0:11434\n";
  ASSERT_EQ(install("--data-dir /data/hearth --no-start"), 0) << log;
  EXPECT_EQ(slurp(root / "etc/hearth/env"), "HEARTH_HOST=0.0.0.0:11434\n");
  EXPECT_NE(slurp(root / "etc/hearth/install-plan.txt").find("systemctl enable hearth.service\n"),
            std::string::npos);

  ASSERT_EQ(install("--uninstall"), 0) << log;
  EXPECT_FALSE(fs::exists(root / "usr/local/bin/hearth"));
  EXPECT_FALSE(fs::exists(root / "etc/systemd/system/hearth.service"));
  EXPECT_TRUE(fs::is_directory(root / "data/hearth/models"));  // models are kept
  EXPECT_NE(log.find("kept /data/hearth"), std::string::npos) << log;
  EXPECT_NE(slurp(root / "etc/hearth/install-plan.txt").find("systemctl disable --now hearth.service"),
            std::string::npos);
  ASSERT_EQ(install("--uninstall --purge"), 0) << log;
  EXPECT_FALSE(fs::exists(root / "data/hearth"));
}

TEST_F(InstallFixture, RefusesADataDirTheServiceUserCannotReach) {
  fs::create_directories(root / "data");
  chmod((root / "data").c_str(), 0700);
  EXPECT_EQ(install("--data-dir /data/hearth"), 1);
  EXPECT_NE(log.find("the service user 'hearth' cannot enter /data (owner"), std::string::npos) << log;
  EXPECT_NE(log.find("Fix: chmod o+x /data"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(root / "etc/systemd/system/hearth.service"));
}

TEST_F(InstallFixture, RejectsBadArguments) {
  EXPECT_EQ(install("--data-dir relative/path"), 1);
  EXPECT_NE(log.find("--data-dir must be an absolute path"), std::string::npos) << log;
  EXPECT_EQ(install("--frobnicate"), 2);
}

}  // namespace
