// tools/dev bench labels: what a thank-you insert costs, and our Z64 encoder beside zpl-image.
//
//   insert:       the thank-you insert (4 x 6 in: logo, Japanese text, a discount QR code and its
//                 code) rendered and encoded for a printer profile, end to end, per insert:
//                 zpl-203, zpl-300 and escpos-80mm. Median and p99, and the size of the bytes.
//   side by side: the 203 dpi (and 300 dpi) insert's bitmap encoded to Z64 by us
//                 (zpl_graphic_field: bands within the ^GF limits, white margins trimmed) and by
//                 the npm package zpl-image 0.3.0 (rgbaToZ64) under Node.js, a child process.
//                 Its ^GF is decoded with our decoder and must give the same bitmap bit for bit.
//   DataMatrix:   render_barcode of a GS1 DataMatrix (GTIN, expiry, batch, serial: 22x22) and
//                 of the largest square symbol (144x144), encoder and drawing, per symbol.
//
//   bench_labels [RUNS [PREVIEW_DIR]]
//     RUNS: 200 by default, each measurement after 20 untimed warm-up runs
//     PREVIEW_DIR: where to write each profile's insert as a PNG, to look at
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "floor_commit.hpp"
#include "packbench/labels/bitmap.hpp"
#include "packbench/labels/codes.hpp"
#include "packbench/labels/escpos.hpp"
#include "packbench/labels/image.hpp"
#include "packbench/labels/png.hpp"
#include "packbench/labels/template.hpp"
#include "packbench/labels/text.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"
#include "support.hpp"
#include "zpl_image_peer.hpp"

namespace pb = packbench::bench;
namespace pl = packbench::labels;
namespace pt = packbench::testing;
using Clock = std::chrono::steady_clock;

using packbench::bench::percentile;

namespace {

constexpr int kWarmup = 20;

// The order and station values the insert is filled with, named as station/print/label_data
// names them: a first-time Japanese customer with a discount for the next order.
pl::LabelData insert_data() {
  pl::LabelData d;
  d.locale = "ja";
  d.values = {
      {"customer.name", "山田 花子"},
      {"order.id", "JP-100234"},
      {"customer.first_order", "true"},
      {"customer.returning", "false"},
      {"shop.name", "お茶の店 みどり"},
      {"shop.url", "https://shop.example.jp"},
      {"station.id", "pack-01"},
      {"discount.code", "THANKS-7Q4K-M2XP"},
      {"discount.percent", "10"},
      {"discount.expires", "2027-03-31"},
      {"discount.url",
       "https://shop.example.jp/discount/THANKS-7Q4K-M2XP?redirect=/collections/tea"
       "&utm_source=insert&utm_medium=qr"},
  };
  return d;
}

// One insert as a printer gets it: the bytes, and the raster they carry (the preview).
struct Insert {
  std::string error;  // empty when rendered
  int dpi = 0;
  pl::Bitmap raster;  // every element, as the preview shows it
  std::string bytes;  // ZPL or ESC/POS
};

// What the inserts below were drawn by, for the report.
const char* insert_source();
Insert render_insert(std::string_view profile_name);

// ---------------------------------------------------------------------------------------------
// The insert from the built-in thank-you template and the built-in printer profiles.

const char* insert_source() {
  return "the built-in template thank-you (locale ja)";
}

Insert render_insert(std::string_view profile_name) {
  // Parsed once, as the station keeps its templates; rendering and encoding are measured.
  static const pl::ParsedTemplate tmpl = pl::builtin_template("thank-you");
  static const pl::LabelData data = insert_data();
  Insert out;
  if (!tmpl) {
    out.error = tmpl.problems.empty() ? "thank-you: no template" : tmpl.problems[0].to_string();
    return out;
  }
  const auto profile = pl::builtin_profile(profile_name);
  if (!profile) {
    out.error = "no built-in profile " + std::string(profile_name);
    return out;
  }
  pl::RenderedLabel rendered = pl::render_label(*tmpl.value, data, *profile);
  if (!rendered) {
    out.error = rendered.error;
    return out;
  }
  pl::LabelOutput encoded = pl::encode_label(rendered, *profile, profile->language);
  if (!encoded) {
    out.error = encoded.error;
    return out;
  }
  out.dpi = rendered.dpi;
  out.raster = std::move(rendered.preview);
  out.bytes = std::move(encoded.bytes);
  return out;
}

// ---------------------------------------------------------------------------------------------

// Samples of one measured call: wall-clock and this thread's CPU time, in milliseconds.
struct Samples {
  std::vector<double> wall;
  std::vector<double> cpu;
  void add(const pb::CallTime& t) {
    wall.push_back(t.wall_ms);
    cpu.push_back(t.cpu_ms);
  }
  double median() const { return percentile(wall, 0.5); }
  double p99() const { return percentile(wall, 0.99); }
  double cpu_median() const { return percentile(cpu, 0.5); }
};

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// One call of `fn`, timed.
pb::CallTime timed(const std::function<void()>& fn) {
  const double c0 = thread_cpu_ms();
  const auto t0 = Clock::now();
  fn();
  const auto wall = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return {wall, thread_cpu_ms() - c0};
}

// `runs` timed calls of `fn` after kWarmup untimed ones.
Samples measure(int runs, const std::function<void()>& fn) {
  for (int i = 0; i < kWarmup; ++i) {
    fn();
  }
  Samples s;
  for (int i = 0; i < runs; ++i) {
    s.add(timed(fn));
  }
  return s;
}

double black_share(const pl::Bitmap& bm) {
  long black = 0;
  for (const auto b : bm.bytes()) {
    black += __builtin_popcount(b);
  }
  return 100.0 * static_cast<double>(black) / (static_cast<double>(bm.width()) * bm.height());
}

const char* verdict(bool met) {
  return met ? "met" : "MISSED";
}

struct SideBySide {
  bool ok = false;
  double bytes_ratio = 0;  // ours / the peer's smaller
  double time_ratio = 0;   // ours / the peer's faster, wall-clock medians
  double cpu_ratio = 0;    // the same on CPU time
  bool speed_met = false;  // at least 5x faster on both
};

// Whether zpl-image's lone ^GF holds exactly `expected`: read by our decoder when it is within
// the ^GF limit; over it (where our decoder, like a printer, refuses it), its CRC checked and its
// data inflated and compared.
std::string check_peer_gf(const std::string& gf, const pl::Bitmap& expected) {
  if (static_cast<long>(expected.bytes().size()) > pl::kGfMaxBytes) {
    return pb::check_oversized_z64(gf, expected);
  }
  const auto back = pb::decode_lone_gf(gf);
  if (!back.ok()) {
    return back.error;
  }
  return pb::same_dots(back.bitmap, expected) ? "" : "decodes to other dots";
}

// Our Z64 encoding of `bm` beside zpl-image's, on the same bitmap. Each round runs every
// encoding once, ours and the peer's one after the other, so that both meet the same machine.
SideBySide side_by_side(const pb::ZplImagePeer& peer, const pl::Bitmap& bm, int dpi, int runs,
                        const std::filesystem::path& dir) {
  SideBySide result;
  const pl::LabelSize size{.dpi = dpi};
  const int band_rows = pl::zpl_band_rows(bm.stride());
  pb::ZplImageProcess process(peer, bm, dir, band_rows);
  if (!process.ok()) {
    std::fprintf(stderr, "bench_labels: %s\n", process.error().c_str());
    return result;
  }
  const pb::PeerOutputs& run = process.outputs();

  std::string fields;
  std::string one;
  const char* peer_encodings[] = {"whole", "trimmed", "banded", "deflate"};
  Samples ours, ours_one, peer_s[4];
  for (int i = 0; i < kWarmup + runs; ++i) {
    const bool keep = i >= kWarmup;
    const auto t = timed([&] { fields = pl::zpl_graphic_field(bm, 0, 0); });
    const auto t_one = timed([&] { one = pl::zpl_z64_data(bm); });
    if (keep) {
      ours.add(t);
      ours_one.add(t_one);
    }
    for (int e = 0; e < 4; ++e) {
      const auto pt = process.time(peer_encodings[e]);
      if (!pt) {
        std::fprintf(stderr, "bench_labels: %s\n", process.error().c_str());
        return result;
      }
      if (keep) {
        peer_s[e].add(*pt);
      }
    }
  }
  const Samples& whole_s = peer_s[0];
  const Samples& trimmed_s = peer_s[1];
  const Samples& banded_s = peer_s[2];
  const Samples& deflate_s = peer_s[3];
  const std::string one_gf = "^GFA," + std::to_string(bm.bytes().size()) + "," +
                             std::to_string(bm.bytes().size()) + "," + std::to_string(bm.stride()) +
                             "," + one;

  // The same dots, or the comparison means nothing.
  const auto box = pb::ink_bounds(bm);
  const auto ours_back =
      pl::zpl_decode_graphics(pl::zpl_format(size, fields), bm.width(), bm.height());
  const auto banded_back =
      pl::zpl_decode_graphics(pl::zpl_format(size, run.banded.gf), bm.width(), bm.height());
  const std::string whole_check = check_peer_gf(run.whole.gf, bm);
  const std::string trimmed_check = check_peer_gf(run.trimmed.gf, pb::crop(bm, box));
  std::string mismatch;
  if (!ours_back.ok() || ours_back.bitmap != bm) {
    mismatch = "our ^GF bands do not decode to the insert " + ours_back.error;
  } else if (!banded_back.ok() || banded_back.bitmap != bm) {
    mismatch = "zpl-image's ^GF bands do not decode to the insert " + banded_back.error;
  } else if (!whole_check.empty()) {
    mismatch = "zpl-image's ^GF (notrim): " + whole_check;
  } else if (!trimmed_check.empty()) {
    mismatch = "zpl-image's ^GF (trimmed): " + trimmed_check;
  }
  if (!mismatch.empty()) {
    std::fprintf(stderr, "bench_labels: %s\n", mismatch.c_str());
    return result;
  }

  int bands = 0;
  const std::size_t our_gf = pb::gf_bytes(fields, &bands);
  const auto format_bytes = [&](const std::string& body) {
    return pl::zpl_format(size, body).size();
  };
  const auto at = [](int x, int y) { return "^FO" + std::to_string(x) + "," + std::to_string(y); };
  const std::size_t our_format = format_bytes(fields);

  std::printf(
      "\nside by side at %d dpi: Z64 of the same %d x %d bitmap, %d rounds after %d "
      "warm-up, each encoding once a round\n",
      dpi, bm.width(), bm.height(), runs, kWarmup);
  std::printf("  %-55s %9s %9s %9s %9s %9s\n", "", "^GF bytes", "format", "median", "p99", "cpu");
  const auto row = [](const std::string& what, std::string gf, std::string format,
                      const Samples& t) {
    std::printf("  %-55s %9s %9s %6.2f ms %6.2f ms %6.2f ms\n", what.c_str(), gf.c_str(),
                format.c_str(), t.median(), t.p99(), t.cpu_median());
  };
  const auto n = [](std::size_t v) { return std::to_string(v); };
  const auto over = [&](long c, int d) {
    return c > pl::kGfMaxBytes ? " *" + std::to_string(pl::kGfMaxBytes / d) : std::string();
  };
  const long bm_bytes = static_cast<long>(bm.bytes().size());
  row("ours: zpl_graphic_field (" + std::to_string(bands) + " bands, trimmed)", n(our_gf),
      n(our_format), ours);
  row("ours: zpl_z64_data, one ^GF" + over(bm_bytes, bm.stride()), n(one_gf.size()),
      n(format_bytes(at(0, 0) + one_gf + "^FS")), ours_one);
  const std::string peer_name = "zpl-image " + run.version + " rgbaToZ64";
  row(peer_name + " {notrim}, one ^GF" + over(bm_bytes, bm.stride()), n(run.whole.bytes),
      n(format_bytes(at(0, 0) + run.whole.gf + "^FS")), whole_s);
  const int trimmed_stride = (run.trimmed.width + 7) / 8;
  row(peer_name + ", trimmed to " + std::to_string(run.trimmed.width) + " x " +
          std::to_string(run.trimmed.height) +
          over(static_cast<long>(trimmed_stride) * run.trimmed.height, trimmed_stride),
      n(run.trimmed.bytes), n(format_bytes(at(box.x, box.y) + run.trimmed.gf + "^FS")), trimmed_s);
  row(peer_name + " {notrim}, per band (" + std::to_string(run.bands) + ")", n(run.banded.bytes),
      n(format_bytes(run.banded.gf)), banded_s);
  row("  (node " + run.node + ": zlib deflate + base64 alone)", "", "", deflate_s);
  if (bm_bytes > pl::kGfMaxBytes) {
    std::printf(
        "  *N: one ^GF over the printer's limit of %d bytes: a printer keeps its first N "
        "of %d rows\n",
        pl::kGfMaxBytes, bm.height());
  }
  std::printf("  same dots: every zpl-image output above holds this bitmap bit for bit\n");

  // Against the peer's best on each count: its smallest output and its fastest call.
  const double peer_bytes =
      static_cast<double>(std::min({run.whole.bytes, run.trimmed.bytes, run.banded.bytes}));
  const double peer_ms = std::min({whole_s.median(), trimmed_s.median(), banded_s.median()});
  const double peer_cpu =
      std::min({whole_s.cpu_median(), trimmed_s.cpu_median(), banded_s.cpu_median()});
  result.bytes_ratio = static_cast<double>(our_gf) / peer_bytes;
  result.time_ratio = ours.median() / peer_ms;
  result.cpu_ratio = ours.cpu_median() / peer_cpu;
  // A busy machine stretches a longer call's wall time more (it is preempted more often), so
  // the speed goal must hold on CPU time too.
  const double speedup = 1.0 / std::max(result.time_ratio, result.cpu_ratio);
  result.speed_met = speedup >= 5.0;
  std::printf(
      "  payload: ours / the peer's smallest %.3f; per band, like for like, %.3f   "
      "goal <= 1: %s\n",
      result.bytes_ratio, static_cast<double>(our_gf) / static_cast<double>(run.banded.bytes),
      verdict(result.bytes_ratio <= 1.0));
  std::printf(
      "  time: ours / the peer's fastest %.3f (%.1fx faster), on CPU time %.3f (%.1fx)   "
      "goal >= 5x on both: %s\n",
      result.time_ratio, 1.0 / result.time_ratio, result.cpu_ratio, 1.0 / result.cpu_ratio,
      verdict(result.speed_met));
  std::printf(
      "BENCH labels_z64_side_by_side_%d ours_gf_bytes=%zu peer_gf_bytes=%.0f bytes_ratio=%.3f "
      "ours_p50_ms=%.3f ours_p99_ms=%.3f ours_cpu_p50_ms=%.3f peer_p50_ms=%.3f "
      "peer_cpu_p50_ms=%.3f time_ratio=%.3f cpu_ratio=%.3f\n",
      dpi, our_gf, peer_bytes, result.bytes_ratio, ours.median(), ours.p99(), ours.cpu_median(),
      peer_ms, peer_cpu, result.time_ratio, result.cpu_ratio);
  result.ok = true;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::string preview_dir = argc > 2 ? argv[2] : "";
  if (runs < 1) {
    std::fprintf(stderr, "usage: bench_labels [RUNS [PREVIEW_DIR]]\n");
    return 2;
  }
  // Checked first: a missing peer should not cost the whole run.
  const auto peer = pb::find_zpl_image_peer();
  if (!peer.ok()) {
    std::fprintf(stderr, "bench_labels: %s\n", peer.error.c_str());
    return 1;
  }

  // The machine is often shared: say how busy it was, since every figure below is wall time.
  double load = 0;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) {
      load = 0;
    }
    std::fclose(f);
  }
  std::printf("%u cores, load average %.1f at the start; times are wall-clock\n",
              std::thread::hardware_concurrency(), load);
  std::printf("thank-you insert, %s\n", insert_source());
  std::printf("render + encode per insert, %d runs after %d warm-up\n", runs, kWarmup);
  std::printf("  %-12s %-14s %8s %9s %9s %9s %10s\n", "profile", "raster", "black", "median", "p99",
              "cpu", "bytes");
  struct Result {
    std::string profile;
    Insert insert;
    Samples t;
  };
  std::vector<Result> results;
  for (const char* name : {"zpl-203", "zpl-300", "escpos-80mm"}) {
    Result r{name, {}, {}};
    std::string error;
    r.t = measure(runs, [&] {
      r.insert = render_insert(name);
      if (!r.insert.error.empty()) {
        error = r.insert.error;
      }
    });
    if (!preview_dir.empty() && !r.insert.raster.bytes().empty()) {
      const auto path = preview_dir + "/thank-you-" + name + ".png";
      if (const auto failed = pl::png_write_file(r.insert.raster, path, r.insert.dpi)) {
        std::fprintf(stderr, "bench_labels: %s\n", failed->c_str());
      }
    }
    if (!error.empty()) {
      std::fprintf(stderr, "bench_labels: %s: %s\n", name, error.c_str());
      return 1;
    }
    const auto& bm = r.insert.raster;
    std::printf("  %-12s %4d x %-7d %7.1f%% %6.2f ms %6.2f ms %6.2f ms %10zu\n", name, bm.width(),
                bm.height(), black_share(bm), r.t.median(), r.t.p99(), r.t.cpu_median(),
                r.insert.bytes.size());
    results.push_back(std::move(r));
  }
  const bool insert_goal = results[0].t.median() <= 10.0;
  std::printf("  zpl-203 median %.2f ms (cpu %.2f ms)   goal <= 10 ms: %s\n", results[0].t.median(),
              results[0].t.cpu_median(), verdict(insert_goal));
  for (const auto& r : results) {
    std::printf("BENCH labels_insert_%s p50_ms=%.3f p99_ms=%.3f cpu_p50_ms=%.3f bytes=%zu\n",
                r.profile.c_str(), r.t.median(), r.t.p99(), r.t.cpu_median(),
                r.insert.bytes.size());
  }

  // The shipping label stationd prints as each box is closed, inside the pack transaction: the
  // built-in template with an address, the order id in Code 128 and the SSCC in GS1-128.
  {
    static const pl::ParsedTemplate tmpl = pl::builtin_template("shipping-label");
    pl::LabelData data;
    data.locale = "en";
    data.values = {{"order.id", "JP-100234"},
                   {"ship_from.name", "Packbench Tea Co."},
                   {"ship_from.address", "9-6 Otemachi, Aoi-ku, Shizuoka, Japan"},
                   {"ship_to.name", "Alex Morgan"},
                   {"ship_to.address", "221 Baker Street\nFlat 2\nLondon NW1 6XE\nUnited Kingdom"},
                   {"box.number", "1"},
                   {"box.count", "2"},
                   {"box.items", "3"},
                   {"shipment.sscc", "095200001000000018"}};
    std::printf("\nshipping label per parcel (template shipping-label, en)\n");
    for (const char* name : {"zpl-203", "zpl-300"}) {
      const auto profile = pl::builtin_profile(name);
      std::string bytes;
      std::string error;
      const Samples t = measure(runs, [&] {
        const pl::RenderedLabel r = pl::render_label(*tmpl.value, data, *profile);
        const pl::LabelOutput out = pl::encode_label(r, *profile, pl::OutputFormat::zpl);
        bytes = out.bytes;
        error = out.ok ? "" : out.error;
      });
      if (!error.empty()) {
        std::fprintf(stderr, "bench_labels: shipping label %s: %s\n", name, error.c_str());
        return 1;
      }
      std::printf("  %-12s %6.2f ms %6.2f ms %6.2f ms %10zu\n", name, t.median(), t.p99(),
                  t.cpu_median(), bytes.size());
      std::printf("BENCH labels_shipping_%s p50_ms=%.3f p99_ms=%.3f cpu_p50_ms=%.3f bytes=%zu\n",
                  name, t.median(), t.p99(), t.cpu_median(), bytes.size());
    }
  }

  // DataMatrix, our own ECC 200 encoder: a GS1 product code and the largest symbol there is.
  std::printf("\nDataMatrix per symbol (render_barcode at 203 dpi, 4 dots per module)\n");
  struct DataMatrixCase {
    const char* name;
    pl::BarcodeType type;
    std::string data;
  };
  const std::vector<DataMatrixCase> dm_cases = {
      {"gs1", pl::BarcodeType::gs1_datamatrix, "(01)09506000134352(17)261231(10)ABC123(21)XYZ0001"},
      {"144x144", pl::BarcodeType::datamatrix, std::string(3116, '7')},
  };
  for (const auto& c : dm_cases) {
    pl::CodeRaster code;
    const Samples t =
        measure(runs, [&] { code = pl::render_barcode(c.data, pl::BarcodeSpec{.type = c.type}); });
    if (!code) {
      std::fprintf(stderr, "bench_labels: DataMatrix %s: %s\n", c.name, code.error.c_str());
      return 1;
    }
    std::printf("  %-8s %3d x %-3d modules, %4zu bytes of data   %7.3f ms %7.3f ms\n", c.name,
                code.modules_high, code.modules_wide, c.data.size(), t.median(), t.p99());
    std::printf("BENCH labels_datamatrix_%s p50_ms=%.4f p99_ms=%.4f modules=%d\n", c.name,
                t.median(), t.p99(), code.modules_wide);
  }

  pt::TempDir dir;
  const auto at203 = side_by_side(peer, results[0].insert.raster, 203, runs, dir.path());
  const auto at300 = side_by_side(peer, results[1].insert.raster, 300, runs, dir.path());
  if (!at203.ok || !at300.ok) {
    return 1;
  }
  std::printf(
      "\ngoals (203 dpi insert): median <= 10 ms %s; payload <= peer %s; encoding >= 5x "
      "faster than peer %s\n",
      verdict(insert_goal), verdict(at203.bytes_ratio <= 1.0), verdict(at203.speed_met));
  return 0;
}
