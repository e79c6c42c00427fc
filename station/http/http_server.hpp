// The station's HTTP listener (Boost.Beast): every request goes to one handler, and WebSocket
// upgrades on a registered path are handed over, connection and all, to their owner.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "packbench/result.hpp"

namespace packbench::station {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// A WebSocket route. `check` looks at the upgrade request first: a response refuses it (sent as
// is), nullopt accepts it. `take` then owns the connection and answers the handshake itself.
struct WebSocketRoute {
  std::function<std::optional<HttpResponse>(const HttpRequest&)> check;
  std::function<void(boost::beast::tcp_stream, HttpRequest)> take;
};

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor ex, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before listen(): upgrades on `path` (no query) go to `route`; other upgrades are answered
  // by the handler as plain requests.
  void add_websocket(std::string path, WebSocketRoute route);

  Result<void> listen(const std::string& address);
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// A response with the request's HTTP version and keep-alive, and Content-Length set.
HttpResponse make_response(const HttpRequest& req, boost::beast::http::status status,
                           std::string content_type, std::string body);

// Whether a request may drive the bench: it carries no Origin (not from a browser page), or the
// Origin is this station itself (http:// and the Host the request was sent to). A page of any
// other origin open in the bench's browser is refused: browsers always name the page's origin
// on cross-origin requests and on every WebSocket handshake.
bool same_origin(const HttpRequest& req);

}  // namespace packbench::station
