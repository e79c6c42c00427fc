#include "station/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;

namespace {

// The shape the station must accept as written.
const char* kExample = R"(
[station]
id = "pack-01"
site = "tokyo-dc1"
state_dir = "/var/lib/packbench"

[ui]
listen = "127.0.0.1:8080"

[orders]
file = "orders.json"            # optional: orders loaded at start

[[scanner]]
name = "hand"
type = "tcp-listen"             # each line received is one scan
address = "127.0.0.1:7001"

[[printer]]
name = "label"
type = "zpl-tcp"                # raw TCP, port-9100 style
address = "127.0.0.1:9100"
dpi = 203
roles = ["shipping-label", "insert", "discount-card"]

[sync]
url = "http://127.0.0.1:8088/events"   # CloudEvents webhook
)";

const ps::ConfigProblem* find(const std::vector<ps::ConfigProblem>& problems,
                              const std::string& key) {
  for (const auto& p : problems) {
    if (p.key == key) {
      return &p;
    }
  }
  return nullptr;
}

std::string all(const std::vector<ps::ConfigProblem>& problems) {
  std::string s;
  for (const auto& p : problems) {
    s += p.to_string() + "\n";
  }
  return s;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("PACKBENCH_STATE_DIR"); }
  void TearDown() override { unsetenv("PACKBENCH_STATE_DIR"); }
  pt::TempDir dir;
};

}  // namespace

TEST_F(ConfigTest, TheDocumentedExampleLoadsAsWritten) {
  pt::write_file(dir / "orders.json", R"({"orders": []})");
  pt::write_file(dir / "station.toml", kExample);
  const auto loaded = ps::load_config_file(dir / "station.toml");
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  const auto& c = loaded.config;
  EXPECT_EQ(c.station.id, "pack-01");
  EXPECT_EQ(c.station.site, "tokyo-dc1");
  EXPECT_EQ(c.station.state_dir, "/var/lib/packbench");
  EXPECT_EQ(c.orders.file, dir.path() / "orders.json");
  ASSERT_EQ(c.scanners.size(), 1u);
  EXPECT_EQ(c.scanners[0].address, "127.0.0.1:7001");
  ASSERT_EQ(c.printers.size(), 1u);
  EXPECT_EQ(c.printers[0].roles.size(), 3u);
  EXPECT_EQ(c.sync.url, "http://127.0.0.1:8088/events");
}

TEST_F(ConfigTest, DefaultsFillWhatIsLeftOut) {
  const auto loaded =
      ps::load_config_text("[[printer]]\nname = \"p\"\ntype = \"file\"\n", "mini.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  EXPECT_FALSE(loaded.config.station.id.empty());  // the host name
  EXPECT_EQ(loaded.config.ui.listen, "127.0.0.1:8080");
  EXPECT_EQ(loaded.config.printers[0].dpi, 203);
  EXPECT_EQ(loaded.config.printers[0].roles, std::vector<std::string>{"shipping-label"});
  EXPECT_EQ(loaded.config.printers[0].directory, "/var/lib/packbench/prints");
}

TEST_F(ConfigTest, ReportsEveryProblemAtOnceWithFileLineAndKey) {
  const char* text = R"([station]
id = "pack 01"
colour = "blue"

[ui]
listen = "127.0.0.1:99999"

[orders]
file = "missing.json"

[[scanner]]
name = "hand"
type = "tcp-listen"
address = "nowhere"

[[scanner]]
name = "hand"
type = "usb-magic"

[[printer]]
name = "label"
type = "zpl-tcp"
address = "127.0.0.1:9100"
dpi = 250
roles = ["insert", "confetti"]

[sync]
url = "ftp://example/events"
retry_base_ms = "fast"
)";
  const auto loaded = ps::load_config_text(text, "bad.toml", dir.path());
  const auto& p = loaded.problems;
  struct Want {
    const char* key;
    int line;
    const char* words;
  };
  const Want wants[] = {
      {"station.id", 2, "letters, digits"},
      {"station.colour", 3, "unknown key"},
      {"ui.listen", 6, "port"},
      {"orders.file", 9, "no such file"},
      {"scanner[0].address", 14, "not a usable address"},
      {"scanner[1].name", 17, "duplicate device name 'hand'"},
      {"scanner[1].type", 18, "unknown scanner type"},
      {"printer[0].dpi", 24, "203, 300 or 600"},
      {"printer[0].roles", 25, "unknown role 'confetti'"},
      {"printer", 20, "no printer serves the role 'shipping-label'"},
      {"sync.url", 28, "not supported"},
      {"sync.retry_base_ms", 29, "must be an integer"},
  };
  for (const auto& w : wants) {
    const auto* found = find(p, w.key);
    ASSERT_NE(found, nullptr) << "no problem reported for " << w.key << "\n" << all(p);
    EXPECT_EQ(found->file, "bad.toml");
    EXPECT_EQ(found->line, w.line) << found->to_string();
    EXPECT_NE(found->message.find(w.words), std::string::npos) << found->to_string();
  }
  EXPECT_EQ(p.size(), std::size(wants)) << all(p);
  EXPECT_EQ(find(p, "station.colour")->to_string().rfind("bad.toml:3:", 0), 0u);
}

TEST_F(ConfigTest, SyntaxErrorNamesTheLine) {
  const auto loaded =
      ps::load_config_text("[station]\nid = \"a\"\nsite = \n", "s.toml", dir.path());
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_EQ(loaded.problems[0].line, 3);
  EXPECT_EQ(loaded.problems[0].file, "s.toml");
}

TEST_F(ConfigTest, WrongTypesAreNamed) {
  const auto loaded = ps::load_config_text(
      "station = 5\n[[printer]]\nname = \"p\"\ntype = \"file\"\nroles = \"insert\"\n", "t.toml",
      dir.path());
  EXPECT_NE(find(loaded.problems, "station"), nullptr) << all(loaded.problems);
  EXPECT_NE(find(loaded.problems, "printer[0].roles"), nullptr) << all(loaded.problems);
}

TEST_F(ConfigTest, NoPrinterAtAllIsAProblem) {
  const auto loaded = ps::load_config_text("[station]\nid = \"a\"\n", "n.toml", dir.path());
  ASSERT_EQ(loaded.problems.size(), 1u) << all(loaded.problems);
  EXPECT_NE(loaded.problems[0].message.find("no printer"), std::string::npos);
}

TEST_F(ConfigTest, DuplicateNamesAcrossDeviceKinds) {
  const auto loaded = ps::load_config_text(R"([[scanner]]
name = "bench"
type = "tcp-listen"
address = "127.0.0.1:7001"
[[printer]]
name = "bench"
type = "file"
)",
                                           "d.toml", dir.path());
  const auto* p = find(loaded.problems, "printer[0].name");
  ASSERT_NE(p, nullptr) << all(loaded.problems);
  EXPECT_EQ(p->line, 6);
}

TEST_F(ConfigTest, StateDirFromTheEnvironmentWins) {
  setenv("PACKBENCH_STATE_DIR", (dir / "elsewhere").c_str(), 1);
  const auto loaded = ps::load_config_text(
      "[station]\nstate_dir = \"/var/lib/packbench\"\n[[printer]]\nname = \"p\"\ntype = \"file\"\n",
      "e.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  EXPECT_EQ(loaded.config.station.state_dir, dir / "elsewhere");
  EXPECT_EQ(loaded.config.printers[0].directory, dir / "elsewhere" / "prints");
}

TEST_F(ConfigTest, RelativePathsAreTakenFromTheConfigFolder) {
  pt::write_file(dir / "o.json", "[]");
  const auto loaded = ps::load_config_text(
      "[station]\nstate_dir = \"state\"\n[orders]\nfile = \"o.json\"\n[[printer]]\nname = "
      "\"p\"\ntype = \"file\"\n",
      "r.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  EXPECT_EQ(loaded.config.station.state_dir, dir / "state");
  EXPECT_EQ(loaded.config.orders.file, dir / "o.json");
}

TEST_F(ConfigTest, UnreadableFileIsAProblemNotACrash) {
  const auto loaded = ps::load_config_file(dir / "does-not-exist.toml");
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_NE(loaded.problems[0].message.find("cannot read"), std::string::npos);
}
