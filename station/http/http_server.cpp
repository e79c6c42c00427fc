#include "station/http/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <list>

#include "packbench/drivers/endpoint.hpp"

namespace packbench::station {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpResponse make_response(const HttpRequest& req, http::status status, std::string content_type,
                           std::string body) {
  HttpResponse res{status, req.version()};
  res.set(http::field::server, "packbench-station/" PACKBENCH_VERSION);
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

bool same_origin(const HttpRequest& req) {
  const auto origin = req[http::field::origin];
  if (origin.empty()) {
    return true;
  }
  const auto host = req[http::field::host];
  return !host.empty() && origin.size() == 7 + host.size() && origin.starts_with("http://") &&
         origin.substr(7) == host;
}

struct HttpServer::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor e, HttpHandler h) : ex(e), acceptor(e), handler(std::move(h)) {}
  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  HttpHandler handler;
  std::map<std::string, WebSocketRoute, std::less<>> websockets;
  std::list<std::weak_ptr<beast::tcp_stream>> streams;
  bool running = false;

  asio::awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto self = shared_from_this();
    beast::flat_buffer buffer;
    try {
      for (;;) {
        stream->expires_after(std::chrono::seconds(60));
        http::request_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        co_await http::async_read(*stream, buffer, parser, asio::use_awaitable);
        HttpRequest req = parser.release();
        HttpResponse res;
        const auto target = std::string_view(req.target());
        const auto route = beast::websocket::is_upgrade(req)
                               ? websockets.find(target.substr(0, target.find('?')))
                               : websockets.end();
        if (route != websockets.end()) {
          if (auto refused = route->second.check(req)) {
            refused->keep_alive(false);
            co_await http::async_write(*stream, *refused, asio::use_awaitable);
            break;
          }
          // The route owns the connection from here; this coroutine lets go of it (and stop()
          // no longer sees it).
          stream->expires_never();
          beast::tcp_stream owned = std::move(*stream);
          stream.reset();
          route->second.take(std::move(owned), std::move(req));
          co_return;
        }
        try {
          res = handler(req);
        } catch (const std::exception& e) {
          spdlog::error("http: {} {} failed: {}", std::string(req.method_string()),
                        std::string(req.target()), e.what());
          res = make_response(req, http::status::internal_server_error, "application/json",
                              R"({"error":"internal error"})");
        }
        const bool keep = res.keep_alive();
        co_await http::async_write(*stream, res, asio::use_awaitable);
        if (!keep || !running) {
          break;
        }
      }
    } catch (const boost::system::system_error&) {
      // The client went away or sent something that is not HTTP: nothing to answer.
    }
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (running) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (!running) {
        break;
      }
      if (ec) {
        spdlog::warn("http: accept failed: {}", ec.message());
        continue;
      }
      // Verdicts are small writes that must leave at once, not wait for an earlier ACK.
      socket.set_option(tcp::no_delay(true), ec);
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      streams.remove_if([](const auto& w) { return w.expired(); });
      streams.push_back(stream);
      asio::co_spawn(ex, serve(std::move(stream)), asio::detached);
    }
  }
};

HttpServer::HttpServer(asio::any_io_executor ex, HttpHandler handler)
    : state_(std::make_shared<State>(std::move(ex), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::add_websocket(std::string path, WebSocketRoute route) {
  state_->websockets.insert_or_assign(std::move(path), std::move(route));
}

Result<void> HttpServer::listen(const std::string& address) {
  if (auto failed = drivers::listen_on(state_->acceptor, address)) {
    return Error{*failed};
  }
  state_->running = true;
  asio::co_spawn(state_->ex, state_->accept_loop(), asio::detached);
  return {};
}

void HttpServer::stop() {
  if (!state_->running) {
    return;
  }
  state_->running = false;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& w : state_->streams) {
    if (auto s = w.lock()) {
      s->socket().close(ignored);
    }
  }
  state_->streams.clear();
}

}  // namespace packbench::station
