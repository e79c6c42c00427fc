#include "station/discount/issue.hpp"

#include <fmt/format.h>

#include "station/discount/pool.hpp"

namespace packbench::station::discount {
namespace {

namespace json = boost::json;

const Campaign* find_campaign(const std::vector<Campaign>& campaigns, const std::string& id) {
  for (const auto& c : campaigns) {
    if (c.id == id) {
      return &c;
    }
  }
  return nullptr;
}

IssuedDiscount from_allocated(const AllocatedCode& a, bool reprint) {
  IssuedDiscount d;
  d.order_id = a.order_id;
  d.code = a.code;
  d.campaign = a.campaign;
  d.source = a.source == "signed" ? CodeSource::signed_code : CodeSource::pool;
  d.expires = a.expires;
  d.url = a.url;
  d.reprint = reprint;
  return d;
}

// The link goes into the store with the code, so that a reprint shows the same QR even after the
// campaign's link changed.
void attach_link(Database& db, const Campaign& campaign, IssuedDiscount& d, IssueOutcome& out) {
  auto link = campaign.link_for(d.code);
  if (!link) {
    out.note = "no link for the code: " + link.error().message;
    return;
  }
  d.url = *link;
  set_code_url(db, d.order_id, d.url);
}

std::optional<IssuedDiscount> sign(Database& db, const Campaign& campaign, const Order& order,
                                   const IssueContext& ctx, Day expires, IssueOutcome& out) {
  if (!ctx.key || !ctx.station_number) {
    out.note = "this station has no signing key or station number for signed codes";
    return std::nullopt;
  }
  const auto serial = next_signed_serial(db, *ctx.station_number);
  if (!serial) {
    out.note = fmt::format(
        "station number {} has used every serial of signed codes; give the station a new "
        "[discounts] station_number",
        *ctx.station_number);
    return std::nullopt;
  }
  auto code = make_signed_code(
      SignedCodeFields{campaign.code_prefix, *ctx.station_number, *serial, expires}, *ctx.key);
  if (!code) {
    out.note = "cannot sign a code: " + code.error().message;
    return std::nullopt;
  }
  if (code_exists(db, *code)) {
    // Only an imported pool code that happens to read as this signed code could be here.
    out.note = "the signed code " + *code + " is already in the store";
    return std::nullopt;
  }
  IssuedDiscount d;
  d.order_id = order.id;
  d.code = *code;
  d.campaign = campaign.id;
  d.source = CodeSource::signed_code;
  d.expires = expires;
  auto link = campaign.link_for(d.code);
  if (link) {
    d.url = *link;
  } else {
    out.note = "no link for the code: " + link.error().message;
  }
  record_signed_code(db, campaign.id, d.code, order.id, ctx.now, expires, d.url);
  return d;
}

}  // namespace

PoolStatus pool_status(Database& db, const Campaign& campaign) {
  PoolStatus p;
  p.campaign = campaign.id;
  p.low_water = campaign.low_water;
  p.remaining = pool_remaining(db, campaign.id);
  p.low = p.remaining == 0 || p.remaining < campaign.low_water;
  return p;
}

IssueOutcome issue_from_campaign(Database& db, const Campaign& campaign, const Order& order,
                                 const IssueContext& ctx) {
  IssueOutcome out;
  if (auto existing = code_for_order(db, order.id)) {
    out.discount = from_allocated(*existing, true);
    return out;
  }
  const Day expires = ctx.today + std::chrono::days(campaign.expiry_days);
  if (campaign.source == CodeSource::signed_code) {
    out.discount = sign(db, campaign, order, ctx, expires, out);
    return out;
  }
  auto allocation = allocate_code(db, campaign.id, order.id, ctx.now, expires);
  PoolStatus pool = pool_status(db, campaign);
  if (allocation) {
    out.discount = from_allocated(allocation->code, false);
    attach_link(db, campaign, *out.discount, out);
    const std::int64_t before = pool.remaining + 1;
    pool.alert = pool.remaining == 0 || (campaign.low_water > 0 && before >= campaign.low_water &&
                                         pool.remaining < campaign.low_water);
  } else if (campaign.fallback == Fallback::signed_code) {
    out.discount = sign(db, campaign, order, ctx, expires, out);
    if (out.discount) {
      out.discount->fallback = true;
    }
  } else {
    out.note =
        "the pool of campaign " + campaign.id + " is empty; the insert prints without a card";
  }
  out.pool = pool;
  return out;
}

IssueOutcome issue_discount(Database& db, const std::vector<Campaign>& campaigns,
                            const Order& order, const IssueContext& ctx) {
  if (auto existing = code_for_order(db, order.id)) {
    IssueOutcome out;
    out.discount = from_allocated(*existing, true);
    if (out.discount->url.empty()) {
      if (const Campaign* c = find_campaign(campaigns, existing->campaign)) {
        attach_link(db, *c, *out.discount, out);
      }
    }
    return out;
  }
  const Campaign* campaign = choose_campaign(campaigns, order, ctx.today);
  if (!campaign) {
    IssueOutcome out;
    out.note = "no campaign applies to this order";
    return out;
  }
  return issue_from_campaign(db, *campaign, order, ctx);
}

json::object discount_label_values(const IssuedDiscount& d, const Campaign* campaign,
                                   std::string_view locale) {
  json::object v;
  if (campaign) {
    if (const auto* words = campaign->wording_for(locale)) {
      for (const auto& [name, text] : *words) {
        v[name] = text;
      }
    }
  }
  v["code"] = d.code;
  v["url"] = d.url;
  v["expires"] = d.expires ? json::value(format_day(*d.expires)) : json::value("");
  v["campaign"] = d.campaign;
  return v;
}

EventSpec discount_issued_event(const IssuedDiscount& d, const std::string& issued_at) {
  return EventSpec{
      "com.packbench.discount.issued.v1", d.order_id,
      json::object{{"order_id", d.order_id},
                   {"code", d.code},
                   {"campaign", d.campaign},
                   {"source", to_string(d.source)},
                   {"expires", d.expires ? json::value(format_day(*d.expires)) : json::value()},
                   {"url", d.url},
                   {"fallback", d.fallback},
                   {"issued_at", issued_at}}};
}

EventSpec insert_printed_event(const InsertPrinted& i) {
  return EventSpec{"com.packbench.insert.printed.v1", i.order_id,
                   json::object{{"order_id", i.order_id},
                                {"template", i.template_name},
                                {"locale", i.locale},
                                {"campaign", i.campaign ? json::value(*i.campaign) : json::value()},
                                {"code", i.code ? json::value(*i.code) : json::value()},
                                {"printed_at", i.printed_at}}};
}

EventSpec pool_low_event(const PoolStatus& p, const std::string& at) {
  return EventSpec{"com.packbench.discount.pool.low.v1", p.campaign,
                   json::object{{"campaign", p.campaign},
                                {"remaining", p.remaining},
                                {"low_water", p.low_water},
                                {"empty", p.remaining == 0},
                                {"at", at}}};
}

}  // namespace packbench::station::discount
