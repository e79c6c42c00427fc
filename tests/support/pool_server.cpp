#include "pool_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace packbench::testing {

namespace json = boost::json;

PoolServer::PoolServer(std::optional<TlsFiles> tls, std::uint16_t port)
    : http_(std::move(tls), port) {
  http_.set_script(
      [this](const HttpExchange& request, std::size_t index) { return answer(request, index); });
}

void PoolServer::add_codes(const std::string& campaign, const std::vector<std::string>& codes) {
  std::lock_guard lock(mu_);
  auto& list = codes_[campaign];
  list.insert(list.end(), codes.begin(), codes.end());
}

void PoolServer::require_token(std::string token) {
  std::lock_guard lock(mu_);
  token_ = std::move(token);
}

void PoolServer::set_hold(bool hold) {
  std::lock_guard lock(mu_);
  hold_ = hold;
}

void PoolServer::set_override(Override fn) {
  std::lock_guard lock(mu_);
  override_ = std::move(fn);
}

std::map<std::string, PoolServer::Claim> PoolServer::claims() {
  std::lock_guard lock(mu_);
  return claims_;
}

std::size_t PoolServer::left(const std::string& campaign) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(campaign);
  return it == codes_.end() ? 0 : it->second.size();
}

Reply PoolServer::answer(const HttpExchange& request, std::size_t index) {
  std::lock_guard lock(mu_);
  if (override_) {
    if (auto r = override_(request, index)) {
      return *r;
    }
  }
  Reply r;
  r.headers.emplace_back("Content-Type", "application/json");
  auto refuse = [&](int status, const std::string& error) {
    r.status = status;
    r.body = json::serialize(json::object{{"error", error}});
    return r;
  };
  if (request.method != "POST") {
    return refuse(405, "POST a claim");
  }
  if (token_) {
    auto it = request.headers.find("authorization");
    if (it == request.headers.end() || it->second != "Bearer " + *token_) {
      return refuse(401, "no token");
    }
  }
  boost::system::error_code ec;
  const auto body = json::parse(request.body, ec);
  if (ec || !body.is_object()) {
    return refuse(400, "not a JSON object");
  }
  const auto& o = body.as_object();
  for (const char* key : {"claim", "station", "site", "campaign"}) {
    if (!o.contains(key) || !o.at(key).is_string() || o.at(key).as_string().empty()) {
      return refuse(400, std::string(key) + " is missing");
    }
  }
  if (!o.contains("count") || !o.at("count").is_int64() || o.at("count").as_int64() < 1) {
    return refuse(400, "count is missing");
  }
  const std::string id(o.at("claim").as_string());
  auto it = claims_.find(id);
  if (it == claims_.end()) {
    // A new claim: its codes are set aside now, for good.
    Claim c;
    c.campaign = std::string(o.at("campaign").as_string());
    c.station = std::string(o.at("station").as_string());
    c.site = std::string(o.at("site").as_string());
    c.count = static_cast<int>(o.at("count").as_int64());
    auto& list = codes_[c.campaign];
    const auto n = std::min<std::size_t>(list.size(), static_cast<std::size_t>(c.count));
    c.codes.assign(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(n));
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(n));
    it = claims_.emplace(id, std::move(c)).first;
  } else if (it->second.campaign != std::string(o.at("campaign").as_string()) ||
             it->second.count != o.at("count").as_int64()) {
    return refuse(422, "the claim " + id + " was made for something else");
  }
  ++it->second.asked;
  json::array codes;
  for (const auto& c : it->second.codes) {
    codes.push_back(json::value(c));
  }
  r.body = json::serialize(json::object{{"claim", id}, {"codes", std::move(codes)}});
  r.hold = hold_;
  return r;
}

}  // namespace packbench::testing
