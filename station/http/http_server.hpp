// The station's HTTP listener (Boost.Beast). For now it serves /healthz and a small status
// page; the packer UI and its WebSocket grow here.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>

#include "packbench/result.hpp"

namespace packbench::station {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor ex, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  Result<void> listen(const std::string& address);
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// A response with the request's HTTP version and keep-alive, and Content-Length set.
HttpResponse make_response(const HttpRequest& req, boost::beast::http::status status,
                           std::string content_type, std::string body);

}  // namespace packbench::station
