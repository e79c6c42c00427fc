#include "packbench/labels/profile.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "toml_names.hpp"

namespace packbench::labels {

std::optional<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "zpl")
    return OutputFormat::zpl;
  if (name == "escpos")
    return OutputFormat::escpos;
  if (name == "png")
    return OutputFormat::png;
  if (name == "pdf")
    return OutputFormat::pdf;
  return std::nullopt;
}

const char* to_string(OutputFormat format) {
  switch (format) {
    case OutputFormat::zpl:
      return "zpl";
    case OutputFormat::escpos:
      return "escpos";
    case OutputFormat::png:
      return "png";
    case OutputFormat::pdf:
      return "pdf";
  }
  return "?";
}

bool is_supported_dpi(int dpi) {
  return dpi == 203 || dpi == 300 || dpi == 600;
}

std::optional<PrinterProfile> builtin_profile(std::string_view name) {
  PrinterProfile p;
  p.name = std::string(name);
  if (name == "zpl-203" || name == "zpl-300" || name == "zpl-600") {
    p.language = OutputFormat::zpl;
    p.dpi = name == "zpl-203" ? 203 : name == "zpl-300" ? 300 : 600;
    p.width_mm = 101.6;
    p.native_text = true;
    return p;
  }
  if (name == "escpos-80mm") {
    p.language = OutputFormat::escpos;
    p.dpi = 203;
    p.width_mm = 576 * 25.4 / 203;  // 576 dots (72 mm): the printable width of 80 mm paper
    p.native_qr = true;
    p.cut = EscposCut::kPartial;
    return p;
  }
  if (name == "pdf-a6") {
    p.language = OutputFormat::pdf;
    p.dpi = 300;
    p.width_mm = 105;
    p.height_mm = 148;
    return p;
  }
  return std::nullopt;
}

std::vector<std::string> builtin_profile_names() {
  return {"zpl-203", "zpl-300", "zpl-600", "escpos-80mm", "pdf-a6"};
}

bool ProfileSettings::empty() const {
  return !name && !language && !dpi && !width_mm && !height_mm && !zpl_compression &&
         !native_text && !native_qr && !cut;
}

const std::vector<std::string_view>& profile_keys() {
  static const std::vector<std::string_view> keys{"name",        "language",  "dpi",
                                                  "width_mm",    "height_mm", "zpl_compression",
                                                  "native_text", "native_qr", "cut"};
  return keys;
}

std::string ProfileProblem::to_string() const {
  std::string out = source;
  if (line > 0) {
    out += fmt::format(":{}:{}", line, column);
  }
  out += ": ";
  if (!key.empty()) {
    out += key + ": ";
  }
  return out + message;
}

namespace {

// The widest media a profile may have: 1 m, as for templates.
constexpr double kMaxMediaMm = 1000;

}  // namespace

ParsedProfile apply_profile_settings(const PrinterProfile& base, const ProfileSettings& s,
                                     std::string_view source) {
  ParsedProfile out;
  PrinterProfile p = base;
  auto problem = [&](std::string key, std::string message) {
    out.problems.push_back({std::string(source), 0, 0, std::move(key), std::move(message)});
  };
  if (s.name) {
    if (s.name->empty() || s.name->size() > 64) {
      problem("name", "must be 1 to 64 characters");
    } else {
      p.name = *s.name;
    }
  }
  if (s.language) {
    const auto f = parse_output_format(*s.language);
    if (!f || *f == OutputFormat::png) {
      problem("language", fmt::format("'{}' is not one of zpl, escpos, pdf", *s.language));
    } else if (*f != p.language) {
      // What only the old language could do does not carry over.
      p.language = *f;
      p.native_text = false;
      p.native_qr = false;
      p.zpl_compression = ZplCompression::kZ64;
      p.cut = EscposCut::kPartial;
    }
  }
  if (s.dpi) {
    if (*s.dpi < 1 || *s.dpi > 10000 || !is_supported_dpi(static_cast<int>(*s.dpi))) {
      problem("dpi", fmt::format("must be 203, 300 or 600, not {}", *s.dpi));
    } else {
      p.dpi = static_cast<int>(*s.dpi);
    }
  }
  if (s.width_mm) {
    if (!std::isfinite(*s.width_mm) || *s.width_mm < 10 || *s.width_mm > kMaxMediaMm) {
      problem("width_mm",
              fmt::format("must be from 10 to {} mm, not {}", kMaxMediaMm, *s.width_mm));
    } else {
      p.width_mm = *s.width_mm;
    }
  }
  if (s.height_mm) {
    if (!std::isfinite(*s.height_mm) || *s.height_mm < 0 || *s.height_mm > kMaxMediaMm ||
        (*s.height_mm > 0 && *s.height_mm < 10)) {
      problem("height_mm",
              fmt::format("must be 0 (the template's length) or from 10 to {} mm, not {}",
                          kMaxMediaMm, *s.height_mm));
    } else {
      p.height_mm = *s.height_mm;
    }
  }
  const char* language = to_string(p.language);
  if (s.zpl_compression) {
    if (*s.zpl_compression == "z64") {
      p.zpl_compression = ZplCompression::kZ64;
    } else if (*s.zpl_compression == "acs") {
      p.zpl_compression = ZplCompression::kAcs;
    } else {
      problem("zpl_compression", fmt::format("'{}' is not one of z64, acs", *s.zpl_compression));
    }
    if (p.language != OutputFormat::zpl) {
      problem("zpl_compression", fmt::format("applies only to zpl profiles, not {}", language));
    }
  }
  if (s.native_text) {
    if (*s.native_text && p.language != OutputFormat::zpl) {
      problem("native_text",
              fmt::format("printer-font text is for zpl profiles; a {} printer gets its text as "
                          "raster",
                          language));
    } else {
      p.native_text = *s.native_text;
    }
  }
  if (s.native_qr) {
    if (*s.native_qr && p.language != OutputFormat::escpos) {
      problem("native_qr",
              p.language == OutputFormat::zpl
                  ? "QR codes go to ZPL printers as graphics (whole-dot modules, checked by "
                    "decoding); native QR (GS ( k) is for escpos profiles"
                  : fmt::format("native QR (GS ( k) is for escpos profiles, not {}", language));
    } else {
      p.native_qr = *s.native_qr;
    }
  }
  if (s.cut) {
    if (*s.cut == "partial") {
      p.cut = EscposCut::kPartial;
    } else if (*s.cut == "full") {
      p.cut = EscposCut::kFull;
    } else if (*s.cut == "none") {
      p.cut = EscposCut::kNone;
    } else {
      problem("cut", fmt::format("'{}' is not one of partial, full, none", *s.cut));
    }
    if (p.language != OutputFormat::escpos) {
      problem("cut", fmt::format("applies only to escpos profiles, not {}", language));
    }
  }
  if (p.language == OutputFormat::pdf && p.height_mm == 0) {
    problem(s.height_mm ? "height_mm" : "language",
            "a pdf profile needs its page's height_mm (A6: 148)");
  }
  if (out.problems.empty()) {
    out.value = std::move(p);
  }
  return out;
}

namespace {}  // namespace

ParsedProfile parse_profile(std::string_view text, std::string_view source_name) {
  ParsedProfile out;
  const std::string source(source_name);
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    out.problems.push_back({source, static_cast<int>(e.source().begin.line),
                            static_cast<int>(e.source().begin.column), "",
                            std::string(e.description())});
    return out;
  }
  std::map<std::string, std::pair<int, int>, std::less<>> where;
  auto problem = [&](const toml::node& n, std::string_view key, std::string message) {
    out.problems.push_back({source, static_cast<int>(n.source().begin.line),
                            static_cast<int>(n.source().begin.column), std::string(key),
                            std::move(message)});
  };
  ProfileSettings s;
  std::optional<std::string> base;
  for (auto&& [k, node] : root) {
    const std::string_view key = k.str();
    where[std::string(key)] = {static_cast<int>(node.source().begin.line),
                               static_cast<int>(node.source().begin.column)};
    auto str = [&](std::optional<std::string>& dst) {
      if (const auto* v = node.as_string()) {
        dst = v->get();
      } else {
        problem(node, key, fmt::format("must be a string, not {}", toml_type_name(node)));
      }
    };
    auto num = [&](std::optional<double>& dst) {
      if (node.is_integer() || node.is_floating_point()) {
        dst = *node.value<double>();
      } else {
        problem(node, key, fmt::format("must be a number, not {}", toml_type_name(node)));
      }
    };
    auto boolean = [&](std::optional<bool>& dst) {
      if (const auto* v = node.as_boolean()) {
        dst = v->get();
      } else {
        problem(node, key, fmt::format("must be true or false, not {}", toml_type_name(node)));
      }
    };
    if (key == "base") {
      str(base);
    } else if (key == "name") {
      str(s.name);
    } else if (key == "language") {
      str(s.language);
    } else if (key == "dpi") {
      if (const auto* v = node.as_integer()) {
        s.dpi = v->get();
      } else {
        problem(node, key, fmt::format("must be an integer, not {}", toml_type_name(node)));
      }
    } else if (key == "width_mm") {
      num(s.width_mm);
    } else if (key == "height_mm") {
      num(s.height_mm);
    } else if (key == "zpl_compression") {
      str(s.zpl_compression);
    } else if (key == "native_text") {
      boolean(s.native_text);
    } else if (key == "native_qr") {
      boolean(s.native_qr);
    } else if (key == "cut") {
      str(s.cut);
    } else {
      std::string known = "base";
      for (auto name : profile_keys()) {
        known += fmt::format(", {}", name);
      }
      problem(node, key, fmt::format("unknown key (known here: {})", known));
    }
  }
  PrinterProfile start;
  if (base) {
    if (auto b = builtin_profile(*base)) {
      start = std::move(*b);
    } else {
      std::string names;
      for (const auto& n : builtin_profile_names()) {
        names += (names.empty() ? "" : ", ") + n;
      }
      problem(*root.get("base"), "base",
              fmt::format("'{}' is no built-in profile ({})", *base, names));
    }
  } else {
    // Without a base, the three keys that say what the printer is must be written out.
    for (const char* key : {"language", "dpi", "width_mm"}) {
      if (!root.get(key)) {
        out.problems.push_back({source, 0, 0, key,
                                "is required (or start from a built-in profile with base = "
                                "\"zpl-203\")"});
      }
    }
  }
  if (!s.name) {
    start.name = std::filesystem::path(source).stem().string();
    if (start.name.empty()) {
      start.name = "profile";
    }
  }
  // The keys' values are checked even when others are wrong: every problem at once.
  ParsedProfile applied = apply_profile_settings(start, s, source);
  for (auto& p : applied.problems) {
    if (auto it = where.find(p.key); it != where.end()) {
      p.line = it->second.first;
      p.column = it->second.second;
    }
    out.problems.push_back(std::move(p));
  }
  if (out.problems.empty()) {
    out.value = std::move(applied.value);
  }
  std::stable_sort(
      out.problems.begin(), out.problems.end(),
      [](const ProfileProblem& a, const ProfileProblem& b) { return a.line < b.line; });
  return out;
}

}  // namespace packbench::labels
