#include "packbench/labels/template.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "packbench/labels/codes.hpp"
#include "packbench/labels/image.hpp"
#include "packbench/labels/text.hpp"
#include "template_internal.hpp"
#include "toml_names.hpp"

namespace packbench::labels {

// ---------------------------------------------------------------------------------------------
// Parsing

std::string TemplateProblem::to_string() const {
  if (line > 0) {
    return fmt::format("{}:{}:{}: {}", source, line, column, message);
  }
  return fmt::format("{}: {}", source, message);
}

Template::Template() : definition_(std::make_shared<TemplateDefinition>()) {}
Template::Template(std::shared_ptr<const TemplateDefinition> definition)
    : definition_(std::move(definition)) {}
const std::string& Template::name() const {
  return definition_->name;
}
double Template::width_mm() const {
  return definition_->width_mm;
}
double Template::height_mm() const {
  return definition_->height_mm;
}
std::vector<std::string> Template::locales() const {
  std::vector<std::string> out{definition_->default_locale};
  for (const auto& [locale, texts] : definition_->texts) {
    if (locale != definition_->default_locale) {
      out.push_back(locale);
    }
  }
  return out;
}

namespace {

// Largest page a template may describe: 1 m. Nothing on a pack bench is bigger, and the limit
// keeps a typo ("height_mm = 15240") from asking for a raster of gigabytes.
constexpr double kMaxLabelMm = 1000;
constexpr std::size_t kMaxElements = 500;
constexpr std::size_t kMaxColumns = 20;

class Parser {
 public:
  Parser(std::string_view source, std::filesystem::path base_dir)
      : source_(source), base_dir_(std::move(base_dir)) {}

  std::vector<TemplateProblem> problems;

  std::shared_ptr<TemplateDefinition> parse(const toml::table& root) {
    auto def = std::make_shared<TemplateDefinition>();
    def->source = source_;
    for (const auto& [key, node] : root) {
      if (key != "label" && key != "text" && key != "element") {
        problem(node.source(),
                fmt::format("unknown section '{}' (label, text, element)", key.str()));
      }
    }
    if (const toml::table* label = table(root, "label", "label")) {
      unknown(*label, "label", {"name", "width_mm", "height_mm", "default_locale"});
      string(*label, "label", "name", def->name);
      number(*label, "label", "width_mm", def->width_mm, true);
      number(*label, "label", "height_mm", def->height_mm, true);
      string(*label, "label", "default_locale", def->default_locale);
      for (auto [key, v] : {std::pair{"width_mm", def->width_mm}, {"height_mm", def->height_mm}}) {
        if (v <= 0 || v > kMaxLabelMm) {
          problem(label->source(),
                  fmt::format("label.{} must be above 0 and at most {} mm", key, kMaxLabelMm));
        }
      }
      if (def->width_mm > 0 && def->width_mm <= kMaxLabelMm && def->height_mm > 0 &&
          def->height_mm <= kMaxLabelMm) {
        label_width_ = def->width_mm;
        label_height_ = def->height_mm;
      }
    } else if (!root.get("label")) {
      problems.push_back({std::string(source_), 0, 0,
                          "no [label] section (name, width_mm, height_mm, default_locale)"});
    }
    if (def->default_locale.empty()) {
      def->default_locale = "en";
    }
    if (const toml::table* texts = table(root, "text", "text")) {
      for (const auto& [locale, node] : *texts) {
        const std::string where = fmt::format("text.{}", locale.str());
        const toml::table* block = node.as_table();
        if (!block) {
          problem(node.source(), fmt::format("{} must be a table of texts", where));
          continue;
        }
        auto& out = def->texts[std::string(locale.str())];
        for (const auto& [name, value] : *block) {
          if (const auto* s = value.as_string()) {
            out[std::string(name.str())] = s->get();
            check_references(s->get(), value.source(), fmt::format("{}.{}", where, name.str()));
          } else {
            problem(value.source(), fmt::format("{}.{} must be a string, not {}", where, name.str(),
                                                toml_type_name(value)));
          }
        }
      }
    }
    if (const toml::node* n = root.get("element")) {
      const toml::array* arr = n->as_array();
      if (!arr || !arr->is_array_of_tables()) {
        problem(n->source(), "element must be an array of tables: [[element]]");
      } else if (arr->size() > kMaxElements) {
        problem(n->source(), fmt::format("more than {} elements", kMaxElements));
      } else {
        for (std::size_t i = 0; i < arr->size(); ++i) {
          element(*(*arr)[i].as_table(), static_cast<int>(i), *def);
        }
      }
    }
    // Every {text.NAME} an element or a text block uses must exist in every locale.
    for (const auto& [name, where] : text_uses_) {
      if (def->texts.empty()) {
        problem(where,
                fmt::format("{{text.{}}} is used but the template has no [text.*] blocks", name));
        continue;
      }
      for (const auto& [locale, texts] : def->texts) {
        if (!texts.contains(name)) {
          problem(where,
                  fmt::format("{{text.{}}} is used but [text.{}] has no '{}'", name, locale, name));
        }
      }
    }
    if (!def->texts.empty() && !def->texts.contains(def->default_locale)) {
      problems.push_back({std::string(source_), 0, 0,
                          fmt::format("default_locale '{}' has no [text.{}] block",
                                      def->default_locale, def->default_locale)});
    }
    return def;
  }

 private:
  std::string_view source_;
  std::filesystem::path base_dir_;
  // The label's size once it is known to be good (0 before): elements must lie within it.
  double label_width_ = 0;
  double label_height_ = 0;
  std::vector<std::pair<std::string, toml::source_region>> text_uses_;

  void problem(const toml::source_region& where, std::string message) {
    problems.push_back({std::string(source_), static_cast<int>(where.begin.line),
                        static_cast<int>(where.begin.column), std::move(message)});
  }

  void unknown(const toml::table& t, std::string_view where,
               std::initializer_list<std::string_view> known) {
    for (const auto& [key, node] : t) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        problem(node.source(), fmt::format("{}: unknown key '{}'", where, key.str()));
      }
    }
  }

  const toml::table* table(const toml::table& t, std::string_view key, std::string_view where) {
    const toml::node* n = t.get(key);
    if (!n) {
      return nullptr;
    }
    if (!n->is_table()) {
      problem(n->source(), fmt::format("{} must be a table", where));
      return nullptr;
    }
    return n->as_table();
  }

  bool string(const toml::table& t, std::string_view where, std::string_view key, std::string& out,
              bool required = false) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) {
        problem(t.source(), fmt::format("{}: '{}' is required", where, key));
      }
      return false;
    }
    if (const auto* s = n->as_string()) {
      out = s->get();
      return true;
    }
    problem(n->source(),
            fmt::format("{}.{} must be a string, not {}", where, key, toml_type_name(*n)));
    return false;
  }

  bool number(const toml::table& t, std::string_view where, std::string_view key, double& out,
              bool required = false) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) {
        problem(t.source(), fmt::format("{}: '{}' is required", where, key));
      }
      return false;
    }
    if (auto v = n->value<double>(); v && (n->is_integer() || n->is_floating_point())) {
      if (!std::isfinite(*v)) {
        problem(n->source(), fmt::format("{}.{} must be a finite number", where, key));
        return false;
      }
      out = *v;
      return true;
    }
    problem(n->source(),
            fmt::format("{}.{} must be a number, not {}", where, key, toml_type_name(*n)));
    return false;
  }

  void boolean(const toml::table& t, std::string_view where, std::string_view key, bool& out) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    if (const auto* b = n->as_boolean()) {
      out = b->get();
      return;
    }
    problem(n->source(), fmt::format("{}.{} must be true or false", where, key));
  }

  void integer(const toml::table& t, std::string_view where, std::string_view key, int& out, int lo,
               int hi) {
    const toml::node* n = t.get(key);
    if (!n) {
      return;
    }
    if (const auto* i = n->as_integer()) {
      if (i->get() < lo || i->get() > hi) {
        problem(n->source(), fmt::format("{}.{} must be from {} to {}", where, key, lo, hi));
        return;
      }
      out = static_cast<int>(i->get());
      return;
    }
    problem(n->source(), fmt::format("{}.{} must be an integer", where, key));
  }

  template <class E>
  void choice(const toml::table& t, std::string_view where, std::string_view key, E& out,
              std::initializer_list<std::pair<std::string_view, E>> options) {
    std::string s;
    if (!string(t, where, key, s)) {
      return;
    }
    for (const auto& [name, value] : options) {
      if (s == name) {
        out = value;
        return;
      }
    }
    std::string names;
    for (const auto& [name, value] : options) {
      names += names.empty() ? "" : ", ";
      names += name;
    }
    problem(t.get(key)->source(),
            fmt::format("{}.{}: '{}' is not one of {}", where, key, s, names));
  }

  // Checks the {references} of a string: balanced braces and names made of letters, digits,
  // '.', '_' and '-', with an optional trailing '?'. Records {text.NAME} uses.
  void check_references(std::string_view s, const toml::source_region& where,
                        std::string_view what) {
    std::string error;
    for_each_reference(s, error, [&](std::string_view name, bool) {
      if (name.starts_with("text.")) {
        text_uses_.emplace_back(std::string(name.substr(5)), where);
      }
    });
    if (!error.empty()) {
      problem(where, fmt::format("{}: {}", what, error));
    }
  }

  void box_keys(const toml::table& t, std::string_view where, Element& e, bool size_required) {
    number(t, where, "x_mm", e.x, true);
    number(t, where, "y_mm", e.y, true);
    number(t, where, "width_mm", e.w, size_required);
    number(t, where, "height_mm", e.h, size_required);
    for (auto [key, v] : {std::pair{"x_mm", e.x}, {"y_mm", e.y}}) {
      if (v < 0 || v > kMaxLabelMm) {
        problem(t.source(), fmt::format("{}: {} must be from 0 to {}", where, key, kMaxLabelMm));
      }
    }
    if (size_required) {
      for (auto [key, v] : {std::pair{"width_mm", e.w}, {"height_mm", e.h}}) {
        if (v <= 0 || v > kMaxLabelMm) {
          problem(t.source(),
                  fmt::format("{}: {} must be above 0 and at most {}", where, key, kMaxLabelMm));
        }
      }
    }
    within_label(t, where, e.x + e.w, e.y + e.h);
  }

  // Ink past the label's edge would never print, and would still cost its raster: an element
  // must end within the label.
  void within_label(const toml::table& t, std::string_view where, double right, double bottom) {
    constexpr double kSlack = 1e-6;  // sums of decimal millimetres are not exact
    if (label_width_ > 0 && right > label_width_ + kSlack) {
      problem(t.source(), fmt::format("{}: reaches {} mm across, past the label's width ({} mm)",
                                      where, right, label_width_));
    }
    if (label_height_ > 0 && bottom > label_height_ + kSlack) {
      problem(t.source(), fmt::format("{}: reaches {} mm down, past the label's height ({} mm)",
                                      where, bottom, label_height_));
    }
  }

  void text_style(const toml::table& t, std::string_view where, TextElementStyle& s) {
    number(t, where, "size_pt", s.size_pt);
    if (s.size_pt < 2 || s.size_pt > 400) {
      problem(t.source(), fmt::format("{}: size_pt must be from 2 to 400", where));
    }
    choice(t, where, "weight", s.weight,
           {{"regular", FontWeight::regular}, {"bold", FontWeight::bold}});
    choice(t, where, "align", s.align,
           {{"left", TextAlign::left}, {"center", TextAlign::center}, {"right", TextAlign::right}});
    string(t, where, "font", s.font);
    if (s.font.empty()) {
      s.font = kDefaultFontFamily;
    }
  }

  void element(const toml::table& t, int index, TemplateDefinition& def) {
    Element e;
    e.index = index;
    e.line = static_cast<int>(t.source().begin.line);
    std::string type;
    std::string where = fmt::format("element[{}]", index);
    if (!string(t, where, "type", type, true)) {
      return;
    }
    where = fmt::format("element[{}] ({})", index, type);
    e.where = where;
    string(t, where, "when", e.when);
    if (!e.when.empty()) {
      std::string_view name = e.when;
      if (name.starts_with('!')) {
        name.remove_prefix(1);
      }
      if (!is_reference_name(name)) {
        problem(t.get("when")->source(),
                fmt::format("{}: when = '{}' must be a value name, or ! and a value name", where,
                            e.when));
      }
    }
    int max_chars = static_cast<int>(kMaxValueBytes);
    integer(t, where, "max_chars", max_chars, 1, static_cast<int>(kMaxValueBytes) * 16);
    e.max_chars = static_cast<std::size_t>(max_chars);

    if (type == "text") {
      e.kind = ElementKind::text;
      unknown(t, where,
              {"type", "when", "max_chars", "x_mm", "y_mm", "width_mm", "height_mm", "text",
               "size_pt", "weight", "align", "font", "max_lines", "ellipsize", "native"});
      box_keys(t, where, e, true);
      if (string(t, where, "text", e.text, true)) {
        check_references(e.text, t.get("text")->source(), where);
      }
      text_style(t, where, e.style);
      integer(t, where, "max_lines", e.max_lines, 0, 1000);
      boolean(t, where, "ellipsize", e.ellipsize);
      boolean(t, where, "native", e.native);
    } else if (type == "qr") {
      e.kind = ElementKind::qr;
      unknown(t, where,
              {"type", "when", "max_chars", "x_mm", "y_mm", "width_mm", "height_mm", "data", "ecc",
               "min_ecc", "align", "native"});
      box_keys(t, where, e, true);
      if (string(t, where, "data", e.data, true)) {
        check_references(e.data, t.get("data")->source(), where);
      }
      choice(t, where, "ecc", e.ecc,
             {{"L", QrEcc::L}, {"M", QrEcc::M}, {"Q", QrEcc::Q}, {"H", QrEcc::H}});
      // The lowest level the element may step down to when its box cannot hold `ecc` (a card
      // laid out for 4 in printed on an 80 mm roll): by default, none.
      e.min_ecc = e.ecc;
      choice(t, where, "min_ecc", e.min_ecc,
             {{"L", QrEcc::L}, {"M", QrEcc::M}, {"Q", QrEcc::Q}, {"H", QrEcc::H}});
      if (e.min_ecc > e.ecc) {
        problem(t.get("min_ecc")->source(),
                fmt::format("{}.min_ecc must not be above ecc (L < M < Q < H)", where));
      }
      e.style.align = TextAlign::center;
      choice(
          t, where, "align", e.style.align,
          {{"left", TextAlign::left}, {"center", TextAlign::center}, {"right", TextAlign::right}});
      boolean(t, where, "native", e.native);
    } else if (type == "barcode") {
      e.kind = ElementKind::barcode;
      unknown(t, where,
              {"type", "when", "max_chars", "x_mm", "y_mm", "width_mm", "height_mm", "data",
               "symbology", "module_mm", "min_module_mm", "shape", "align"});
      box_keys(t, where, e, true);
      if (string(t, where, "data", e.data, true)) {
        check_references(e.data, t.get("data")->source(), where);
      }
      if (!t.get("symbology")) {
        problem(t.source(), fmt::format("{}: 'symbology' is required", where));
      }
      choice(t, where, "symbology", e.symbology,
             {{"code128", BarcodeType::code128},
              {"gs1-128", BarcodeType::gs1_128},
              {"ean13", BarcodeType::ean13},
              {"upca", BarcodeType::upca},
              {"datamatrix", BarcodeType::datamatrix},
              {"gs1-datamatrix", BarcodeType::gs1_datamatrix}});
      if (t.get("shape") && e.symbology != BarcodeType::datamatrix &&
          e.symbology != BarcodeType::gs1_datamatrix) {
        problem(t.get("shape")->source(),
                fmt::format("{}: 'shape' is for DataMatrix symbologies only", where));
      }
      choice(t, where, "shape", e.shape,
             {{"square", DataMatrixShape::square}, {"rectangle", DataMatrixShape::rectangle}});
      number(t, where, "module_mm", e.module_mm);
      number(t, where, "min_module_mm", e.min_module_mm);
      if (e.module_mm < 0 || e.module_mm > 5 || e.min_module_mm < 0 || e.min_module_mm > 5) {
        problem(t.source(), fmt::format("{}: module sizes must be from 0 to 5 mm", where));
      }
      e.style.align = TextAlign::center;
      choice(
          t, where, "align", e.style.align,
          {{"left", TextAlign::left}, {"center", TextAlign::center}, {"right", TextAlign::right}});
    } else if (type == "image") {
      e.kind = ElementKind::image;
      unknown(t, where,
              {"type", "when", "max_chars", "x_mm", "y_mm", "width_mm", "height_mm", "image",
               "reduction", "threshold", "align"});
      box_keys(t, where, e, true);
      choice(
          t, where, "reduction", e.reduction,
          {{"threshold", Reduction::threshold}, {"floyd-steinberg", Reduction::floyd_steinberg}});
      integer(t, where, "threshold", e.threshold, 1, 255);
      e.style.align = TextAlign::center;
      choice(
          t, where, "align", e.style.align,
          {{"left", TextAlign::left}, {"center", TextAlign::center}, {"right", TextAlign::right}});
      if (string(t, where, "image", e.image_ref, true)) {
        load_image(e, t.get("image")->source());
      }
    } else if (type == "line") {
      e.kind = ElementKind::line;
      unknown(t, where,
              {"type", "when", "max_chars", "x_mm", "y_mm", "x2_mm", "y2_mm", "thickness_mm"});
      box_keys(t, where, e, false);
      number(t, where, "x2_mm", e.x2, true);
      number(t, where, "y2_mm", e.y2, true);
      number(t, where, "thickness_mm", e.thickness);
      if (e.x2 < 0 || e.x2 > kMaxLabelMm || e.y2 < 0 || e.y2 > kMaxLabelMm) {
        problem(t.source(),
                fmt::format("{}: x2_mm and y2_mm must be from 0 to {}", where, kMaxLabelMm));
      }
      within_label(t, where, e.x2, e.y2);
      if (e.thickness <= 0 || e.thickness > 50) {
        problem(t.source(), fmt::format("{}: thickness_mm must be above 0 and at most 50", where));
      }
    } else if (type == "box") {
      e.kind = ElementKind::box;
      unknown(t, where,
              {"type", "when", "max_chars", "x_mm", "y_mm", "width_mm", "height_mm", "thickness_mm",
               "fill"});
      box_keys(t, where, e, true);
      number(t, where, "thickness_mm", e.thickness);
      boolean(t, where, "fill", e.fill);
      if (e.thickness <= 0 || e.thickness > 50) {
        problem(t.source(), fmt::format("{}: thickness_mm must be above 0 and at most 50", where));
      }
    } else if (type == "table") {
      e.kind = ElementKind::table;
      unknown(
          t, where,
          {"type", "when", "max_chars", "x_mm", "y_mm", "width_mm", "height_mm", "rows",
           "row_height_mm", "size_pt", "weight", "font", "header", "overflow", "column", "native"});
      box_keys(t, where, e, true);
      if (string(t, where, "rows", e.rows, true) && !is_reference_name(e.rows)) {
        problem(t.get("rows")->source(),
                fmt::format("{}: rows = '{}' must be a list name", where, e.rows));
      }
      number(t, where, "row_height_mm", e.row_height, true);
      if (e.row_height < 1 || e.row_height > 100) {
        problem(t.source(), fmt::format("{}: row_height_mm must be from 1 to 100", where));
      }
      text_style(t, where, e.style);
      boolean(t, where, "header", e.header);
      boolean(t, where, "native", e.native);
      if (string(t, where, "overflow", e.overflow)) {
        check_references(e.overflow, t.get("overflow")->source(), where);
      }
      const toml::node* cols = t.get("column");
      const toml::array* arr = cols ? cols->as_array() : nullptr;
      if (!arr || !arr->is_array_of_tables() || arr->empty()) {
        problem(cols ? cols->source() : t.source(),
                fmt::format("{}: a table needs [[element.column]] entries", where));
      } else if (arr->size() > kMaxColumns) {
        problem(cols->source(), fmt::format("{}: more than {} columns", where, kMaxColumns));
      } else {
        double total = 0;
        for (std::size_t c = 0; c < arr->size(); ++c) {
          const toml::table& ct = *(*arr)[c].as_table();
          const std::string cw = fmt::format("{}.column[{}]", where, c);
          unknown(ct, cw, {"header", "text", "width_mm", "align"});
          Column col;
          if (string(ct, cw, "header", col.header)) {
            check_references(col.header, ct.get("header")->source(), cw);
          }
          if (string(ct, cw, "text", col.text, true)) {
            check_references(col.text, ct.get("text")->source(), cw);
          }
          number(ct, cw, "width_mm", col.width, true);
          if (col.width <= 0) {
            problem(ct.source(), fmt::format("{}: width_mm must be above 0", cw));
          }
          choice(ct, cw, "align", col.align,
                 {{"left", TextAlign::left},
                  {"center", TextAlign::center},
                  {"right", TextAlign::right}});
          total += col.width;
          e.columns.push_back(std::move(col));
        }
        if (total > e.w + 1e-6) {
          problem(cols->source(), fmt::format("{}: the columns ({} mm) are wider than the table "
                                              "({} mm)",
                                              where, total, e.w));
        }
      }
    } else {
      problem(t.get("type")->source(),
              fmt::format("{}: unknown type '{}' (text, qr, barcode, image, line, box, table)",
                          where, type));
      return;
    }
    def.elements.push_back(std::move(e));
  }

  void load_image(Element& e, const toml::source_region& where) {
    if (e.image_ref.starts_with("builtin:")) {
      const auto bytes = builtin_image(e.image_ref.substr(8));
      if (!bytes) {
        problem(where, fmt::format("{}: no built-in image '{}'", e.where, e.image_ref));
        return;
      }
      e.image_bytes.assign(bytes->begin(), bytes->end());
      return;
    }
    if (base_dir_.empty()) {
      problem(where,
              fmt::format("{}: image files are not allowed here (only builtin: images)", e.where));
      return;
    }
    const std::filesystem::path path = base_dir_ / e.image_ref;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problem(where, fmt::format("{}: cannot read image {}", e.where, path.string()));
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string s = ss.str();
    e.image_bytes.assign(s.begin(), s.end());
  }
};

}  // namespace

bool is_reference_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return name.front() != '.' && name.back() != '.';
}

ParsedTemplate parse_template(std::string_view text, std::string_view source_name,
                              const std::filesystem::path& base_dir) {
  ParsedTemplate out;
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    out.problems.push_back({std::string(source_name), static_cast<int>(e.source().begin.line),
                            static_cast<int>(e.source().begin.column),
                            std::string(e.description())});
    return out;
  }
  Parser parser(source_name, base_dir);
  auto def = parser.parse(root);
  out.problems = std::move(parser.problems);
  if (out.problems.empty()) {
    out.value = Template(std::move(def));
  }
  return out;
}

ParsedTemplate load_template_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ParsedTemplate out;
    out.problems.push_back({path.string(), 0, 0, "cannot read the file"});
    return out;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_template(
      ss.str(), path.string(),
      path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

ParsedTemplate builtin_template(std::string_view name) {
  const auto source = builtin_template_source(name);
  if (!source) {
    ParsedTemplate out;
    out.problems.push_back(
        {fmt::format("builtin:{}", name), 0, 0, fmt::format("no built-in template '{}'", name)});
    return out;
  }
  return parse_template(*source, fmt::format("builtin:{}", name));
}

}  // namespace packbench::labels
