// tools/dev bench store: what a committed change costs with synchronous=FULL.
//   floor:  a bare single-row INSERT in its own transaction, straight on the SQLite C API
//   outbox: one CloudEvent written to the outbox through the store API, in its own transaction
// Both run side by side on the same disk, interleaved, so that the ratio compares like with like.
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>
#include <vector>

#include "floor_commit.hpp"
#include "station/outbox/outbox.hpp"
#include "support.hpp"

namespace ps = packbench::station;
namespace pt = packbench::testing;
using Clock = std::chrono::steady_clock;

using packbench::bench::percentile;

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 2000;
  pt::TempDir dir;
  packbench::bench::FloorCommit floor(dir / "floor.db");

  auto db = ps::Database::open(dir / "station.db");
  if (!db) {
    std::fprintf(stderr, "%s\n", db.error().message.c_str());
    return 1;
  }
  ps::Outbox outbox(*db, "/stations/bench/pack-01");
  const std::string body(300, 'x');

  std::vector<double> floor_us;
  std::vector<double> outbox_us;
  for (int i = 0; i < runs; ++i) {
    floor_us.push_back(floor.commit(body));
    auto t1 = Clock::now();
    auto ok = db->write([&] {
      outbox
          .enqueue({"com.packbench.bench.done.v1", "ORDER-" + std::to_string(i),
                    boost::json::object{{"i", i}, {"pad", body.substr(0, 200)}}})
          .value();
    });
    auto t2 = Clock::now();
    if (!ok) {
      std::fprintf(stderr, "%s\n", ok.error().message.c_str());
      return 1;
    }
    outbox_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }

  const double f50 = percentile(floor_us, 0.5), f99 = percentile(floor_us, 0.99);
  const double o50 = percentile(outbox_us, 0.5), o99 = percentile(outbox_us, 0.99);
  std::printf("%d commits each, synchronous=FULL, WAL\n", runs);
  std::printf("  bare SQLite insert+commit   p50 %8.1f us   p99 %8.1f us\n", f50, f99);
  std::printf("  outbox enqueue+commit       p50 %8.1f us   p99 %8.1f us\n", o50, o99);
  std::printf("BENCH store_commit floor_p50_us=%.1f floor_p99_us=%.1f\n", f50, f99);
  std::printf("BENCH store_outbox_enqueue p50_us=%.1f p99_us=%.1f ratio_p50=%.2f ratio_p99=%.2f\n",
              o50, o99, o50 / f50, o99 / f99);
  return 0;
}
