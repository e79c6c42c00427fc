#include "feed_server.hpp"

#include <boost/json/serialize.hpp>

namespace packbench::testing {

namespace json = boost::json;

namespace {

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

FeedServer::FeedServer(std::optional<TlsFiles> tls, std::uint16_t port)
    : http_(std::move(tls), port) {
  http_.set_script(
      [this](const HttpExchange& request, std::size_t index) { return answer(request, index); });
}

std::string FeedServer::query_param(const std::string& target, const std::string& name) {
  const auto q = target.find('?');
  if (q == std::string::npos) {
    return "";
  }
  std::size_t at = q + 1;
  while (at <= target.size()) {
    auto end = target.find('&', at);
    if (end == std::string::npos) {
      end = target.size();
    }
    const std::string pair = target.substr(at, end - at);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1));
    }
    at = end + 1;
  }
  return "";
}

void FeedServer::add_order(json::object order, std::int64_t version) {
  order["version"] = version;
  std::lock_guard lock(mu_);
  log_.emplace_back(false, std::move(order));
}

void FeedServer::cancel(const std::string& id, std::optional<std::int64_t> version,
                        const std::string& reason) {
  json::object c{{"id", id}};
  if (version) {
    c["version"] = *version;
  }
  if (!reason.empty()) {
    c["reason"] = reason;
  }
  std::lock_guard lock(mu_);
  log_.emplace_back(true, std::move(c));
}

void FeedServer::set_page_size(std::size_t n) {
  std::lock_guard lock(mu_);
  page_size_ = n;
}

void FeedServer::require_token(std::string token) {
  std::lock_guard lock(mu_);
  token_ = std::move(token);
}

void FeedServer::set_override(Override fn) {
  std::lock_guard lock(mu_);
  override_ = std::move(fn);
}

std::size_t FeedServer::entries() {
  std::lock_guard lock(mu_);
  return log_.size();
}

std::size_t FeedServer::pages_served() {
  std::lock_guard lock(mu_);
  return pages_served_;
}

std::size_t FeedServer::not_modified() {
  std::lock_guard lock(mu_);
  return not_modified_;
}

Reply FeedServer::answer(const HttpExchange& request, std::size_t index) {
  std::lock_guard lock(mu_);
  if (override_) {
    if (auto r = override_(request, index)) {
      return *r;
    }
  }
  Reply r;
  r.headers.emplace_back("Content-Type", "application/json");
  if (request.method != "GET") {
    r.status = 405;
    r.body = R"({"error":"GET the feed"})";
    return r;
  }
  if (token_) {
    auto it = request.headers.find("authorization");
    if (it == request.headers.end() || it->second != "Bearer " + *token_) {
      r.status = 401;
      r.body = R"({"error":"no token"})";
      return r;
    }
  }
  const std::string cursor = query_param(request.target, "cursor");
  std::size_t from = 0;
  if (!cursor.empty()) {
    if (cursor.size() < 2 || cursor[0] != 'c' ||
        cursor.find_first_not_of("0123456789", 1) != std::string::npos) {
      r.status = 400;
      r.body = R"({"error":"unknown cursor"})";
      return r;
    }
    from = std::min<std::size_t>(std::stoul(cursor.substr(1)), log_.size());
  }
  // The answer to this URL changes only when the log grows past the cursor.
  const std::string etag = "\"c" + std::to_string(from) + "-n" + std::to_string(log_.size()) + "\"";
  r.headers.emplace_back("ETag", etag);
  if (auto it = request.headers.find("if-none-match");
      it != request.headers.end() && it->second == etag) {
    ++not_modified_;
    r.status = 304;
    return r;
  }
  std::size_t limit = page_size_;
  if (const std::string l = query_param(request.target, "limit"); !l.empty()) {
    limit = std::min<std::size_t>(limit, std::stoul(l));
  }
  const std::size_t to = std::min(log_.size(), from + limit);
  json::array orders;
  json::array cancelled;
  for (std::size_t i = from; i < to; ++i) {
    (log_[i].first ? cancelled : orders).push_back(log_[i].second);
  }
  r.body = json::serialize(json::object{{"orders", std::move(orders)},
                                        {"cancelled", std::move(cancelled)},
                                        {"cursor", "c" + std::to_string(to)},
                                        {"more", to < log_.size()}});
  ++pages_served_;
  return r;
}

}  // namespace packbench::testing
