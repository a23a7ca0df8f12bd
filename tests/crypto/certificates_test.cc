// The consortium's certificates (crypto/certificates.h): a CA issues node
// certificates that name the node and its Raft id; the checks a node makes
// on its own certificate refuse the wrong CA, the wrong key, the wrong time
// and a CA certificate.
#include <catch2/catch.hpp>
#include <ctime>

#include "crypto/certificates.h"

namespace chipledger {
namespace {

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

template <typename T>
T must(Result<T> r) {
  INFO(r.reason());
  REQUIRE(r);
  return std::move(*r);
}

}  // namespace

TEST_CASE("certificates: a node certificate says its node, Raft id and hosts", "[tls]") {
  auto ca = must(make_ca("test CA", now() - 60, now() + 3600));
  auto ca_info = must(certificate_info(ca.cert_pem));
  CHECK(ca_info.is_ca);
  CHECK(ca_info.common_name == "test CA");
  CHECK_FALSE(ca_info.raft_id);

  auto node =
      must(issue_node_certificate(ca, {"node-7",
                                       7,
                                       {"localhost", "127.0.0.1", "::1", "raft.example.org"},
                                       now() - 60,
                                       now() + 600}));
  auto info = must(certificate_info(node.cert_pem));
  CHECK(info.common_name == "node-7");
  REQUIRE(info.raft_id);
  CHECK(*info.raft_id == 7);
  CHECK_FALSE(info.is_ca);
  CHECK(info.hosts ==
        std::vector<std::string>{"localhost", "127.0.0.1", "::1", "raft.example.org"});
  CHECK(info.not_after - info.not_before == 660);
  // The DER form says the same.
  auto again = must(certificate_info_der(info.der));
  CHECK(again.common_name == "node-7");
  CHECK(again.raft_id == info.raft_id);

  CHECK(check_node_certificate(ca.cert_pem, node.cert_pem, node.key_pem, now()));
}

TEST_CASE("certificates: the node's own checks refuse what would not work", "[tls]") {
  auto ca = must(make_ca("test CA", now() - 60, now() + 3600));
  auto other_ca = must(make_ca("other CA", now() - 60, now() + 3600));
  auto node =
      must(issue_node_certificate(ca, {"node-1", 1, {"localhost"}, now() - 60, now() + 600}));
  auto other =
      must(issue_node_certificate(ca, {"node-2", 2, {"localhost"}, now() - 60, now() + 600}));

  Status wrong_ca = check_node_certificate(other_ca.cert_pem, node.cert_pem, node.key_pem, now());
  CHECK_FALSE(wrong_ca);
  CHECK_THAT(wrong_ca.reason(), Catch::Contains("does not chain to the CA"));

  Status wrong_key = check_node_certificate(ca.cert_pem, node.cert_pem, other.key_pem, now());
  CHECK_FALSE(wrong_key);
  CHECK_THAT(wrong_key.reason(), Catch::Contains("key does not belong"));

  Status expired = check_node_certificate(ca.cert_pem, node.cert_pem, node.key_pem, now() + 7200);
  CHECK_FALSE(expired);
  CHECK_THAT(expired.reason(), Catch::Contains("expired"));

  Status early = check_node_certificate(ca.cert_pem, node.cert_pem, node.key_pem, now() - 3600);
  CHECK_FALSE(early);
  CHECK_THAT(early.reason(), Catch::Contains("not yet valid"));

  Status ca_as_node = check_node_certificate(ca.cert_pem, ca.cert_pem, ca.key_pem, now());
  CHECK_FALSE(ca_as_node);
  CHECK_THAT(ca_as_node.reason(), Catch::Contains("CA certificate"));

  // A bundle of CAs: any of them may have issued the certificate.
  CHECK(
      check_node_certificate(other_ca.cert_pem + ca.cert_pem, node.cert_pem, node.key_pem, now()));
  CHECK(must(split_certificates(other_ca.cert_pem + ca.cert_pem)).size() == 2);
}

TEST_CASE("certificates: bad requests and bad texts are refused with a reason", "[tls]") {
  auto ca = must(make_ca("test CA", now() - 60, now() + 3600));
  auto bad_host = issue_node_certificate(ca, {"n", 1, {"a,DNS:evil.example"}, now(), now() + 60});
  CHECK_FALSE(bad_host);
  CHECK_THAT(bad_host.reason(), Catch::Contains("not a host name"));
  auto no_name = issue_node_certificate(ca, {"", 1, {}, now(), now() + 60});
  CHECK_FALSE(no_name);
  auto backwards = issue_node_certificate(ca, {"n", 1, {}, now(), now() - 60});
  CHECK_FALSE(backwards);
  CHECK_THAT(backwards.reason(), Catch::Contains("end after it begins"));
  auto not_ca = issue_node_certificate({ca.cert_pem, must(make_ca("x", now(), now() + 60)).key_pem},
                                       {"n", 1, {}, now(), now() + 60});
  CHECK_FALSE(not_ca);
  CHECK_THAT(not_ca.reason(), Catch::Contains("CA key does not belong"));

  CHECK_FALSE(certificate_info("not a certificate"));
  CHECK_FALSE(certificate_info(""));
  CHECK_FALSE(certificate_info_der(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}));
  CHECK_FALSE(split_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
}

TEST_CASE("certificates: a Raft id is read only from a well-formed URI", "[tls]") {
  auto ca = must(make_ca("test CA", now() - 60, now() + 3600));
  // Without a Raft id the certificate has none (an API-only certificate).
  auto api_only = must(issue_node_certificate(ca, {"api", 0, {"localhost"}, now(), now() + 60}));
  CHECK_FALSE(must(certificate_info(api_only.cert_pem)).raft_id);
  auto big =
      must(issue_node_certificate(ca, {"big", 18446744073709551615ull, {}, now(), now() + 60}));
  CHECK(must(certificate_info(big.cert_pem)).raft_id == 18446744073709551615ull);
}

}  // namespace chipledger
