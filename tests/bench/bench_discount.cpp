// tools/dev bench discount: what an order's discount adds to the transaction that completes it.
//   floor:    a bare single-row INSERT in its own transaction, straight on the SQLite C API
//   pool:     a pool code allocated (from a pool of 20,000) and its discount.issued event written,
//             in one transaction through the store API
//   signed:   a signed code made, recorded and its event written, in one transaction
//   sign, verify: making and checking one signed code, CPU only
// Floor and pool run interleaved on the same disk, so that the ratio compares like with like.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "floor_commit.hpp"
#include "station/discount/issue.hpp"
#include "station/discount/pool.hpp"
#include "station/outbox/outbox.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pd = packbench::station::discount;
namespace pt = packbench::testing;
using Clock = std::chrono::steady_clock;

using packbench::bench::percentile;

namespace {

double since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

ps::Order order(int i) {
  boost::json::object doc{
      {"id", "ORDER-" + std::to_string(i)},
      {"customer", boost::json::object{{"name", "A"}, {"first_order", true}}},
      {"lines", boost::json::array{boost::json::object{
                    {"sku", "TEA"}, {"barcodes", boost::json::array{"4901234567894"}}}}}};
  return ps::order_from_json(doc).value();
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int pool_size = 20000;
  pt::TempDir dir;
  packbench::bench::FloorCommit floor(dir / "floor.db");

  auto db = ps::Database::open(dir / "station.db");
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().message.c_str());
    return 1;
  }
  ps::Outbox outbox(*db, "/stations/bench/pack-01");

  std::vector<std::string> codes;
  for (int i = 0; i < pool_size; ++i) {
    codes.push_back("WELCOME-" + std::to_string(100000 + i));
  }
  const auto t_import = Clock::now();
  auto imported = db->write([&] { return pd::import_codes(*db, "welcome", codes, "t0"); });
  const double import_us = since(t_import);
  if (!imported || imported->added != pool_size) {
    std::fprintf(stderr, "import failed\n");
    return 1;
  }

  pd::Campaign pool;
  pool.id = "welcome";
  pool.shop = "shop.example.com";
  pool.link_format = pd::parse_link_format(pool.link).value();
  pd::Campaign signing = pool;
  signing.id = "thanks";
  signing.source = pd::CodeSource::signed_code;
  signing.code_prefix = "THX";
  const auto key = pd::SigningKey::from_bytes(std::string(32, 'k')).value();
  const pd::IssueContext ctx{pd::Day(std::chrono::year(2026) / 11 / 22), "2026-11-22T08:00:00Z",
                             &key, 7u};

  std::vector<double> floor_us, pool_us, signed_us;
  const std::string body(300, 'x');
  for (int i = 0; i < runs; ++i) {
    floor_us.push_back(floor.commit(body));
    auto t0 = Clock::now();
    auto ok = db->write([&] {
      auto out = pd::issue_from_campaign(*db, pool, order(i), ctx);
      outbox.enqueue(pd::discount_issued_event(*out.discount, ctx.now)).value();
    });
    pool_us.push_back(since(t0));
    t0 = Clock::now();
    auto ok2 = db->write([&] {
      auto out = pd::issue_from_campaign(*db, signing, order(runs + i), ctx);
      outbox.enqueue(pd::discount_issued_event(*out.discount, ctx.now)).value();
    });
    signed_us.push_back(since(t0));
    if (!ok || !ok2) {
      std::fprintf(stderr, "%s\n", (!ok ? ok.error() : ok2.error()).message.c_str());
      return 1;
    }
  }

  const int cpu_runs = 100000;
  std::vector<std::string> made;
  made.reserve(cpu_runs);
  auto t0 = Clock::now();
  for (int i = 0; i < cpu_runs; ++i) {
    made.push_back(
        pd::make_signed_code({"THX", 7, static_cast<std::uint32_t>(i), ctx.today}, key).value());
  }
  const double sign_us = since(t0) / cpu_runs;
  t0 = Clock::now();
  int valid = 0;
  for (const auto& code : made) {
    valid += pd::verify_signed_code(code, key, ctx.today).ok() ? 1 : 0;
  }
  const double verify_us = since(t0) / cpu_runs;
  if (valid != cpu_runs) {
    std::fprintf(stderr, "verify failed\n");
    return 1;
  }

  const double f50 = percentile(floor_us, 0.5), f99 = percentile(floor_us, 0.99);
  const double p50 = percentile(pool_us, 0.5), p99 = percentile(pool_us, 0.99);
  const double s50 = percentile(signed_us, 0.5), s99 = percentile(signed_us, 0.99);
  std::printf("%d commits each, synchronous=FULL, WAL; pool of %d codes\n", runs, pool_size);
  std::printf("  bare SQLite insert+commit        p50 %8.1f us   p99 %8.1f us\n", f50, f99);
  std::printf("  pool code + event + commit       p50 %8.1f us   p99 %8.1f us\n", p50, p99);
  std::printf("  signed code + event + commit     p50 %8.1f us   p99 %8.1f us\n", s50, s99);
  std::printf("  import of %d codes in one commit: %.0f ms\n", pool_size, import_us / 1000);
  std::printf("  sign %.2f us, verify %.2f us per code\n", sign_us, verify_us);
  std::printf("BENCH discount_pool p50_us=%.1f p99_us=%.1f ratio_p50=%.2f ratio_p99=%.2f\n", p50,
              p99, p50 / f50, p99 / f99);
  std::printf("BENCH discount_signed p50_us=%.1f p99_us=%.1f ratio_p50=%.2f ratio_p99=%.2f\n", s50,
              s99, s50 / f50, s99 / f99);
  std::printf("BENCH discount_import codes=%d ms=%.0f\n", pool_size, import_us / 1000);
  std::printf("BENCH discount_code sign_us=%.2f verify_us=%.2f\n", sign_us, verify_us);
  return 0;
}
