#include <gtest/gtest.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <map>

#include "station/discount/link.hpp"

namespace pd = packbench::station::discount;

namespace {

// What a browser or the shop's server reads back from a link.
struct ReadBack {
  std::string host;
  std::vector<std::string> segments;
  std::map<std::string, std::string> params;
  std::size_t param_count = 0;
  bool has_fragment = false;
  std::string fragment;
};

ReadBack read_back(const std::string& link) {
  ReadBack r;
  auto u = boost::urls::parse_uri(link);
  EXPECT_TRUE(u) << link;
  if (!u) {
    return r;
  }
  r.host = std::string(u->encoded_host_and_port());
  for (auto seg : u->segments()) {
    r.segments.push_back(seg);
  }
  for (auto p : u->params()) {
    r.params[p.key] = p.value;
    ++r.param_count;
  }
  r.has_fragment = u->has_fragment();
  r.fragment = u->fragment();
  return r;
}

const pd::LinkValues kPlain{"shop.example.com", "TEA-01R0-000J-FWAY-Q26X-5J6S", "/collections/tea",
                            "winter-tea"};

}  // namespace

TEST(DiscountLink, DefaultFormat) {
  auto link = pd::format_link(pd::kDefaultLinkFormat, kPlain);
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(
      *link,
      "https://shop.example.com/discount/TEA-01R0-000J-FWAY-Q26X-5J6S"
      "?redirect=%2Fcollections%2Ftea&utm_source=insert&utm_medium=qr&utm_campaign=winter-tea");
}

TEST(DiscountLink, RedirectPathsAreOneQueryValue) {
  const std::vector<std::pair<std::string, std::string>> paths{
      {"/collections/tea sets", "%2Fcollections%2Ftea%20sets"},
      {"/search?q=matcha&sort=price", "%2Fsearch%3Fq%3Dmatcha%26sort%3Dprice"},
      {"/products/kettle#reviews", "%2Fproducts%2Fkettle%23reviews"},
      {"/100%-organic", "%2F100%25-organic"},
      {"/tea+cups", "%2Ftea%2Bcups"},
      {"/お茶/抹茶", "%2F%E3%81%8A%E8%8C%B6%2F%E6%8A%B9%E8%8C%B6"},
      {"/a=b;c,d:e@f!g$h'i(j)k*l", "%2Fa%3Db%3Bc%2Cd%3Ae%40f%21g%24h%27i%28j%29k%2Al"},
      {"/~user/_a-b.c", "%2F~user%2F_a-b.c"},
      {"", ""},
      {"/", "%2F"},
  };
  for (const auto& [path, encoded] : paths) {
    pd::LinkValues v = kPlain;
    v.path = path;
    auto link = pd::format_link(pd::kDefaultLinkFormat, v);
    ASSERT_TRUE(link) << path << ": " << link.error().message;
    EXPECT_NE(link->find("?redirect=" + encoded + "&utm_source="), std::string::npos)
        << path << " -> " << *link;
    const auto r = read_back(*link);
    EXPECT_EQ(r.host, "shop.example.com");
    EXPECT_EQ(r.segments, (std::vector<std::string>{"discount", v.code})) << *link;
    EXPECT_EQ(r.param_count, 4u) << *link;
    EXPECT_EQ(r.params.at("redirect"), path) << *link;
    EXPECT_EQ(r.params.at("utm_campaign"), "winter-tea");
    EXPECT_FALSE(r.has_fragment) << *link;
  }
}

TEST(DiscountLink, AwkwardCodesStayOnePathSegment) {
  const std::vector<std::pair<std::string, std::string>> codes{
      {"SUMMER 10", "SUMMER%2010"},
      {"A/B", "A%2FB"},
      {"WHY?", "WHY%3F"},
      {"A#1", "A%231"},
      {"A&B=C", "A%26B%3DC"},
      {"100%", "100%25"},
      {"a+b", "a%2Bb"},
      {"...", "..."},
      {"お得", "%E3%81%8A%E5%BE%97"},
      {"semi;colon", "semi%3Bcolon"},
      {"", ""},
  };
  for (const auto& [code, encoded] : codes) {
    pd::LinkValues v = kPlain;
    v.code = code;
    auto link = pd::format_link(pd::kDefaultLinkFormat, v);
    ASSERT_TRUE(link) << code;
    EXPECT_NE(link->find("/discount/" + encoded + "?redirect="), std::string::npos)
        << code << " -> " << *link;
    const auto r = read_back(*link);
    ASSERT_EQ(r.segments.size(), 2u) << *link;
    EXPECT_EQ(r.segments[1], code) << *link;
    EXPECT_EQ(r.param_count, 4u) << *link;
    EXPECT_FALSE(r.has_fragment);
  }
}

// "." and ".." as a path segment are removed by every URL resolver, encoded or not (RFC 3986
// section 5.2.4; the WHATWG URL standard reads %2E as a dot there too): refused, not mangled.
TEST(DiscountLink, DotSegmentsAreRefused) {
  for (const char* dots : {".", ".."}) {
    pd::LinkValues v = kPlain;
    v.code = dots;
    auto link = pd::format_link(pd::kDefaultLinkFormat, v);
    ASSERT_FALSE(link) << dots;
    EXPECT_NE(link.error().message.find("dot"), std::string::npos) << link.error().message;
  }
  pd::LinkValues v = kPlain;
  v.path = "..";  // as a query value it is only text
  EXPECT_TRUE(pd::format_link(pd::kDefaultLinkFormat, v));
}

TEST(DiscountLink, CampaignAndFragmentPlaceholdersAreEncodedWhereTheySit) {
  pd::LinkValues v = kPlain;
  v.campaign = "tea & cups/2026";
  auto link = pd::format_link("https://{shop}/d/{code}?c={campaign}#from-{campaign}", v);
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(*link,
            "https://shop.example.com/d/TEA-01R0-000J-FWAY-Q26X-5J6S?c=tea%20%26%20cups%2F2026"
            "#from-tea%20%26%20cups%2F2026");
  const auto r = read_back(*link);
  EXPECT_EQ(r.params.at("c"), v.campaign);
  EXPECT_EQ(r.fragment, "from-" + v.campaign);
}

TEST(DiscountLink, PathPlaceholderInThePathKeepsItsSlashes) {
  pd::LinkValues v = kPlain;
  v.path = "/collections/tea sets";
  EXPECT_EQ(
      pd::format_link("https://{shop}{path}?discount={code}", v).value(),
      "https://shop.example.com/collections/tea%20sets?discount=TEA-01R0-000J-FWAY-Q26X-5J6S");
  v.path = "collections/a?b#c";
  EXPECT_EQ(pd::format_link("https://{shop}{path}?discount={code}", v).value(),
            "https://shop.example.com/collections/a%3Fb%23c?discount=TEA-01R0-000J-FWAY-Q26X-5J6S");
  v.path = "";
  EXPECT_EQ(pd::format_link("https://{shop}{path}?discount={code}", v).value(),
            "https://shop.example.com/?discount=TEA-01R0-000J-FWAY-Q26X-5J6S");
}

TEST(DiscountLink, ShopMustBeAHost) {
  for (const char* good :
       {"shop.example.com", "example.com", "my-shop.example.co.jp", "localhost", "127.0.0.1:8080",
        "shop.example.com:8443", "shop.example.com.", "xn--eckwd4c7c.jp"}) {
    pd::LinkValues v = kPlain;
    v.shop = good;
    EXPECT_TRUE(pd::format_link(pd::kDefaultLinkFormat, v)) << good;
    EXPECT_TRUE(pd::is_valid_shop_host(good)) << good;
  }
  for (const char* bad : {"", "shop example.com", "shop.example.com/x", "https://shop.example.com",
                          "-shop.com", "shop-.com", "shop..com", "shop.example.com:0",
                          "shop.example.com:99999", "shop.example.com:", "user@shop.com",
                          "shop.com?x", "shop.com#x", "ショップ.jp", "shop_1.com"}) {
    pd::LinkValues v = kPlain;
    v.shop = bad;
    auto link = pd::format_link(pd::kDefaultLinkFormat, v);
    EXPECT_FALSE(link) << bad;
    if (!link) {
      EXPECT_NE(link.error().message.find("not a host name"), std::string::npos)
          << link.error().message;
    }
  }
}

TEST(DiscountLink, ValuesMustBeUtf8) {
  pd::LinkValues v = kPlain;
  v.path = "/caf\xE9";  // Latin-1, not UTF-8
  auto link = pd::format_link(pd::kDefaultLinkFormat, v);
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message.find("path"), std::string::npos);
  v.path = "/\xED\xA0\x80";  // a UTF-16 surrogate written as UTF-8
  EXPECT_FALSE(pd::format_link(pd::kDefaultLinkFormat, v));
  v.path = "/\xC0\xAF";  // an overlong '/'
  EXPECT_FALSE(pd::format_link(pd::kDefaultLinkFormat, v));
  v.path = "/\xE3\x81";  // cut short
  EXPECT_FALSE(pd::format_link(pd::kDefaultLinkFormat, v));
  v.path = "/\xF0\x9F\x8D\xB5";  // 🍵
  EXPECT_EQ(read_back(pd::format_link(pd::kDefaultLinkFormat, v).value()).params.at("redirect"),
            "/\xF0\x9F\x8D\xB5");
}

TEST(DiscountLink, FormatsAreCheckedWhenRead) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"https://{shop}/discount/{coupon}", "unknown placeholder {coupon}"},
      {"https://{shop}/discount?x={code}&o={order}", "unknown placeholder {order}"},
      {"https://{shop}/discount/{shop}/{code}", "{shop} can only be the host"},
      {"https://shop.example.com/discount", "no {code}"},
      {"ftp://{shop}/{code}", "https://"},
      {"{shop}/{code}", "https://"},
      {"https://{shop}/{code", "never closed"},
      {"https://{shop}/code}/{code}", "without its"},
      {"https://{campaign}.example.com/{code}", "host of the link"},
      {"https://{shop}.example.com/{code}", "host of the link"},
      {"https://shop example.com/{code}", "not a host name"},
      {"https://{shop}/dis count/{code}", "not a URL"},
      {"https://{shop}/d/{code}#%{campaign}", "two hex digits"},
      {"https://{shop}/d/{code}?x=5%", "two hex digits"},
  };
  for (const auto& [format, why] : bad) {
    auto parsed = pd::parse_link_format(format);
    EXPECT_FALSE(parsed) << format;
    if (!parsed) {
      EXPECT_NE(parsed.error().message.find(why), std::string::npos)
          << format << ": " << parsed.error().message;
    }
  }
  const std::vector<std::string> good_formats{
      "https://shop.example.com/discount/{code}", "http://{shop}/apply?code={code}&next={path}",
      "https://{shop}/d/{code}#{campaign}", "https://{shop}/%E3%81%8A/{code}",
      std::string(pd::kDefaultLinkFormat)};
  for (const auto& good : good_formats) {
    EXPECT_TRUE(pd::parse_link_format(good)) << good;
  }
}

TEST(DiscountLink, PercentEncodingIsUpperCaseHexOfEveryByteButUnreserved) {
  EXPECT_EQ(pd::percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(pd::percent_encode(" !\"#$%&'()*+,/:;<=>?@[\\]^`{|}"),
            "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%"
            "7D");
  EXPECT_EQ(pd::percent_encode("a/b", true), "a/b");
  EXPECT_EQ(pd::percent_encode(std::string("\x00\x7f\xff", 3)), "%00%7F%FF");
}
