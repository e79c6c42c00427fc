// The main of a fuzz target when it is not built with libFuzzer (g++): replays the seed corpus,
// then feeds the target deterministic pseudo-random mutations of it for a bounded time, so ctest
// catches a regression on every build. The real search is libFuzzer's (docs/gs1.md).
//
//   NAME [--seconds S] [--runs N] [--seed N] [--dict FILE] [--slowest FILE] CORPUS_DIR_OR_FILE...
//
// The dictionary is libFuzzer's format (name="token" with \\, \" and \xNN escapes), so one file
// serves both. On a crash the input being run is written to ./crash-input and shown in hex. The
// summary names the slowest input's time (a figure to look at, never a failure: ctest runs on
// busy machines); --slowest writes that input to FILE, to look at what made it slow.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// What is running, for the crash handler (which may only use async-signal-safe calls).
const std::string* g_running = nullptr;

void on_crash(int sig) {
  if (g_running) {
    const int fd = ::open("crash-input", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      [[maybe_unused]] auto n = ::write(fd, g_running->data(), g_running->size());
      ::close(fd);
    }
    static constexpr char kMessage[] = "fuzz: crashed; the input is in ./crash-input\n";
    [[maybe_unused]] auto n = ::write(2, kMessage, sizeof kMessage - 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// The slowest input so far and its time.
std::string g_slowest;
std::chrono::steady_clock::duration g_slowest_time{};

void run(const std::string& input) {
  g_running = &input;
  const auto start = std::chrono::steady_clock::now();
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  const auto took = std::chrono::steady_clock::now() - start;
  g_running = nullptr;
  if (took > g_slowest_time) {
    g_slowest_time = took;
    g_slowest = input;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::vector<std::string> read_dictionary(const std::filesystem::path& path) {
  std::vector<std::string> tokens;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t open = line.find('"');
    const std::size_t close = line.rfind('"');
    if (line.empty() || line[0] == '#' || open == std::string::npos || close <= open) {
      continue;
    }
    std::string token;
    for (std::size_t i = open + 1; i < close; ++i) {
      if (line[i] != '\\' || i + 1 >= close) {
        token += line[i];
        continue;
      }
      if (line[i + 1] == 'x' && i + 3 < close && hex_digit(line[i + 2]) >= 0 &&
          hex_digit(line[i + 3]) >= 0) {
        token += static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3]));
        i += 3;
      } else {
        token += line[++i];
      }
    }
    if (!token.empty()) {
      tokens.push_back(token);
    }
  }
  return tokens;
}

std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// SplitMix64: the same sequence on every machine and every run.
struct Random {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

std::string mutate(std::string s, const std::vector<std::string>& corpus,
                   const std::vector<std::string>& tokens, Random& rnd) {
  const std::size_t edits = 1 + rnd.below(4);
  for (std::size_t e = 0; e < edits; ++e) {
    const std::size_t at = rnd.below(s.size() + 1);
    switch (rnd.below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) {
          s[rnd.below(s.size())] ^= static_cast<char>(1 << rnd.below(8));
        }
        break;
      case 1:  // a random byte
        s.insert(at, 1, static_cast<char>(rnd.below(256)));
        break;
      case 2:  // a digit: GS1 data is mostly digits
        s.insert(at, 1, static_cast<char>('0' + rnd.below(10)));
        break;
      case 3:  // drop a stretch
        s.erase(at, 1 + rnd.below(8));
        break;
      case 4:  // a dictionary token
        if (!tokens.empty()) {
          s.insert(at, tokens[rnd.below(tokens.size())]);
        }
        break;
      case 5:  // a stretch of another seed
        if (!corpus.empty()) {
          const std::string& other = corpus[rnd.below(corpus.size())];
          const std::size_t from = rnd.below(other.size() + 1);
          s.insert(at, other.substr(from, 1 + rnd.below(20)));
        }
        break;
      default:  // repeat a stretch
        s.insert(at, s.substr(rnd.below(s.size() + 1), 1 + rnd.below(16)));
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  long runs = 1'000'000;
  std::uint64_t seed = 0;  // another seed explores elsewhere; ctest keeps the default
  std::vector<std::string> tokens;
  std::filesystem::path slowest_path;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::atol(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--dict" && i + 1 < argc) {
      tokens = read_dictionary(argv[++i]);
    } else if (a == "--slowest" && i + 1 < argc) {
      slowest_path = argv[++i];
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& entry : std::filesystem::directory_iterator(a)) {
        if (entry.is_regular_file()) {
          files.push_back(entry.path());
        }
      }
    } else if (std::filesystem::is_regular_file(a)) {
      files.push_back(a);
    } else {
      std::cerr << "usage: " << argv[0]
                << " [--seconds S] [--runs N] [--seed N] [--dict FILE] [--slowest FILE]"
                   " CORPUS_DIR_OR_FILE...\n"
                << "cannot use '" << a << "'\n";
      return 2;
    }
  }
  std::sort(files.begin(), files.end());  // the same order everywhere: the run is repeatable
  for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
    std::signal(sig, on_crash);
  }

  std::vector<std::string> corpus;
  for (const auto& f : files) {
    corpus.push_back(read_whole(f));
    run(corpus.back());
  }
  run({});  // the empty input, always

  Random rnd;
  rnd.state += seed * 0x9E3779B97F4A7C15ULL;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  long done = 0;
  std::string current = corpus.empty() ? std::string() : corpus.front();
  while (done < runs && std::chrono::steady_clock::now() < deadline) {
    // Mostly mutate a seed; sometimes keep mutating the last input to wander further.
    if (corpus.empty() || rnd.below(4) != 0) {
      current = corpus.empty() ? std::string() : corpus[rnd.below(corpus.size())];
    }
    current = mutate(std::move(current), corpus, tokens, rnd);
    if (current.size() > 8192) {
      current.resize(8192);
    }
    run(current);
    ++done;
  }
  std::cout << argv[0] << ": replayed " << corpus.size() << " seeds, ran " << done
            << " mutated inputs, all promises kept; slowest input "
            << std::chrono::duration_cast<std::chrono::milliseconds>(g_slowest_time).count()
            << " ms (" << g_slowest.size() << " bytes)\n";
  if (!slowest_path.empty()) {
    std::ofstream(slowest_path, std::ios::binary) << g_slowest;
  }
  return 0;
}
