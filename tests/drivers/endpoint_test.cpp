#include "packbench/drivers/endpoint.hpp"

#include <gtest/gtest.h>

using packbench::drivers::parse_endpoint;

TEST(Endpoint, ParsesIPv4IPv6AndLocalhost) {
  auto a = parse_endpoint("127.0.0.1:7001");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7001);
  auto b = parse_endpoint("[::1]:9100");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  auto c = parse_endpoint("localhost:80");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "127.0.0.1");
}

TEST(Endpoint, RejectsWithAReason) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:x", ":80", "::1:80", "printer.local:9100", "[::1]9100"}) {
    std::string why;
    EXPECT_FALSE(parse_endpoint(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}
