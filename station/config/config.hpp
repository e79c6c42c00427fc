// The station's configuration: one TOML file read into one typed struct with defaults.
//
// Loading never stops at the first problem: every problem in the file is collected, each with
// the file, line and key it concerns, so that IT fixes a file in one pass.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "packbench/drivers/printer.hpp"
#include "packbench/drivers/scanner.hpp"
#include "packbench/labels/profile.hpp"
#include "station/discount/campaign.hpp"
#include "station/pack/pack_rules.hpp"

namespace packbench::station {

struct ConfigProblem {
  std::string file;
  int line = 0;  // 0 when the problem is about something missing from the file
  int column = 0;
  std::string key;  // "printer[1].address"
  std::string message;

  std::string to_string() const;  // "station.toml:12:11: printer[1].address: ..."
};

// One [[scanner]]. Option words (terminator, parity, ...) stay words here so that validate()
// can name the bad one; to_options() turns them into the driver's types. The defaults are the
// driver's (drivers::ScannerOptions); docs/scanners.md lists every key.
struct ScannerConfig {
  std::string name;
  std::string type;
  std::string address;           // tcp-listen, tcp-connect
  std::filesystem::path device;  // serial, hid

  // Framing, every type.
  std::string terminator = "auto";
  std::string prefix;
  std::string suffix;
  std::size_t max_line_bytes = 4096;
  unsigned max_scans_per_second = 50;
  std::chrono::milliseconds line_timeout{2000};

  // serial
  unsigned baud = 9600;
  std::string parity = "none";
  unsigned data_bits = 8;
  unsigned stop_bits = 1;
  std::string flow_control = "none";

  // serial, tcp-connect, hid
  std::chrono::milliseconds retry_base{250};
  std::chrono::milliseconds retry_cap{5000};

  // tcp-connect
  std::chrono::milliseconds connect_timeout{5000};

  // hid
  std::string layout = "us";
  bool grab = true;
  std::string gs_key;

  // What the driver needs to open this scanner.
  drivers::ScannerOptions to_options() const;
};

struct PrinterConfig {
  std::string name;
  std::string type;
  std::string address;              // zpl-tcp
  std::filesystem::path directory;  // file; default <state_dir>/prints
  // What the printer is and may do (docs/labels.md): `profile` as written — a built-in profile or
  // a profile file (.toml) — with the [[printer]]'s own profile keys (dpi, width_mm, language,
  // zpl_compression, native_text, native_qr, ...) over it. Without either, zpl-203.
  std::string profile_name;
  std::filesystem::path profile_file;  // set when profile_name is a file (resolved)
  labels::ProfileSettings profile_keys;
  // The profile and the keys together, as the printer gets its labels; set when loaded.
  labels::PrinterProfile profile = *labels::builtin_profile("zpl-203");
  // What the printer is sent: empty for the profile's language; a file printer may write "png"
  // or "pdf" instead (a picture of each insert, card and slip a person can open; shipping
  // labels stay ZPL).
  std::string format;
  std::vector<std::string> roles{"shipping-label"};
  std::chrono::milliseconds timeout{10000};
  // zpl-tcp: ~HS every status_interval while idle and before each job (0: never, for printers
  // that do not speak ~HS); an answer later than status_timeout is no answer.
  std::chrono::milliseconds status_interval{5000};
  std::chrono::milliseconds status_timeout{3000};

  // What the driver needs to open this printer.
  drivers::PrinterOptions to_options() const;
  // `format`, or the profile's language when it is empty.
  std::string sent_format() const;
};

// [shipping]: the station's own shipping label, and where its SSCCs come from (docs/labels.md).
struct ShippingConfig {
  std::string template_name = "shipping-label";  // a built-in template, or a template file
  std::filesystem::path template_file;           // set when template_name is a file (resolved)
  // The GS1 company prefix (7 to 10 digits) the station's SSCCs are made under. Empty: the
  // station makes none, and a parcel carries the order's own "sscc" (first box only) or none.
  std::string gs1_company_prefix;
  int sscc_extension = 0;          // the SSCC's extension digit, 0-9
  std::string sscc_serial_prefix;  // digits every serial reference of this station starts with
};

// [sync.mqtt]: the MQTT transport's own keys (docs/sync.md).
struct MqttConfig {
  std::string client_id;                // empty: packbench-{site}-{station}
  std::string username;                 // empty: none
  std::filesystem::path password_file;  // the password is its first line
  std::chrono::seconds keep_alive{30};  // 0: no keep-alive
  int max_in_flight = 20;               // PUBLISH packets sent and not yet acknowledged
  // paho's send and receive threads kept on one CPU, the one the station's thread is on when
  // it connects, and the station's thread with them while it publishes (docs/sync.md).
  bool pin_client_threads = true;
};

// [sync]: where the outbox goes and how. docs/sync.md has every key.
struct SyncConfig {
  // "webhook" or "mqtt"; empty: taken from the url's scheme (see transport_kind()).
  std::string transport;
  std::string url;  // http://, https://, mqtt:// or mqtts://; empty: events stay in the outbox
  std::filesystem::path ca_file;  // PEM certificates to verify the server; empty: the system's
  std::filesystem::path bearer_token_file;    // Authorization: Bearer <the file's first line>
  std::filesystem::path signing_secret_file;  // Standard Webhooks secret, whsec_<base64>
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_cap{300000};
  std::chrono::milliseconds retry_after_max{3600000};  // a longer Retry-After is cut to this
  int batch_max_events = 100;
  int batch_max_bytes = 1 << 20;
  MqttConfig mqtt;

  // The transport that carries the events: `transport` when set, else "mqtt" for an mqtt:// or
  // mqtts:// url and "webhook" for anything else.
  std::string transport_kind() const;
};

// [orders]: where the station's orders come from — a file loaded at start, and the back
// office's order feed, polled with a cursor (docs/sync.md, "Order feed", has every key and the
// protocol). The feed has its own TLS and token keys: nothing is taken from [sync].
struct OrdersConfig {
  std::filesystem::path file;               // optional: orders loaded (added or updated) at start
  std::string feed_url;                     // http:// or https://; empty: no feed
  std::filesystem::path ca_file;            // PEM certificates to verify the feed's server
  std::filesystem::path bearer_token_file;  // Authorization: Bearer <the file's first line>
  std::chrono::milliseconds poll_interval{30000};
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds retry_base{1000};
  std::chrono::milliseconds retry_cap{300000};           // also the most a Retry-After is waited
  int page_limit = 100;                                  // asked of the back office per page
  std::int64_t page_max_bytes = std::int64_t{16} << 20;  // a larger page is refused
};

// [outbox]: how much it may hold, and for how long. A lane without a TTL keeps its events
// until they are delivered, however long that takes.
struct OutboxConfig {
  std::int64_t max_bytes = std::int64_t{256} << 20;       // every lane together
  std::int64_t bulk_max_bytes = std::int64_t{128} << 20;  // the bulk lane's share of it
  std::optional<std::chrono::milliseconds> business_ttl;
  std::optional<std::chrono::milliseconds> bulk_ttl;
};

// [inserts]: the personal thank-you printed with every order. docs/discounts.md has every key.
struct InsertTip {
  std::vector<std::string> skus;            // some line has one of these ("TEA-*": a prefix)
  std::vector<std::string> categories;      // some line's "category" is one of these (any case)
  std::map<std::string, std::string> text;  // locale -> the tip's words
  std::string url;                          // optional: a QR to the product
};

struct InsertsConfig {
  std::string template_name = "thank-you";  // a built-in template, or a template file
  std::filesystem::path template_file;      // set when template_name is a file (resolved)
  std::string shop_name;                    // signs the insert: {shop.name}
  std::string review_url;       // optional: a QR asking for a review; "{order}" is the order id
  std::vector<InsertTip> tips;  // the first that fits the order is printed
};

struct Config {
  struct {
    std::string id;  // default: the host name
    std::string site = "default";
    std::filesystem::path state_dir = "/var/lib/packbench";
  } station;
  struct {
    std::string listen = "127.0.0.1:8080";
    std::string locale = "en";  // the packer UI's language until a packer picks another
  } ui;
  OrdersConfig orders;
  std::vector<ScannerConfig> scanners;
  std::vector<PrinterConfig> printers;
  SyncConfig sync;
  OutboxConfig outbox;
  PackRules pack;
  struct {
    std::string level = "info";
  } log;

  // Where each key was read from, by its path ("printer[1].address"), for validate().
  std::string source_name;
  std::map<std::string, std::pair<int, int>> positions;

  std::filesystem::path database_path() const { return station.state_dir / "station.db"; }

  // Semantic checks over the whole configuration: addresses, names, roles, files.
  std::vector<ConfigProblem> validate() const;
  discount::DiscountConfig discounts;  // [discounts] and [[campaign]] (docs/discounts.md)
  InsertsConfig inserts;
  ShippingConfig shipping;
};

// The languages the packer UI speaks.
inline const std::vector<std::string>& ui_locales() {
  static const std::vector<std::string> locales{"en", "ja"};
  return locales;
}

// Every role the station prints, and the one it needs on every order.
inline const std::vector<std::string>& known_print_roles() {
  static const std::vector<std::string> roles{"shipping-label", "insert", "discount-card",
                                              "packing-slip"};
  return roles;
}

// Checks every back-office client's keys share ([orders] feed_url, [discounts] pool_url):
// what is wrong with `url` (absolute http:// or https://, a host, no user or password, no
// fragment), naming `token_key` as where credentials go; nullopt when it is fine.
std::optional<std::string> back_office_url_problem(const std::string& url,
                                                   const std::string& token_key);
// "no such file: F" or "cannot read F"; nullopt when `file` is a readable file.
std::optional<std::string> readable_file_problem(const std::filesystem::path& file);
// "F is empty" when a secret file's first line is blank; nullopt otherwise (or when unreadable).
std::optional<std::string> token_file_problem(const std::filesystem::path& file);

struct LoadedConfig {
  Config config;
  std::vector<ConfigProblem> problems;  // parse and validation problems together
  bool ok() const { return problems.empty(); }
};

// Reads and validates a configuration. Relative paths in it are taken from `base_dir` (the
// file's own folder for load_config_file). PACKBENCH_STATE_DIR, when set, replaces
// station.state_dir.
LoadedConfig load_config_text(std::string_view text, const std::string& source_name,
                              const std::filesystem::path& base_dir);
LoadedConfig load_config_file(const std::filesystem::path& path);

}  // namespace packbench::station
