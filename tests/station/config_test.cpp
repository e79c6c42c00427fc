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
  EXPECT_EQ(loaded.config.ui.locale, "en");
  EXPECT_EQ(loaded.config.printers[0].profile.name, "zpl-203");
  EXPECT_EQ(loaded.config.printers[0].profile.dpi, 203);
  EXPECT_EQ(loaded.config.printers[0].sent_format(), "zpl");
  EXPECT_EQ(loaded.config.shipping.template_name, "shipping-label");
  EXPECT_TRUE(loaded.config.shipping.gs1_company_prefix.empty());
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

TEST_F(ConfigTest, APrintersProfileIsABuiltinAFileAndItsOwnKeys) {
  pt::write_file(dir / "zebra-acs.toml",
                 "name = \"zebra-acs\"\nbase = \"zpl-300\"\nzpl_compression = \"acs\"\n");
  const auto loaded = ps::load_config_text(R"(
[[printer]]
name = "label"
type = "file"
profile = "zpl-203"
zpl_compression = "acs"
native_text = false

[[printer]]
name = "old-zebra"
type = "zpl-tcp"
address = "127.0.0.1:9100"
profile = "zebra-acs.toml"
roles = ["insert"]

[[printer]]
name = "receipts"
type = "file"
profile = "escpos-80mm"
cut = "full"
roles = ["discount-card"]

[[printer]]
name = "office"
type = "file"
profile = "pdf-a6"
roles = ["packing-slip"]

[[printer]]
name = "fine"
type = "file"
dpi = 600
width_mm = 104
format = "png"
roles = ["insert"]
)",
                                           "station.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  const auto& p = loaded.config.printers;
  EXPECT_EQ(p[0].profile.dpi, 203);
  EXPECT_EQ(p[0].profile.zpl_compression, packbench::labels::ZplCompression::kAcs);
  EXPECT_FALSE(p[0].profile.native_text);
  EXPECT_EQ(p[1].profile.name, "zebra-acs");
  EXPECT_EQ(p[1].profile.dpi, 300);
  EXPECT_EQ(p[1].profile_file, dir.path() / "zebra-acs.toml");
  EXPECT_EQ(p[1].profile.zpl_compression, packbench::labels::ZplCompression::kAcs);
  EXPECT_EQ(p[2].sent_format(), "escpos");
  EXPECT_EQ(p[2].profile.cut, packbench::labels::EscposCut::kFull);
  EXPECT_EQ(p[3].sent_format(), "pdf");
  EXPECT_DOUBLE_EQ(p[3].profile.height_mm, 148);
  // No profile: zpl-203 with the printer's own keys over it.
  EXPECT_EQ(p[4].profile.dpi, 600);
  EXPECT_DOUBLE_EQ(p[4].profile.width_mm, 104);
  EXPECT_TRUE(p[4].profile.native_text);
  EXPECT_EQ(p[4].sent_format(), "png");
}

TEST_F(ConfigTest, ProfileProblemsNameTheirFileLineAndKey) {
  pt::write_file(dir / "broken.toml", "base = \"zpl-203\"\nzpl_compression = \"lzw\"\n");
  const auto loaded = ps::load_config_text(R"([[printer]]
name = "label"
type = "zpl-tcp"
address = "127.0.0.1:9100"
profile = "escpos-80mm"
native_qr = "yes"

[[printer]]
name = "receipts"
type = "file"
profile = "escpos-80mm"
zpl_compression = "acs"
roles = ["discount-card"]

[[printer]]
name = "inserts"
type = "file"
profile = "broken.toml"
roles = ["insert"]

[[printer]]
name = "slips"
type = "file"
profile = "zpl-900"
roles = ["packing-slip"]

[[printer]]
name = "cards"
type = "file"
profile = "missing.toml"
roles = ["discount-card"]

[[printer]]
name = "other"
type = "file"
language = "pdf"
height_mm = 148
roles = ["shipping-label"]

[shipping]
gs1_company_prefix = "12345"
sscc_serial_prefix = "7x"
template = "nowhere.toml"
)",
                                           "station.toml", dir.path());
  const auto& p = loaded.problems;
  struct Want {
    const char* key;
    const char* file;
    int line;
    const char* words;
  };
  const std::string broken = (dir / "broken.toml").string();
  const Want wants[] = {
      {"printer[0].profile", "station.toml", 5,
       "a zpl-tcp printer speaks ZPL; profile 'escpos-80mm' is escpos"},
      {"printer[0].native_qr", "station.toml", 6, "must be true or false, not a string"},
      {"printer[1].zpl_compression", "station.toml", 12,
       "applies only to zpl profiles, not escpos"},
      {"zpl_compression", broken.c_str(), 2,
       "'lzw' is not one of z64, acs (the profile of printer[2])"},
      {"printer[3].profile", "station.toml", 24, "'zpl-900' is no built-in profile"},
      {"printer[4].profile", "station.toml", 30, "cannot read"},
      {"printer[5].language", "station.toml", 36, "shipping labels are ZPL"},
      {"shipping.gs1_company_prefix", "station.toml", 41, "7 to 10 digits"},
      {"shipping.sscc_serial_prefix", "station.toml", 42, "must be digits"},
      {"shipping.template", "station.toml", 43, "cannot read"},
  };
  for (const auto& w : wants) {
    const auto* found = find(p, w.key);
    ASSERT_NE(found, nullptr) << "no problem reported for " << w.key << "\n" << all(p);
    EXPECT_EQ(found->file, w.file) << found->to_string();
    EXPECT_EQ(found->line, w.line) << found->to_string();
    EXPECT_NE(found->message.find(w.words), std::string::npos) << found->to_string();
  }
  EXPECT_EQ(p.size(), std::size(wants)) << all(p);
  EXPECT_EQ(find(p, "zpl_compression")->to_string(),
            broken +
                ":2:19: zpl_compression: 'lzw' is not one of z64, acs (the profile of "
                "printer[2])");
}

TEST_F(ConfigTest, AnSsccNeedsRoomForItsCounter) {
  const std::string printer = "[[printer]]\nname = \"p\"\ntype = \"file\"\n";
  auto load = [&](const std::string& shipping) {
    return ps::load_config_text(printer + "[shipping]\n" + shipping, "s.toml", dir.path());
  };
  EXPECT_TRUE(load("gs1_company_prefix = \"0614141\"\nsscc_serial_prefix = \"12345\"\n").ok());
  const auto tight = load("gs1_company_prefix = \"0614141234\"\nsscc_serial_prefix = \"123\"\n");
  ASSERT_EQ(tight.problems.size(), 1u) << all(tight.problems);
  EXPECT_NE(tight.problems[0].message.find("a 10-digit company prefix leaves 6 digits"),
            std::string::npos)
      << all(tight.problems);
  const auto unused = load("sscc_extension = 3\n");
  ASSERT_EQ(unused.problems.size(), 1u) << all(unused.problems);
  EXPECT_EQ(unused.problems[0].key, "shipping.sscc_extension");
  EXPECT_NE(unused.problems[0].message.find("only used with shipping.gs1_company_prefix"),
            std::string::npos);
  EXPECT_FALSE(load("gs1_company_prefix = \"0614141\"\nsscc_extension = 10\n").ok());
}

TEST_F(ConfigTest, UiLocaleIsOneTheUiSpeaks) {
  const std::string printer = "[[printer]]\nname = \"p\"\ntype = \"file\"\n";
  const auto ja = ps::load_config_text("[ui]\nlocale = \"ja\"\n" + printer, "ja.toml", dir.path());
  ASSERT_TRUE(ja.ok()) << all(ja.problems);
  EXPECT_EQ(ja.config.ui.locale, "ja");

  const auto fr = ps::load_config_text(
      "[ui]\nlisten = \"127.0.0.1:8080\"\nlocale = \"fr\"\n" + printer, "fr.toml", dir.path());
  ASSERT_EQ(fr.problems.size(), 1u) << all(fr.problems);
  EXPECT_EQ(fr.problems[0].key, "ui.locale");
  EXPECT_EQ(fr.problems[0].line, 3);
  EXPECT_NE(fr.problems[0].message.find("'fr' is not one of en, ja"), std::string::npos)
      << fr.problems[0].to_string();

  const auto wrong_type =
      ps::load_config_text("[ui]\nlocale = 5\n" + printer, "t.toml", dir.path());
  EXPECT_NE(find(wrong_type.problems, "ui.locale"), nullptr) << all(wrong_type.problems);
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

// --- scanners ----------------------------------------------------------------------------------

TEST_F(ConfigTest, EveryScannerTypeWithItsKeys) {
  const auto loaded = ps::load_config_text(R"([[scanner]]
name = "serial-hand"
type = "serial"
device = "/dev/serial/by-id/usb-Honeywell_1950g-if00"
baud = 19200
parity = "even"
data_bits = 7
stop_bits = 2
flow_control = "hardware"
terminator = "crlf"
prefix = "\u0002"
suffix = "\u0003"
max_line_bytes = 512
max_scans_per_second = 20
line_timeout_ms = 800
retry_base_ms = 100
retry_cap_ms = 3000

[[scanner]]
name = "fixed"
type = "tcp-connect"
address = "192.168.10.40:51236"
connect_timeout_ms = 2000
terminator = "CR"

[[scanner]]
name = "wedge"
type = "hid"
device = "/dev/input/by-id/usb-Zebra_DS2208-event-kbd"
layout = "jp"
grab = false
gs_key = "F8"
terminator = "tab"

[[scanner]]
name = "bench"
type = "tcp-listen"
address = "127.0.0.1:7001"

[[printer]]
name = "p"
type = "file"
)",
                                           "scanners.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  ASSERT_EQ(loaded.config.scanners.size(), 4u);
  const auto serial = loaded.config.scanners[0].to_options();
  EXPECT_EQ(serial.type, "serial");
  EXPECT_EQ(serial.device, "/dev/serial/by-id/usb-Honeywell_1950g-if00");
  EXPECT_EQ(serial.baud, 19200u);
  EXPECT_EQ(serial.parity, packbench::drivers::Parity::even);
  EXPECT_EQ(serial.data_bits, 7u);
  EXPECT_EQ(serial.stop_bits, 2u);
  EXPECT_EQ(serial.flow_control, packbench::drivers::FlowControl::hardware);
  EXPECT_EQ(serial.terminator, packbench::drivers::Terminator::crlf);
  EXPECT_EQ(serial.prefix, "\x02");
  EXPECT_EQ(serial.suffix, "\x03");
  EXPECT_EQ(serial.max_line_bytes, 512u);
  EXPECT_EQ(serial.max_scans_per_second, 20u);
  EXPECT_EQ(serial.line_timeout, std::chrono::milliseconds(800));
  EXPECT_EQ(serial.retry_base, std::chrono::milliseconds(100));
  EXPECT_EQ(serial.retry_cap, std::chrono::milliseconds(3000));
  const auto fixed = loaded.config.scanners[1].to_options();
  EXPECT_EQ(fixed.address, "192.168.10.40:51236");
  EXPECT_EQ(fixed.connect_timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(fixed.terminator, packbench::drivers::Terminator::cr);  // words ignore case
  const auto wedge = loaded.config.scanners[2].to_options();
  EXPECT_EQ(wedge.layout, packbench::drivers::KeyboardLayout::jp);
  EXPECT_FALSE(wedge.grab);
  EXPECT_EQ(wedge.gs_key, "F8");
  EXPECT_EQ(wedge.terminator, packbench::drivers::Terminator::tab);
}

TEST_F(ConfigTest, ScannerDefaultsAreTheDriversDefaults) {
  // Two places hold the defaults (the config struct keeps words, the driver enums); this keeps
  // them from drifting apart.
  const auto o = ps::ScannerConfig{}.to_options();
  const packbench::drivers::ScannerOptions d;
  EXPECT_EQ(o.terminator, d.terminator);
  EXPECT_EQ(o.prefix, d.prefix);
  EXPECT_EQ(o.suffix, d.suffix);
  EXPECT_EQ(o.max_line_bytes, d.max_line_bytes);
  EXPECT_EQ(o.max_scans_per_second, d.max_scans_per_second);
  EXPECT_EQ(o.line_timeout, d.line_timeout);
  EXPECT_EQ(o.baud, d.baud);
  EXPECT_EQ(o.parity, d.parity);
  EXPECT_EQ(o.data_bits, d.data_bits);
  EXPECT_EQ(o.stop_bits, d.stop_bits);
  EXPECT_EQ(o.flow_control, d.flow_control);
  EXPECT_EQ(o.retry_base, d.retry_base);
  EXPECT_EQ(o.retry_cap, d.retry_cap);
  EXPECT_EQ(o.connect_timeout, d.connect_timeout);
  EXPECT_EQ(o.layout, d.layout);
  EXPECT_EQ(o.grab, d.grab);
  EXPECT_EQ(o.gs_key, d.gs_key);
  EXPECT_EQ(d.max_line_bytes, 4096u);
  EXPECT_EQ(d.max_scans_per_second, 50u);
}

TEST_F(ConfigTest, PrinterStatusKeysAreReadAndChecked) {
  // Defaults: ~HS every 5 s, 3 s for its answer.
  auto loaded = ps::load_config_text(
      "[[printer]]\nname = \"p\"\ntype = \"zpl-tcp\"\naddress = \"127.0.0.1:9100\"\n", "mini.toml",
      dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  auto o = loaded.config.printers.at(0).to_options();
  EXPECT_EQ(o.status_interval, std::chrono::seconds(5));
  EXPECT_EQ(o.status_timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(o.address, "127.0.0.1:9100");

  loaded = ps::load_config_text(
      "[[printer]]\nname = \"p\"\ntype = \"zpl-tcp\"\naddress = \"127.0.0.1:9100\"\n"
      "status_interval_s = 0\nstatus_timeout_ms = 500\n",
      "off.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  o = loaded.config.printers.at(0).to_options();
  EXPECT_EQ(o.status_interval.count(), 0);  // never asks
  EXPECT_EQ(o.status_timeout, std::chrono::milliseconds(500));

  const char* text = R"([[printer]]
name = "label"
type = "zpl-tcp"
address = "127.0.0.1:9100"
status_interval_s = -1
status_timeout_ms = 5

[[printer]]
name = "inserts"
type = "file"
status_interval_s = 5
roles = ["insert"]
)";
  loaded = ps::load_config_text(text, "station.toml", dir.path());
  EXPECT_FALSE(loaded.ok());
  const auto* interval = find(loaded.problems, "printer[0].status_interval_s");
  ASSERT_NE(interval, nullptr) << all(loaded.problems);
  EXPECT_EQ(interval->line, 5);
  EXPECT_NE(interval->to_string().find("station.toml:5:"), std::string::npos);
  EXPECT_NE(interval->message.find("from 0 to 3600"), std::string::npos) << interval->message;
  const auto* timeout = find(loaded.problems, "printer[0].status_timeout_ms");
  ASSERT_NE(timeout, nullptr) << all(loaded.problems);
  EXPECT_EQ(timeout->line, 6);
  const auto* file = find(loaded.problems, "printer[1].status_interval_s");
  ASSERT_NE(file, nullptr) << all(loaded.problems);
  EXPECT_EQ(file->line, 11);
  EXPECT_EQ(file->message, "applies only to zpl-tcp printers, not file");
}

TEST_F(ConfigTest, ScannerProblemsAreNamedWithLineAndKey) {
  const char* text = R"([[scanner]]
name = "s1"
type = "serial"
parity = "mark"
baud = 12345
data_bits = 9
flow_control = "xon"
terminator = "semicolon"
retry_base_ms = 5000
retry_cap_ms = 1000
bauds = 9600

[[scanner]]
name = "k1"
type = "hid"
device = "/dev/input/event3"
terminator = "lf"
layout = "de"
grab = "yes"
gs_key = "F99"
baud = 9600

[[scanner]]
name = "t1"
type = "tcp-listen"
address = "127.0.0.1:7001"
prefix = "A\r"
suffix = "0123456789012345678901234567890123456789"
layout = "us"

[[printer]]
name = "p"
type = "file"
)";
  const auto loaded = ps::load_config_text(text, "sc.toml", dir.path());
  const auto& p = loaded.problems;
  struct Want {
    const char* key;
    int line;
    const char* words;
  };
  const Want wants[] = {
      {"scanner[0].device", 1, "needs a device path"},
      {"scanner[0].parity", 4, "'mark' is not one of none, even, odd"},
      {"scanner[0].baud", 5, "12345 is not one of 1200, 2400"},
      {"scanner[0].data_bits", 6, "must be from 7 to 8"},
      {"scanner[0].flow_control", 7, "not one of none, software, hardware"},
      {"scanner[0].terminator", 8, "not one of auto, cr (or enter), lf, crlf, tab"},
      {"scanner[0].retry_cap_ms", 10, "must not be below retry_base_ms"},
      {"scanner[0].bauds", 11, "unknown key"},
      {"scanner[1].terminator", 17, "ends its scans with Enter or Tab"},
      {"scanner[1].layout", 18, "'de' is not one of us, jp"},
      {"scanner[1].grab", 19, "must be true or false"},
      {"scanner[1].gs_key", 20, "unknown key 'F99'"},
      {"scanner[1].baud", 21, "applies only to serial scanners, not hid"},
      {"scanner[2].prefix", 27, "must not contain CR, LF or TAB"},
      {"scanner[2].suffix", 28, "at most 32 bytes"},
      {"scanner[2].layout", 29, "applies only to hid scanners, not tcp-listen"},
  };
  for (const auto& w : wants) {
    const auto* found = find(p, w.key);
    ASSERT_NE(found, nullptr) << "no problem reported for " << w.key << "\n" << all(p);
    EXPECT_EQ(found->file, "sc.toml");
    EXPECT_EQ(found->line, w.line) << found->to_string();
    EXPECT_NE(found->message.find(w.words), std::string::npos) << found->to_string();
  }
  EXPECT_EQ(p.size(), std::size(wants)) << all(p);
}

TEST_F(ConfigTest, ScannerTypesAreListedWhenUnknown) {
  const auto loaded = ps::load_config_text(
      "[[scanner]]\nname = \"x\"\ntype = \"bluetooth\"\n[[printer]]\nname = \"p\"\ntype = "
      "\"file\"\n",
      "u.toml", dir.path());
  const auto* p = find(loaded.problems, "scanner[0].type");
  ASSERT_NE(p, nullptr) << all(loaded.problems);
  EXPECT_NE(p->message.find("(known: tcp-listen, tcp-connect, serial, hid)"), std::string::npos)
      << p->to_string();
  EXPECT_EQ(p->line, 3);
}

TEST(Config, SyncAndOutboxKeysAreReadAndChecked) {
  pt::TempDir dir;
  pt::write_file(dir / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  pt::write_file(dir / "token", "secret-token\n");
  pt::write_file(dir / "whsec", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
  const std::string good = R"([station]
id = "p"
[[printer]]
name = "label"
type = "file"
[sync]
url = "https://backoffice.example:8443/events?x=1"
ca_file = "ca.pem"
bearer_token_file = "token"
signing_secret_file = "whsec"
retry_after_max_ms = 60000
[outbox]
max_bytes = 1048576
bulk_ttl_s = 86400
)";
  auto loaded = ps::load_config_text(good, "good.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  const auto& c = loaded.config;
  EXPECT_EQ(c.sync.ca_file, dir / "ca.pem");
  EXPECT_EQ(c.sync.bearer_token_file, dir / "token");
  EXPECT_EQ(c.sync.signing_secret_file, dir / "whsec");
  EXPECT_EQ(c.sync.retry_after_max, std::chrono::milliseconds(60000));
  EXPECT_EQ(c.outbox.max_bytes, 1048576);
  EXPECT_EQ(c.outbox.bulk_max_bytes, 524288);  // half, unless set
  EXPECT_EQ(c.outbox.bulk_ttl, std::chrono::milliseconds(86400000));
  EXPECT_FALSE(c.outbox.business_ttl);

  pt::write_file(dir / "bad-secret", "whsec_***\n");
  pt::write_file(dir / "empty-token", "\n");
  const std::string bad = R"([station]
id = "p"
[[printer]]
name = "label"
type = "file"
[sync]
url = "https://user:pw@backoffice/events"
ca_file = "missing.pem"
signing_secret_file = "bad-secret"
bearer_token_file = "empty-token"
[outbox]
max_bytes = 4096
bulk_max_bytes = 8192
bulk_ttl_s = 0
colour = "red"
)";
  loaded = ps::load_config_text(bad, "bad.toml", dir.path());
  const auto& p = loaded.problems;
  struct Want {
    const char* key;
    int line;
    const char* words;
  };
  const Want wants[] = {
      {"sync.url", 7, "must not carry a user or password"},
      {"sync.ca_file", 8, "no such file"},
      {"sync.signing_secret_file", 9, "base64"},
      {"sync.bearer_token_file", 10, "is empty"},
      {"outbox.bulk_max_bytes", 13, "must not be above outbox.max_bytes"},
      {"outbox.bulk_ttl_s", 14, "must be from 1"},
      {"outbox.colour", 15, "unknown key"},
  };
  for (const auto& w : wants) {
    const auto* found = find(p, w.key);
    ASSERT_NE(found, nullptr) << "no problem reported for " << w.key << "\n" << all(p);
    EXPECT_EQ(found->line, w.line) << found->to_string();
    EXPECT_NE(found->message.find(w.words), std::string::npos) << found->to_string();
  }
}

TEST(Config, MqttTransportKeysAreReadAndChecked) {
  pt::TempDir dir;
  pt::write_file(dir / "ca.pem", "-----BEGIN CERTIFICATE-----\n");
  pt::write_file(dir / "mqtt-password", "s3cret\n");
  const std::string good = R"([station]
id = "pack-01"
site = "tokyo"
[[printer]]
name = "label"
type = "file"
[sync]
url = "mqtts://broker.example:8883"
ca_file = "ca.pem"
timeout_ms = 5000
[sync.mqtt]
client_id = "packbench-tokyo-pack-01"
username = "pack-01"
password_file = "mqtt-password"
keep_alive_s = 20
max_in_flight = 10
pin_client_threads = false
)";
  auto loaded = ps::load_config_text(good, "good.toml", dir.path());
  ASSERT_TRUE(loaded.ok()) << all(loaded.problems);
  const auto& c = loaded.config;
  EXPECT_EQ(c.sync.transport_kind(), "mqtt");  // from the url's scheme
  EXPECT_EQ(c.sync.mqtt.client_id, "packbench-tokyo-pack-01");
  EXPECT_EQ(c.sync.mqtt.username, "pack-01");
  EXPECT_EQ(c.sync.mqtt.password_file, dir / "mqtt-password");
  EXPECT_EQ(c.sync.mqtt.keep_alive, std::chrono::seconds(20));
  EXPECT_EQ(c.sync.mqtt.max_in_flight, 10);
  EXPECT_FALSE(c.sync.mqtt.pin_client_threads);
  EXPECT_TRUE(ps::MqttConfig{}.pin_client_threads);  // on unless IT turns it off

  // The default stays the webhook, and an explicit transport must match the url.
  EXPECT_EQ(ps::SyncConfig{}.transport_kind(), "webhook");
  auto explicit_mqtt = ps::load_config_text(
      "[station]\nid = \"p\"\n[[printer]]\nname = \"l\"\ntype = \"file\"\n"
      "[sync]\ntransport = \"mqtt\"\nurl = \"mqtt://127.0.0.1:1883\"\n",
      "x.toml", dir.path());
  ASSERT_TRUE(explicit_mqtt.ok()) << all(explicit_mqtt.problems);
  EXPECT_EQ(explicit_mqtt.config.sync.transport_kind(), "mqtt");

  pt::write_file(dir / "empty", "\n");
  const std::string bad = R"([station]
id = "p"
[[printer]]
name = "label"
type = "file"
[sync]
transport = "mqtt"
url = "https://backoffice/events"
bearer_token_file = "empty"
[sync.mqtt]
client_id = "has space"
password_file = "empty"
keep_alive_s = 70000
max_in_flight = 0
qos = 2
pin_client_threads = "yes"
)";
  loaded = ps::load_config_text(bad, "bad.toml", dir.path());
  const auto& p = loaded.problems;
  struct Want {
    const char* key;
    int line;
    const char* words;
  };
  const Want wants[] = {
      {"sync.url", 8, "the mqtt transport takes an mqtt:// or mqtts:// url"},
      {"sync.bearer_token_file", 9, "applies only to the webhook transport"},
      {"sync.mqtt.client_id", 11, "must be 1 to 128 letters"},
      {"sync.mqtt.password_file", 12, "is empty"},
      {"sync.mqtt.keep_alive_s", 13, "must be from 0 to 65535"},
      {"sync.mqtt.max_in_flight", 14, "must be from 1 to 65535"},
      {"sync.mqtt.qos", 15, "unknown key"},
      {"sync.mqtt.pin_client_threads", 16, "must be true or false"},
  };
  for (const auto& w : wants) {
    const auto* found = find(p, w.key);
    ASSERT_NE(found, nullptr) << "no problem reported for " << w.key << "\n" << all(p);
    EXPECT_EQ(found->line, w.line) << found->to_string();
    EXPECT_NE(found->message.find(w.words), std::string::npos) << found->to_string();
  }

  const std::string wrong = R"([station]
id = "p"
[[printer]]
name = "label"
type = "file"
[sync]
url = "mqtt://broker/some/topic"
transport = "carrier-pigeon"
[outbox]
max_bytes = 4096
)";
  loaded = ps::load_config_text(wrong, "wrong.toml", dir.path());
  EXPECT_NE(find(loaded.problems, "sync.transport"), nullptr) << all(loaded.problems);
  // A [sync.mqtt] table beside a webhook url is a mistake worth saying.
  loaded = ps::load_config_text(
      "[station]\nid = \"p\"\n[[printer]]\nname = \"l\"\ntype = \"file\"\n"
      "[sync]\nurl = \"https://b/e\"\n[sync.mqtt]\nusername = \"u\"\n",
      "mixed.toml", dir.path());
  const auto* mixed = find(loaded.problems, "sync.mqtt");
  ASSERT_NE(mixed, nullptr) << all(loaded.problems);
  EXPECT_EQ(mixed->line, 8);
  EXPECT_NE(mixed->message.find("only to the mqtt transport"), std::string::npos);
  // The broker's url names the broker only.
  loaded = ps::load_config_text(
      "[station]\nid = \"p\"\n[[printer]]\nname = \"l\"\ntype = \"file\"\n"
      "[sync]\nurl = \"mqtt://broker/some/topic\"\n",
      "path.toml", dir.path());
  const auto* path = find(loaded.problems, "sync.url");
  ASSERT_NE(path, nullptr) << all(loaded.problems);
  EXPECT_NE(path->message.find("names the broker only"), std::string::npos) << path->message;
}
