// The peer of tools/dev bench labels: the npm package zpl-image (tests/bench/peer/, pinned in
// its package-lock.json, installed by tools/dev setup with `npm ci`), run by Node.js as a child
// process on a bitmap we hand it as a PBM file. Shared by the benchmark and by the test that
// checks its output decodes, with our own ^GF decoder, to our bitmap bit for bit.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "packbench/labels/bitmap.hpp"
#include "packbench/labels/zpl.hpp"
#include "packbench/labels/zpl_graphic.hpp"
#include "support.hpp"

#ifndef PACKBENCH_ZPL_IMAGE_PEER_DIR
#error "PACKBENCH_ZPL_IMAGE_PEER_DIR must name tests/bench/peer"
#endif

namespace packbench::bench {

inline constexpr std::string_view kZplImageVersion = "0.3.0";

inline std::filesystem::path zpl_image_peer_dir() {
  return PACKBENCH_ZPL_IMAGE_PEER_DIR;
}

// The first executable `name` in the folders of PATH.
inline std::optional<std::filesystem::path> find_on_path(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) {
      continue;
    }
    const auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

// Node.js and the pinned zpl-image, or why they cannot run (and what to do about it).
struct ZplImagePeer {
  std::filesystem::path node;
  std::filesystem::path script;
  std::string error;
  bool ok() const { return error.empty(); }
};

inline ZplImagePeer find_zpl_image_peer() {
  ZplImagePeer peer;
  const auto dir = zpl_image_peer_dir();
  peer.script = dir / "zpl_image_bench.mjs";
  const auto node = find_on_path("node");
  if (!node) {
    peer.error =
        "node is not on PATH: run tools/dev setup (it installs Debian's nodejs and npm, then the "
        "benchmark's npm packages)";
    return peer;
  }
  peer.node = *node;
  const auto manifest = dir / "node_modules" / "zpl-image" / "package.json";
  std::string version;
  if (std::filesystem::exists(manifest)) {
    boost::system::error_code ec;
    const auto json = boost::json::parse(testing::read_file(manifest), ec);
    if (!ec && json.is_object() && json.as_object().contains("version") &&
        json.at("version").is_string()) {
      version = json.at("version").as_string().c_str();
    }
  }
  if (version != kZplImageVersion) {
    peer.error = "zpl-image " + std::string(kZplImageVersion) + " is not installed in " +
                 dir.string() + (version.empty() ? "" : " (found " + version + ")") +
                 ": run tools/dev setup (it runs npm ci there)";
  }
  return peer;
}

// A binary PBM (Netpbm P4): the same rows of ceil(width/8) bytes, 1 = black, as a Bitmap.
inline std::string pbm_p4(const labels::Bitmap& bitmap) {
  std::string out =
      "P4\n" + std::to_string(bitmap.width()) + " " + std::to_string(bitmap.height()) + "\n";
  out.append(bitmap.bytes().begin(), bitmap.bytes().end());
  return out;
}

// One of zpl-image's outputs for the bitmap.
struct PeerEncoding {
  std::size_t bytes = 0;  // of its ^GF commands ("^GF" and parameters; deflate: base64 text)
  std::string gf;         // "^GFA,b,c,d,:Z64:...:crc", as zpl-image's README assembles it
  int width = 0;          // of the bitmap it encoded (after its trim)
  int height = 0;
};

struct PeerOutputs {
  std::string version;   // of zpl-image, as installed
  std::string node;      // of Node.js
  PeerEncoding whole;    // rgbaToZ64(..., {notrim: true})
  PeerEncoding trimmed;  // rgbaToZ64(...), its default: white margins cropped
  // rgbaToZ64(band, ..., {notrim: true}) per band: gf holds "^FO0,y^GFA,...^FS" for each band.
  PeerEncoding banded;
  int bands = 0;
  PeerEncoding deflate;  // node's zlib.deflateSync + base64 alone
};

// Bytes of the ^GF commands of a ZPL stream ("^GF" and its parameters, every band), and how
// many there are.
inline std::size_t gf_bytes(std::string_view zpl, int* fields = nullptr) {
  std::size_t n = 0;
  int count = 0;
  for (const auto& c : labels::zpl_tokenize(zpl)) {
    if (c.name == "^GF") {
      n += c.name.size() + c.params.size();
      ++count;
    }
  }
  if (fields != nullptr) {
    *fields = count;
  }
  return n;
}

// One call's cost: wall-clock and CPU time, in milliseconds.
struct CallTime {
  double wall_ms = 0;
  double cpu_ms = 0;
};

// zpl_image_bench.mjs running on one bitmap: its outputs, and a pipe to ask it for one more
// timed call at a time, so that its runs and ours can alternate on the same machine.
class ZplImageProcess {
 public:
  // Starts the peer on `bitmap` (bands of `band_rows` rows for the banded encoding) and reads
  // what it made. Files go to `work_dir`.
  ZplImageProcess(const ZplImagePeer& peer, const labels::Bitmap& bitmap,
                  const std::filesystem::path& work_dir, int band_rows)
      : err_path_(work_dir / "zpl-image.err") {
    // A peer that dies must give an error here, not end this process on its next request.
    ::signal(SIGPIPE, SIG_IGN);
    const auto pbm = work_dir / "bitmap.pbm";
    testing::write_file(pbm, pbm_p4(bitmap));
    std::vector<std::string> args = {peer.node.string(), peer.script.string(), pbm.string(),
                                     work_dir.string(), std::to_string(band_rows)};
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      error_ = "pipe failed";
      return;
    }
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err);
    to_peer_ = in[1];
    from_peer_ = out[0];
    if (pid_ < 0) {
      error_ = "fork failed";
      return;
    }
    const auto line = read_line();
    if (!line) {
      return;
    }
    boost::system::error_code ec;
    const auto json = boost::json::parse(*line, ec);
    if (ec || !json.is_object()) {
      error_ = "zpl-image peer printed no JSON: " + *line;
      return;
    }
    try {
      outputs_.version = json.at("version").as_string().c_str();
      outputs_.node = json.at("node").as_string().c_str();
      const auto read = [&](const char* name) {
        const auto& o = json.at(name).as_object();
        PeerEncoding e;
        if (o.contains("gf")) {
          e.gf = testing::read_file(o.at("gf").as_string().c_str());
          e.bytes = gf_bytes(e.gf);
        } else {
          e.bytes = o.at("bytes").to_number<std::size_t>();
        }
        if (o.contains("width")) {
          e.width = o.at("width").to_number<int>();
          e.height = o.at("height").to_number<int>();
        }
        return e;
      };
      outputs_.whole = read("whole");
      outputs_.trimmed = read("trimmed");
      outputs_.banded = read("banded");
      outputs_.bands = json.at("banded").at("bands").to_number<int>();
      outputs_.deflate = read("deflate");
    } catch (const std::exception& e) {
      error_ = std::string("zpl-image peer's JSON is not as expected: ") + e.what() + ": " + *line;
    }
  }

  ~ZplImageProcess() {
    if (to_peer_ >= 0) {
      ::close(to_peer_);  // its stdin ends, and so does it
    }
    if (from_peer_ >= 0) {
      ::close(from_peer_);
    }
    if (pid_ > 0) {
      int status = 0;
      if (!testing::wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                               std::chrono::seconds(30))) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
  }
  ZplImageProcess(const ZplImageProcess&) = delete;
  ZplImageProcess& operator=(const ZplImageProcess&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const PeerOutputs& outputs() const { return outputs_; }

  // Runs `encoding` ("whole", "trimmed", "banded", "deflate") once more in the peer: the time
  // of that call alone, as the peer measured it, or nullopt (and error()) when it failed.
  std::optional<CallTime> time(std::string_view encoding) {
    if (!ok()) {
      return std::nullopt;
    }
    const std::string request = std::string(encoding) + "\n";
    if (::write(to_peer_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      error_ = "zpl-image peer stopped reading: " + testing::read_file(err_path_);
      return std::nullopt;
    }
    const auto line = read_line();
    CallTime t;
    if (!line || std::sscanf(line->c_str(), "%lf %lf", &t.wall_ms, &t.cpu_ms) != 2) {
      if (ok()) {
        error_ = "zpl-image peer answered '" + line.value_or("") + "'";
      }
      return std::nullopt;
    }
    return t;
  }

 private:
  // One line from the peer's stdout; nullopt (and error_) when it ends or says nothing for a
  // minute.
  std::optional<std::string> read_line() {
    for (;;) {
      if (const std::size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p{from_peer_, POLLIN, 0};
      char chunk[4096];
      const ssize_t n = ::poll(&p, 1, 60'000) == 1 ? ::read(from_peer_, chunk, sizeof chunk) : -1;
      if (n <= 0) {
        error_ = "zpl-image peer " + std::string(n == 0 ? "ended" : "said nothing for a minute") +
                 ": " + testing::read_file(err_path_);
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int to_peer_ = -1;
  int from_peer_ = -1;
  std::filesystem::path err_path_;
  std::string buffer_;
  std::string error_;
  PeerOutputs outputs_;
};

// The smallest rectangle holding every black dot: what zpl-image keeps when it trims.
struct InkBounds {
  int x = 0, y = 0, width = 0, height = 0;
};
inline InkBounds ink_bounds(const labels::Bitmap& bitmap) {
  int min_x = bitmap.width(), min_y = bitmap.height(), max_x = -1, max_y = -1;
  for (int y = 0; y < bitmap.height(); ++y) {
    for (int x = 0; x < bitmap.width(); ++x) {
      if (bitmap.get(x, y)) {
        min_x = std::min(min_x, x);
        max_x = std::max(max_x, x);
        min_y = std::min(min_y, y);
        max_y = std::max(max_y, y);
      }
    }
  }
  if (max_x < 0) {
    return {};
  }
  return {min_x, min_y, max_x - min_x + 1, max_y - min_y + 1};
}

inline labels::Bitmap crop(const labels::Bitmap& bitmap, const InkBounds& box) {
  labels::Bitmap out(box.width, box.height);
  for (int y = 0; y < box.height; ++y) {
    for (int x = 0; x < box.width; ++x) {
      if (bitmap.get(box.x + x, box.y + y)) {
        out.set(x, y);
      }
    }
  }
  return out;
}

// Decodes a lone "^GFA,..." (as zpl-image gives it) with our own decoder.
inline labels::ZplRaster decode_lone_gf(std::string_view gf) {
  const auto commands = labels::zpl_tokenize(gf);
  if (commands.size() != 1 || commands[0].name != "^GF") {
    labels::ZplRaster r;
    r.error = "expected one ^GF command, got " + std::to_string(commands.size()) + " commands";
    return r;
  }
  return labels::zpl_decode_graphic_field(commands[0].params);
}

// Checks a lone "^GFA,b,c,d,:Z64:...:crc" whose b or c exceeds the ^GF limit, which our decoder
// (like a printer, which would cut the graphic) does not take: its CRC, and that its data
// inflates to exactly `expected`'s rows. Returns what is wrong, or an empty string.
inline std::string check_oversized_z64(std::string_view gf, const labels::Bitmap& expected) {
  const std::string prefix = "^GFA," + std::to_string(expected.bytes().size()) + "," +
                             std::to_string(expected.bytes().size()) + "," +
                             std::to_string(expected.stride()) + ",:Z64:";
  if (gf.substr(0, prefix.size()) != prefix) {
    return "^GF parameters are not " + prefix;
  }
  const std::string_view rest = gf.substr(prefix.size());
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || rest.size() - colon != 5) {
    return "Z64 data without a 4-digit CRC";
  }
  const std::string_view text = rest.substr(0, colon);
  const unsigned long crc = std::strtoul(std::string(rest.substr(colon + 1)).c_str(), nullptr, 16);
  if (crc != labels::crc16_xmodem(text)) {
    return "Z64 CRC mismatch";
  }
  std::vector<std::uint8_t> packed;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return "invalid base64";
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      packed.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  std::vector<std::uint8_t> raw(expected.bytes().size() + 1);
  uLongf size = static_cast<uLongf>(raw.size());
  if (uncompress(raw.data(), &size, packed.data(), static_cast<uLong>(packed.size())) != Z_OK) {
    return "Z64 data does not inflate";
  }
  raw.resize(size);
  if (raw != expected.bytes()) {
    return "Z64 data inflates to other dots";
  }
  return {};
}

// Whether a decoded ^GF (d * 8 dots wide) holds exactly `expected`'s dots: the same rows of the
// same bytes, the padding bits past the width white in both.
inline bool same_dots(const labels::Bitmap& decoded, const labels::Bitmap& expected) {
  return decoded.height() == expected.height() && decoded.stride() == expected.stride() &&
         decoded.bytes() == expected.bytes();
}

}  // namespace packbench::bench
