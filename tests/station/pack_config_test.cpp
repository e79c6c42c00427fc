// The [pack] section: the bench's own codes, supervisors and reasons.
#include <gtest/gtest.h>

#include "station/config/config.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;

namespace {

const char* kPrinter = "[[printer]]\nname = \"p\"\ntype = \"file\"\n";

std::string all(const std::vector<ps::ConfigProblem>& problems) {
  std::string s;
  for (const auto& p : problems) {
    s += p.to_string() + "\n";
  }
  return s;
}

}  // namespace

TEST(PackConfig, ReadsCodesSupervisorsAndReasons) {
  pt::TempDir dir;
  const auto loaded = ps::load_config_text(std::string(kPrinter) + R"(
[pack]
packer_badge_prefix = "BADGE:"
quantity_prefix = "Q:"
reason_codes = ["short-pick", "crushed"]
require_packer = true
max_quantity = 50

[[pack.supervisor]]
id = "sv-ana"
badge = "SV-0001"
pin_sha256 = "ad2b4e8e3a5ec5e34d3e6e3cbba8e1ab4b1b4a7d2a1ca3f4b86e9f3c0f64e5ef"

[[pack.supervisor]]
id = "sv-ben"
badge = "SV-0002"
)",
                                           "p.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  const auto& pk = loaded.config.pack;
  EXPECT_EQ(pk.packer_badge_prefix, "BADGE:");
  EXPECT_EQ(pk.quantity_prefix, "Q:");
  EXPECT_EQ(pk.command_prefix, "CMD-");  // default kept
  EXPECT_EQ(pk.reason_codes, (std::vector<std::string>{"short-pick", "crushed"}));
  EXPECT_TRUE(pk.require_packer);
  EXPECT_EQ(pk.max_quantity, 50);
  ASSERT_EQ(pk.supervisors.size(), 2u);
  EXPECT_EQ(pk.supervisors[1].id, "sv-ben");
  EXPECT_TRUE(pk.supervisors[1].pin_sha256.empty());
}

TEST(PackConfig, ReportsEveryProblemWithItsLine) {
  pt::TempDir dir;
  const auto loaded = ps::load_config_text(std::string(kPrinter) + R"([pack]
command_prefix = ""
pin_prefix = "P"
reason_prefix = "PX-"
reason_codes = ["Short Pick"]
require_packer = "yes"
colour = 1

[[pack.supervisor]]
id = "sv"
pin_sha256 = "1234"

[[pack.supervisor]]
id = "sv"
)",
                                           "p.toml", dir.path());
  const std::string text = all(loaded.problems);
  for (const char* expected : {"p.toml:5:18: pack.command_prefix: must not be empty",
                               "pack.pin_prefix: 'P' overlaps pack.packer_badge_prefix 'PK-'",
                               "pack.reason_prefix: 'PX-' overlaps pack.pin_prefix 'P'",
                               "pack.reason_codes: 'Short Pick' must be lower-case",
                               "p.toml:9:18: pack.require_packer: must be true or false",
                               "p.toml:10:1: pack.colour: unknown key",
                               "pack.supervisor[0].pin_sha256: must be 64 lower-case hex digits",
                               "pack.supervisor[1].id: duplicate supervisor id 'sv'",
                               "pack.supervisor[1]: needs a badge, a pin_sha256, or both"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  }
  EXPECT_EQ(loaded.problems.size(), 9u) << text;
}
