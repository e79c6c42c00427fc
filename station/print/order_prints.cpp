#include "station/print/order_prints.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "packbench/labels/shipping_label.hpp"
#include "station/discount/link.hpp"
#include "station/print/label_data.hpp"
#include "station/print/parcels.hpp"

namespace packbench::station {
namespace {

namespace json = boost::json;
using labels::OutputFormat;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool sku_matches(const std::string& pattern, const std::string& sku) {
  if (pattern.ends_with("*")) {
    return sku.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  }
  return pattern == sku;
}

bool tip_fits(const InsertTip& tip, const discount::OrderFacts& facts) {
  if (tip.skus.empty() && tip.categories.empty()) {
    return true;  // a tip for every order
  }
  for (const auto& pattern : tip.skus) {
    for (const auto& sku : facts.skus) {
      if (sku_matches(pattern, sku)) {
        return true;
      }
    }
  }
  for (const auto& category : tip.categories) {
    for (const auto& c : facts.categories) {
      if (lower(category) == lower(c)) {
        return true;
      }
    }
  }
  return false;
}

// The words for `locale`: the locale, its language ("ja" for "ja-JP"), English, else the first.
const std::string* words_for(const std::map<std::string, std::string>& text,
                             const std::string& locale) {
  if (auto it = text.find(locale); it != text.end()) {
    return &it->second;
  }
  if (auto it = text.find(locale.substr(0, locale.find_first_of("-_"))); it != text.end()) {
    return &it->second;
  }
  if (auto it = text.find("en"); it != text.end()) {
    return &it->second;
  }
  return text.empty() ? nullptr : &text.begin()->second;
}

std::string replace_all(std::string s, std::string_view from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

}  // namespace

std::map<std::string, PrintTarget> print_targets(const std::vector<PrinterConfig>& printers) {
  std::map<std::string, PrintTarget> out;
  for (const auto& p : printers) {
    PrintTarget t;
    t.profile = p.profile;
    t.format = labels::parse_output_format(p.sent_format()).value_or(p.profile.language);
    for (const auto& role : p.roles) {
      out.emplace(role, t);  // the first printer serving a role prints it
    }
  }
  return out;
}

std::string content_type_of(OutputFormat format) {
  switch (format) {
    case OutputFormat::zpl:
      return "application/zpl";
    case OutputFormat::png:
      return "image/png";
    case OutputFormat::pdf:
      return "application/pdf";
    case OutputFormat::escpos:
      return "application/vnd.escpos";
  }
  return "application/octet-stream";
}

OrderPrinter::OrderPrinter(InsertsConfig inserts, ShippingConfig shipping,
                           std::vector<discount::Campaign> campaigns,
                           std::optional<discount::SigningKey> key,
                           std::optional<std::uint32_t> station_number, std::string station_id,
                           std::string site, std::map<std::string, PrintTarget> targets)
    : inserts_(std::move(inserts)),
      shipping_(std::move(shipping)),
      campaigns_(std::move(campaigns)),
      key_(std::move(key)),
      station_number_(station_number),
      station_id_(std::move(station_id)),
      site_(std::move(site)),
      targets_(std::move(targets)) {}

const discount::Campaign* OrderPrinter::campaign(const std::string& id) const {
  for (const auto& c : campaigns_) {
    if (c.id == id) {
      return &c;
    }
  }
  return nullptr;
}

bool OrderPrinter::has_work() const {
  return !campaigns_.empty() || std::any_of(targets_.begin(), targets_.end(), [](const auto& t) {
    return t.first != "shipping-label";
  });
}

const labels::Template* OrderPrinter::find_template(const std::string& name,
                                                    const std::filesystem::path& file,
                                                    std::string& error) const {
  if (auto it = templates_.find(name); it != templates_.end()) {
    return &it->second;
  }
  const bool is_file = name.find('/') != std::string::npos || name.ends_with(".toml");
  labels::ParsedTemplate parsed;
  if (is_file) {
    parsed = labels::load_template_file(file.empty() ? std::filesystem::path(name) : file);
  } else {
    parsed = labels::builtin_template(name);
  }
  if (!parsed) {
    error = parsed.problems.empty() ? "no template " + name : parsed.problems.front().to_string();
    return nullptr;
  }
  return &templates_.emplace(name, std::move(*parsed.value)).first->second;
}

void OrderPrinter::add_insert_values(const Order& order, const std::string& locale,
                                     labels::LabelData& data) const {
  if (!inserts_.shop_name.empty()) {
    data.values["shop.name"] = inserts_.shop_name;
  }
  const discount::OrderFacts facts = discount::order_facts(order);
  for (const auto& tip : inserts_.tips) {
    if (!tip_fits(tip, facts)) {
      continue;
    }
    if (const auto* words = words_for(tip.text, locale)) {
      data.values["tip.text"] = *words;
      if (!tip.url.empty()) {
        data.values["tip.url"] = tip.url;
      }
      break;
    }
  }
  if (!inserts_.review_url.empty()) {
    data.values["review.url"] =
        replace_all(inserts_.review_url, "{order}", discount::percent_encode(order.id));
  }
}

ParcelLabel OrderPrinter::shipping_label(Database& db, const Order& order, const Parcel& parcel,
                                         const std::string& now) const {
  ParcelLabel out;
  const auto target = targets_.find("shipping-label");
  if (target == targets_.end()) {
    return out;
  }
  const labels::PrinterProfile& profile = target->second.profile;
  const OutputFormat format = target->second.format;

  // The carrier's own label goes on the first box: it carries one tracking number, and a second
  // parcel with the same one would be lost or charged twice.
  auto carrier = carrier_label(order);
  if (!carrier) {
    out.problems.push_back(fmt::format("carrier label: {}; the station's label printed instead",
                                       carrier.error().message));
  } else if (*carrier && parcel.box == 1) {
    auto bytes =
        labels::render_carrier_label((*carrier)->bytes, (*carrier)->format, profile, format);
    if (bytes) {
      out.carrier = true;
      out.job = OrderPrintJob{"shipping-label", "carrier", content_type_of(format),
                              std::move(bytes.bytes)};
      return out;
    }
    out.problems.push_back(
        fmt::format("carrier label: {}; the station's label printed instead", bytes.error));
  } else if (*carrier) {
    out.problems.push_back(
        fmt::format("box {}: the order brought one carrier label, for box 1; this box has the "
                    "station's label",
                    parcel.box));
  }

  LabelContext context;
  context.station_id = station_id_;
  context.site = site_;
  context.box_number = parcel.box;
  context.box_count = parcel.box_count;
  context.box_items = parcel.items;
  context.packed_at = now;
  const SsccSettings sscc_settings{shipping_.gs1_company_prefix, shipping_.sscc_extension,
                                   shipping_.sscc_serial_prefix};
  const bool had_sscc =
      !sscc_settings.company_prefix.empty() && sscc_of(db, order.id, parcel.box).has_value();
  if (auto sscc = parcel_sscc(db, sscc_settings, order.id, parcel.box, now); !sscc) {
    out.problems.push_back(fmt::format("SSCC: {}", sscc.error().message));
  } else if (*sscc) {
    context.sscc = **sscc;
  }
  labels::LabelData data = label_data(order, context);
  // The order's own SSCC is its first parcel's, and only when the station makes none of its own.
  if (context.sscc.empty() && (parcel.box > 1 || !sscc_settings.company_prefix.empty())) {
    data.values.erase("shipment.sscc");
  }
  if (auto it = data.values.find("shipment.sscc"); it != data.values.end()) {
    out.sscc = it->second;
  }

  std::string error;
  const labels::Template* tmpl =
      find_template(shipping_.template_name, shipping_.template_file, error);
  if (tmpl) {
    const auto rendered = labels::render_label(*tmpl, data, profile);
    if (rendered) {
      auto bytes = labels::encode_label(rendered, profile, format);
      if (bytes) {
        out.job = OrderPrintJob{"shipping-label", shipping_.template_name, content_type_of(format),
                                std::move(bytes.bytes)};
        return out;
      }
      error = bytes.error;
    } else {
      error = rendered.error;
    }
  }
  // The parcel must not leave without a label: the plain one says which order and box it is. It
  // has no SSCC, so none is recorded for the box.
  if (!context.sscc.empty() && !had_sscc) {
    db.statement("DELETE FROM parcels WHERE order_id = ?1 AND box = ?2")
        .bind_all(order.id, parcel.box)
        .run();
  }
  out.sscc.clear();
  labels::ShippingLabel plain;
  plain.order_id = order.id;
  plain.station_id = station_id_;
  plain.site = site_;
  plain.box_number = parcel.box;
  plain.item_count = parcel.items;
  plain.packed_at = now;
  const labels::LabelSize size{profile.dpi, profile.width_mm / 25.4, 6.0};
  out.problems.push_back(fmt::format("shipping label ({}): {}; the plain label printed instead",
                                     shipping_.template_name, error));
  out.job = OrderPrintJob{"shipping-label", "plain", content_type_of(OutputFormat::zpl),
                          labels::render_shipping_label_zpl(plain, size)};
  return out;
}

CompletionPrints OrderPrinter::prepare(Database& db, const Order& order, const std::string& now,
                                       discount::Day today, int boxes) const {
  CompletionPrints out;
  out.locale = order.customer.locale;
  if (!campaigns_.empty()) {
    discount::IssueContext ctx;
    ctx.today = today;
    ctx.now = now;
    ctx.key = key_ ? &*key_ : nullptr;
    ctx.station_number = station_number_;
    out.issue = discount::issue_discount(db, campaigns_, order, ctx);
    if (out.issue.discount) {
      out.campaign = campaign(out.issue.discount->campaign);
    }
  }
  const auto& discount = out.issue.discount;

  LabelContext context;
  context.station_id = station_id_;
  context.site = site_;
  context.box_count = boxes;
  context.packed_at = now;

  auto render = [&](const std::string& role, const std::string& template_name,
                    const labels::LabelData& data) -> bool {
    const auto target = targets_.find(role);
    if (target == targets_.end()) {
      return false;
    }
    std::string error;
    const labels::Template* tmpl =
        find_template(template_name,
                      template_name == inserts_.template_name ? inserts_.template_file : "", error);
    if (!tmpl) {
      out.problems.push_back(fmt::format("{} ({}): {}", role, template_name, error));
      return false;
    }
    const auto rendered = labels::render_label(*tmpl, data, target->second.profile);
    if (!rendered) {
      out.problems.push_back(fmt::format("{} ({}): {}", role, template_name, rendered.error));
      return false;
    }
    auto bytes = labels::encode_label(rendered, target->second.profile, target->second.format);
    if (!bytes) {
      out.problems.push_back(fmt::format("{} ({}): {}", role, template_name, bytes.error));
      return false;
    }
    out.jobs.push_back(
        {role, template_name, content_type_of(target->second.format), std::move(bytes.bytes)});
    return true;
  };

  // The discount on a card of its own when a printer serves cards; on the insert otherwise.
  Order with_discount = order;
  if (discount) {
    with_discount.doc["discount"] =
        discount::discount_label_values(*discount, out.campaign, order.customer.locale);
  }
  if (discount && targets_.count("discount-card")) {
    const std::string card =
        out.campaign ? out.campaign->template_name : std::string("discount-card");
    out.card_separate = render("discount-card", card, label_data(with_discount, context));
  }

  if (targets_.count("insert")) {
    labels::LabelData data = label_data(out.card_separate ? order : with_discount, context);
    add_insert_values(order, order.customer.locale, data);
    if (!render("insert", inserts_.template_name, data)) {
      // Once more without the tip and the review request: a long link can make a QR too big
      // for its box, and the thank-you must still go in the parcel.
      for (const char* optional : {"tip.text", "tip.url", "review.url"}) {
        data.values.erase(optional);
      }
      render("insert", inserts_.template_name, data);
    }
  }
  if (targets_.count("packing-slip")) {
    render("packing-slip", "packing-slip", label_data(order, context));
  }
  return out;
}

}  // namespace packbench::station
