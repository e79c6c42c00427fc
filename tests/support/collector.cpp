#include "collector.hpp"

#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <sstream>
#include <stdexcept>

namespace packbench::testing {

namespace json = boost::json;

namespace {

void set_receive_timeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// Close with a reset (RST) rather than an orderly FIN.
void reset_fd(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool wait_readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

}  // namespace

std::string standard_webhook_signature(const std::string& key, const std::string& id,
                                       const std::string& timestamp, const std::string& body) {
  const std::string content = id + "." + timestamp + "." + body;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac.data(),
            mac.size(), &len);
  return "v1," + base64(mac.data(), len);
}

// --- one connection, plain or TLS ----------------------------------------------------------

struct EventCollector::Conn {
  int fd = -1;
  SSL* ssl = nullptr;

  ~Conn() {
    if (ssl) {
      SSL_free(ssl);
    }
  }

  // >0 bytes read, 0 end of stream, -1 error, -2 nothing yet.
  int read(char* buf, int n) {
    if (!ssl) {
      const ssize_t r = ::recv(fd, buf, static_cast<std::size_t>(n), 0);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return -2;
      }
      return static_cast<int>(r);
    }
    const int r = SSL_read(ssl, buf, n);
    if (r > 0) {
      return r;
    }
    const int err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
        (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
      ERR_clear_error();
      return -2;
    }
    ERR_clear_error();
    return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }

  bool write_all(const std::string& bytes) {
    if (!ssl) {
      return send_all_fd(fd, bytes);
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
      const int r = SSL_write(ssl, bytes.data() + done, static_cast<int>(bytes.size() - done));
      if (r <= 0) {
        ERR_clear_error();
        return false;
      }
      done += static_cast<std::size_t>(r);
    }
    return true;
  }
};

// --- the collector -------------------------------------------------------------------------

EventCollector::EventCollector(std::optional<TlsFiles> tls, std::uint16_t port)
    : tls_files_(std::move(tls)) {
  if (tls_files_) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, tls_files_->cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls_files_->key.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error("test collector: cannot load " + tls_files_->cert.string());
    }
    ssl_ctx_ = ctx;
  }
  listen_fd_ = listen_loopback_fd(port, &port_);
  thread_ = std::thread([this] { run(); });
}

EventCollector::~EventCollector() {
  stop_ = true;
  cv_.notify_all();
  thread_.join();
  for (auto& w : workers_) {
    w.join();
  }
  ::close(listen_fd_);
  if (ssl_ctx_) {
    SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
  }
}

std::string EventCollector::url(const std::string& path, const std::string& host) const {
  const std::string h = host.empty() ? (tls_files_ ? "localhost" : "127.0.0.1") : host;
  return std::string(tls_files_ ? "https://" : "http://") + h + ":" + std::to_string(port_) + path;
}

void EventCollector::set_script(Script script) {
  std::lock_guard lock(mu_);
  script_ = std::move(script);
}

void EventCollector::set_status(int status) {
  set_script([status](const HttpExchange&, std::size_t) { return Reply::status_only(status); });
}

void EventCollector::set_signing_key(std::string key) {
  std::lock_guard lock(mu_);
  signing_key_ = std::move(key);
}

void EventCollector::set_on_answered(std::function<void(const HttpExchange&)> fn) {
  std::lock_guard lock(mu_);
  on_answered_ = std::move(fn);
}

void EventCollector::run() {
  while (!stop_) {
    if (!wait_readable(listen_fd_, 50)) {
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }
}

void EventCollector::serve(int fd) {
  set_receive_timeout(fd, 50);
  Conn conn;
  conn.fd = fd;
  if (ssl_ctx_) {
    conn.ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(conn.ssl, fd);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      const int r = SSL_accept(conn.ssl);
      if (r == 1) {
        const char* sni = SSL_get_servername(conn.ssl, TLSEXT_NAMETYPE_host_name);
        std::lock_guard lock(mu_);
        server_names_.push_back(sni ? sni : "");
        break;
      }
      const int err = SSL_get_error(conn.ssl, r);
      ERR_clear_error();
      const bool again = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
                         (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
      if (!again || stop_ || std::chrono::steady_clock::now() > deadline) {
        {
          std::lock_guard lock(mu_);
          ++tls_failures_;
        }
        cv_.notify_all();
        ::close(fd);
        return;
      }
    }
  }
  std::string buf;
  char chunk[16384];
  auto fill = [&]() -> bool {  // false: the connection is over
    for (;;) {
      if (stop_) {
        return false;
      }
      const int n = conn.read(chunk, sizeof chunk);
      if (n == -2) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      buf.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  };
  for (;;) {
    auto head_end = buf.find("\r\n\r\n");
    while (head_end == std::string::npos) {
      if (!fill()) {
        ::close(fd);
        return;
      }
      head_end = buf.find("\r\n\r\n");
    }
    HttpExchange ex;
    std::istringstream head(buf.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    std::istringstream first(line);
    first >> ex.method >> ex.target;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      ex.headers[name] = value;
    }
    const std::size_t length =
        ex.headers.count("content-length") ? std::stoul(ex.headers["content-length"]) : 0;
    while (buf.size() < head_end + 4 + length) {
      if (!fill()) {
        ::close(fd);
        return;
      }
    }
    ex.body = buf.substr(head_end + 4, length);
    buf.erase(0, head_end + 4 + length);

    Reply reply;
    std::function<void(const HttpExchange&)> on_answered;
    {
      std::lock_guard lock(mu_);
      const std::size_t index = requests_.size();
      requests_.push_back(ex);
      if (script_) {
        reply = script_(ex, index);
      }
      on_answered = on_answered_;
      if (signing_key_) {
        const auto sig = ex.headers.find("webhook-signature");
        const auto id = ex.headers.find("webhook-id");
        const auto ts = ex.headers.find("webhook-timestamp");
        if (sig == ex.headers.end() || id == ex.headers.end() || ts == ex.headers.end()) {
          ledger_.problem("request " + std::to_string(index) +
                          ": a Standard Webhooks header is missing");
        } else if (sig->second !=
                   standard_webhook_signature(*signing_key_, id->second, ts->second, ex.body)) {
          ledger_.problem("request " + std::to_string(index) + ": bad signature " + sig->second);
        }
      }
    }
    cv_.notify_all();

    if (reply.hold) {
      std::unique_lock lock(mu_);
      ++held_;
      const auto generation = release_generation_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return stop_ || release_generation_ != generation; });
      --held_;
    }
    const auto until = std::chrono::steady_clock::now() + reply.delay;
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    switch (reply.action) {
      case Reply::Action::reset:
        reset_fd(fd);
        return;
      case Reply::Action::close:
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
        return;
      case Reply::Action::hang:
        while (fill()) {
          buf.clear();
        }
        ::close(fd);
        return;
      case Reply::Action::answer:
        break;
    }
    if (reply.status >= 200 && reply.status < 300 && ex.method == "POST") {
      // Accepted before the answer is written, as a back office commits before it answers.
      accept_events(ex);
    }
    std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " Status\r\n";
    for (const auto& [k, v] : reply.headers) {
      response += k + ": " + v + "\r\n";
    }
    response += "Content-Length: " + std::to_string(reply.body.size()) +
                "\r\nConnection: keep-alive\r\n\r\n" + reply.body;
    const bool written = conn.write_all(response);
    if (on_answered) {
      on_answered(ex);
    }
    if (!written) {
      ::close(fd);
      return;
    }
  }
}

bool EventLedger::accept(const json::object& ev) {
  const auto* source = ev.if_contains("source");
  const auto* id = ev.if_contains("id");
  if (!source || !id || !source->is_string() || !id->is_string()) {
    problems_.push_back("not a CloudEvent: " + json::serialize(ev).substr(0, 100));
    return false;
  }
  const std::string text = json::serialize(ev);
  const auto key = std::make_pair(std::string(source->as_string()), std::string(id->as_string()));
  if (!seen_.insert(key).second) {
    ++duplicates_;
    if (first_copy_[key] != text) {
      problems_.push_back("duplicate " + key.second + " differs from its first copy");
    }
    return false;
  }
  first_copy_[key] = text;
  events_.push_back(ev);
  if (const auto* subject = ev.if_contains("subject"); subject && subject->is_string()) {
    const auto* seq = ev.if_contains("sequence");
    const std::string sequence = seq && seq->is_string() ? std::string(seq->as_string()) : "";
    auto& last = last_sequence_[{key.first, std::string(subject->as_string())}];
    if (!last.empty() && sequence < last) {
      problems_.push_back("subject " + std::string(subject->as_string()) + ": sequence " +
                          sequence + " arrived after " + last);
    }
    last = std::max(last, sequence);
  }
  return true;
}

void EventCollector::accept_events(const HttpExchange& ex) {
  std::lock_guard lock(mu_);
  boost::system::error_code ec;
  const json::value batch = json::parse(ex.body, ec);
  if (ec || !batch.is_array()) {
    ledger_.problem("a body that is not a JSON array: " + ex.body.substr(0, 100));
    return;
  }
  for (const auto& v : batch.as_array()) {
    if (!v.is_object()) {
      ledger_.problem("not a CloudEvent: " + json::serialize(v).substr(0, 100));
      continue;
    }
    ledger_.accept(v.as_object());
  }
  cv_.notify_all();
}

std::vector<HttpExchange> EventCollector::requests() {
  std::lock_guard lock(mu_);
  return requests_;
}

bool EventCollector::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

bool EventCollector::wait_for_held(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return held_ >= n; });
}

void EventCollector::release_held() {
  {
    std::lock_guard lock(mu_);
    ++release_generation_;
  }
  cv_.notify_all();
}

std::vector<json::object> EventCollector::events() {
  std::lock_guard lock(mu_);
  return ledger_.events();
}

bool EventCollector::wait_for_events(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ledger_.events().size() >= n; });
}

std::size_t EventCollector::duplicates() {
  std::lock_guard lock(mu_);
  return ledger_.duplicates();
}

std::vector<std::string> EventCollector::problems() {
  std::lock_guard lock(mu_);
  return ledger_.problems();
}

std::vector<std::string> EventCollector::server_names() {
  std::lock_guard lock(mu_);
  return server_names_;
}

std::size_t EventCollector::tls_failures() {
  std::lock_guard lock(mu_);
  return tls_failures_;
}

// --- the cutting proxy ---------------------------------------------------------------------

CutProxy::CutProxy(std::uint16_t target_port) : target_(target_port) {
  listen_fd_ = listen_loopback_fd(0, &port_);
  thread_ = std::thread([this] { run(); });
}

CutProxy::~CutProxy() {
  stop_ = true;
  thread_.join();
  for (auto& w : workers_) {
    w.join();
  }
  ::close(listen_fd_);
}

void CutProxy::run() {
  while (!stop_) {
    if (!wait_readable(listen_fd_, 50)) {
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, fd] { relay(fd); });
    }
  }
}

void CutProxy::relay(int client) {
  const int server = connect_loopback_fd(target_);
  if (server < 0) {
    reset_fd(client);
    return;
  }
  char buf[16384];
  bool open = true;
  while (open && !stop_) {
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) {
      continue;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      open = n > 0 && send_all_fd(server, std::string(buf, static_cast<std::size_t>(n)));
    }
    if (open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::recv(server, buf, sizeof buf, 0);
      if (n > 0 && to_cut_.load() > 0) {
        // The back office has answered, so it has the request: the station never hears it.
        --to_cut_;
        ++cuts_;
        reset_fd(client);
        ::close(server);
        return;
      }
      open = n > 0 && send_all_fd(client, std::string(buf, static_cast<std::size_t>(n)));
    }
  }
  ::close(client);
  ::close(server);
}

// --- test certificates ---------------------------------------------------------------------

namespace {

void openssl(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  const auto r = run_command(args, dir);
  if (r.code != 0) {
    throw std::runtime_error("openssl " + args[1] + " failed: " + r.err);
  }
}

}  // namespace

TestPki::TestPki(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto p = [&](const std::string& name) { return (dir / name).string(); };
  auto config = [&](const std::string& name, const std::string& cn, const std::string& ext) {
    write_file(dir / name,
               "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = " + cn + "\n[ext]\n" + ext);
  };
  const std::string ca_ext =
      "basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
      "subjectKeyIdentifier = hash\n";
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                           "ec_paramgen_curve:prime256v1", "-nodes"};
  auto make_ca = [&](const std::string& stem, const std::string& cn) {
    config(stem + ".cnf", cn, ca_ext);
    std::vector<std::string> a = {"req", "-x509"};
    a.insert(a.end(), ec_key.begin(), ec_key.end());
    a.insert(a.end(), {"-keyout", p(stem + ".key"), "-out", p(stem + ".pem"), "-days", "2",
                       "-config", p(stem + ".cnf"), "-extensions", "ext"});
    openssl(dir, a);
  };
  make_ca("ca", "Packbench Test CA");
  make_ca("other-ca", "Some Other CA");
  ca_cert = dir / "ca.pem";
  other_ca_cert = dir / "other-ca.pem";

  auto make_leaf = [&](const std::string& stem, const std::string& san) {
    const std::string ext =
        "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n"
        "extendedKeyUsage = serverAuth\nsubjectAltName = " +
        san + "\n";
    config(stem + ".cnf", "packbench test server", ext);
    std::vector<std::string> a = {"req", "-new"};
    a.insert(a.end(), ec_key.begin(), ec_key.end());
    a.insert(a.end(),
             {"-keyout", p(stem + ".key"), "-out", p(stem + ".csr"), "-config", p(stem + ".cnf")});
    openssl(dir, a);
    openssl(dir,
            {"x509", "-req", "-in", p(stem + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
             "-set_serial", std::to_string(std::hash<std::string>{}(stem) >> 8), "-out",
             p(stem + ".pem"), "-days", "2", "-extfile", p(stem + ".cnf"), "-extensions", "ext"});
    return TlsFiles{dir / (stem + ".pem"), dir / (stem + ".key")};
  };
  server = make_leaf("server", "DNS:localhost,IP:127.0.0.1");
  wrong_name = make_leaf("wrong-name", "DNS:some.other.host");

  config("self.cnf", "packbench self-signed",
         "basicConstraints = CA:FALSE\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n");
  std::vector<std::string> a = {"req", "-x509"};
  a.insert(a.end(), ec_key.begin(), ec_key.end());
  a.insert(a.end(), {"-keyout", p("self.key"), "-out", p("self.pem"), "-days", "2", "-config",
                     p("self.cnf"), "-extensions", "ext"});
  openssl(dir, a);
  self_signed = TlsFiles{dir / "self.pem", dir / "self.key"};
}

}  // namespace packbench::testing
