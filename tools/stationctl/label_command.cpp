// stationctl label: render a label template for an order, as a printer or a person gets it.
#include "label_command.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "packbench/labels/template.hpp"
#include "station/orders/order.hpp"
#include "station/print/label_data.hpp"

namespace packbench::tools {
namespace {

namespace labels = packbench::labels;
using station::Order;

constexpr const char* kLabelUsage = R"(usage:
  stationctl label render --template NAME|FILE --order ORDER.json --profile NAME|FILE
                          --format zpl|escpos|png|pdf --out FILE|-
                          [--locale LOCALE] [--order-id ID] [--var NAME=VALUE]...
                          [--station ID] [--site SITE] [--box N/M] [--sscc DIGITS]
                          [--packed-at ISO8601]
  stationctl label list
  stationctl label show NAME
)";

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes next to the target and renames, so a reader never sees half a label.
bool write_file(const std::string& path, const std::string& bytes, std::string& error) {
  if (path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return static_cast<bool>(std::cout);
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      error = fmt::format("cannot write {}", tmp);
      std::filesystem::remove(tmp);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = fmt::format("cannot write {}: {}", path, ec.message());
    std::filesystem::remove(tmp);
    return false;
  }
  return true;
}

// FNV-1a: a stable number from the order id for a demonstration SSCC.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h = (h ^ c) * 1099511628211ull;
  }
  return h;
}

// The order: the file's only order, or the one named by --order-id. A file may hold one order
// object, {"orders": [...]}, or a bare array.
std::optional<Order> load_order(const std::string& path, const std::string& order_id,
                                std::string& error) {
  const auto text = read_file(path);
  if (!text) {
    error = fmt::format("cannot read {}", path);
    return std::nullopt;
  }
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(*text, ec);
  if (ec) {
    error = fmt::format("{}: not JSON: {}", path, ec.message());
    return std::nullopt;
  }
  std::vector<Order> orders;
  if (doc.is_object() && !doc.get_object().contains("orders")) {
    auto order = station::order_from_json(doc.get_object());
    if (!order) {
      error = fmt::format("{}: {}", path, order.error().message);
      return std::nullopt;
    }
    orders.push_back(std::move(*order));
  } else {
    auto parsed = station::parse_orders_json(*text);
    for (const auto& p : parsed.problems) {
      std::cerr << path << ": " << p.to_string() << "\n";
    }
    orders = std::move(parsed.orders);
  }
  if (!order_id.empty()) {
    for (auto& o : orders) {
      if (o.id == order_id) {
        return std::move(o);
      }
    }
    error = fmt::format("{}: no order {}", path, order_id);
    return std::nullopt;
  }
  if (orders.size() != 1) {
    error = fmt::format("{} holds {} orders: name one with --order-id", path, orders.size());
    return std::nullopt;
  }
  return std::move(orders.front());
}

// --profile: a built-in profile's name, or a profile file (TOML, docs/labels.md). Problems are
// printed, each with its file, line and key; `status` is the exit status then (2: no such
// profile, 1: a file that cannot be read or has problems).
std::optional<labels::PrinterProfile> load_profile(const std::string& name, int& status) {
  status = 2;
  if (auto builtin = labels::builtin_profile(name)) {
    return builtin;
  }
  std::error_code ec;
  const bool is_file = name.find('/') != std::string::npos || name.ends_with(".toml") ||
                       std::filesystem::is_regular_file(name, ec);
  if (!is_file) {
    std::cerr << "stationctl label render: no profile " << name << " (built-in: ";
    for (const auto& n : labels::builtin_profile_names()) {
      std::cerr << n << (n == labels::builtin_profile_names().back() ? "" : ", ");
    }
    std::cerr << "; or a profile file, NAME.toml)\n";
    return std::nullopt;
  }
  const auto text = read_file(name);
  if (!text) {
    std::cerr << "stationctl label render: cannot read the profile " << name << "\n";
    status = 1;
    return std::nullopt;
  }
  labels::ParsedProfile parsed = labels::parse_profile(*text, name);
  for (const auto& p : parsed.problems) {
    std::cerr << p.to_string() << "\n";
  }
  status = 1;
  return parsed.value;
}

int render(const std::vector<std::string>& args) {
  std::string template_name, order_path, order_id, profile_name, format_name, out_path, locale;
  station::LabelContext context;
  context.station_id = "station";
  std::vector<std::pair<std::string, std::string>> vars;
  bool sscc_given = false;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](std::string& dst) {
      if (i + 1 >= args.size()) {
        std::cerr << "stationctl label render: " << a << " needs a value\n";
        return false;
      }
      dst = args[++i];
      return true;
    };
    std::string v;
    bool ok = true;
    if (a == "--template") {
      ok = next(template_name);
    } else if (a == "--order") {
      ok = next(order_path);
    } else if (a == "--order-id") {
      ok = next(order_id);
    } else if (a == "--profile") {
      ok = next(profile_name);
    } else if (a == "--format") {
      ok = next(format_name);
    } else if (a == "--out") {
      ok = next(out_path);
    } else if (a == "--locale") {
      ok = next(locale);
    } else if (a == "--station") {
      ok = next(context.station_id);
    } else if (a == "--site") {
      ok = next(context.site);
    } else if (a == "--packed-at") {
      ok = next(context.packed_at);
    } else if (a == "--sscc") {
      ok = next(context.sscc);
      sscc_given = true;
    } else if (a == "--box") {
      if ((ok = next(v))) {
        int n = 0, m = 0;
        if (std::sscanf(v.c_str(), "%d/%d", &n, &m) != 2 || n < 1 || m < n || m > 999) {
          std::cerr << "stationctl label render: --box is N/M, as 1/2\n";
          return 2;
        }
        context.box_number = n;
        context.box_count = m;
      }
    } else if (a == "--var") {
      if ((ok = next(v))) {
        const auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) {
          std::cerr << "stationctl label render: --var is NAME=VALUE\n";
          return 2;
        }
        vars.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      }
    } else {
      std::cerr << "stationctl label render: unknown option " << a << "\n\n" << kLabelUsage;
      return 2;
    }
    if (!ok) {
      return 2;
    }
  }
  if (template_name.empty() || order_path.empty() || profile_name.empty() || out_path.empty()) {
    std::cerr << "stationctl label render: --template, --order, --profile and --out are "
                 "required\n\n"
              << kLabelUsage;
    return 2;
  }
  int status = 0;
  const auto profile = load_profile(profile_name, status);
  if (!profile) {
    return status;
  }
  labels::OutputFormat format = profile->language;
  if (!format_name.empty()) {
    const auto f = labels::parse_output_format(format_name);
    if (!f) {
      std::cerr << "stationctl label render: --format is zpl, escpos, png or pdf\n";
      return 2;
    }
    format = *f;
  }
  std::string error;
  const auto order = load_order(order_path, order_id, error);
  if (!order) {
    std::cerr << "stationctl label render: " << error << "\n";
    return 1;
  }
  if (context.packed_at.empty()) {
    context.packed_at = fmt::format(
        "{:%Y-%m-%dT%H:%M:%SZ}",
        fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  }

  labels::LabelOutput output;
  if (template_name == "carrier") {
    auto carrier = station::carrier_label(*order);
    if (!carrier) {
      std::cerr << "stationctl label render: order " << order->id << ": " << carrier.error().message
                << "\n";
      return 1;
    }
    if (!*carrier) {
      std::cerr << "stationctl label render: order " << order->id << " has no carrier_label\n";
      return 1;
    }
    output = labels::render_carrier_label((*carrier)->bytes, (*carrier)->format, *profile, format);
  } else {
    const bool is_file =
        template_name.find('/') != std::string::npos || template_name.ends_with(".toml");
    labels::ParsedTemplate tmpl = is_file ? labels::load_template_file(template_name)
                                          : labels::builtin_template(template_name);
    if (!tmpl) {
      for (const auto& p : tmpl.problems) {
        std::cerr << p.to_string() << "\n";
      }
      return 1;
    }
    if (!sscc_given && context.sscc.empty() && !order->doc.contains("sscc")) {
      // A preview needs some SSCC; a station prints its own from its GS1 company prefix.
      context.sscc = station::make_sscc(0, "9520000", fnv1a(order->id) % 1'000'000'000).value();
    }
    labels::LabelData data = station::label_data(*order, context);
    for (auto& [k, v] : vars) {
      data.values[k] = v;
    }
    if (!locale.empty()) {
      data.locale = locale;
    }
    const labels::RenderedLabel rendered = labels::render_label(*tmpl.value, data, *profile);
    if (!rendered) {
      std::cerr << "stationctl label render: " << rendered.error << "\n";
      return 1;
    }
    output = labels::encode_label(rendered, *profile, format);
  }
  if (!output) {
    std::cerr << "stationctl label render: " << output.error << "\n";
    return 1;
  }
  if (!write_file(out_path, output.bytes, error)) {
    std::cerr << "stationctl label render: " << error << "\n";
    return 1;
  }
  if (out_path != "-") {
    std::cerr << fmt::format("{}: {} bytes ({} for {})\n", out_path, output.bytes.size(),
                             labels::to_string(format), profile->name);
  }
  return 0;
}

}  // namespace

int label_command(const std::vector<std::string>& args) {
  if (args.size() >= 2 && args[1] == "render") {
    return render(args);
  }
  if (args.size() == 2 && args[1] == "list") {
    std::cout << "templates:";
    for (const auto& n : labels::builtin_template_names()) {
      const auto t = labels::builtin_template(n);
      std::cout << "\n  " << n;
      if (t) {
        std::cout << fmt::format(" ({} x {} mm; {})", t.value->width_mm(), t.value->height_mm(),
                                 fmt::join(t.value->locales(), ", "));
      }
    }
    std::cout << "\n  carrier (the order's own carrier_label, printed as given)\nprofiles:";
    for (const auto& n : labels::builtin_profile_names()) {
      const auto p = *labels::builtin_profile(n);
      std::cout << fmt::format("\n  {} ({}, {} dpi, {:.4g} mm wide{})", n,
                               labels::to_string(p.language), p.dpi, p.width_mm,
                               p.height_mm > 0 ? fmt::format(", {:.4g} mm long", p.height_mm) : "");
    }
    std::cout << "\n";
    return 0;
  }
  if (args.size() == 3 && args[1] == "show") {
    const auto source = labels::builtin_template_source(args[2]);
    if (!source) {
      std::cerr << "stationctl label show: no built-in template " << args[2] << "\n";
      return 1;
    }
    std::cout << *source;
    return 0;
  }
  std::cerr << kLabelUsage;
  return 2;
}

}  // namespace packbench::tools
