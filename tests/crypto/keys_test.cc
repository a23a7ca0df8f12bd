#include "crypto/keys.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace chipledger;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "chipledger-keys-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Runs a shell command quietly; true when it exits 0.
bool run(const std::string& command) {
  return std::system((command + " 2>/dev/null").c_str()) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, ByteView data) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

Bytes unhex(std::string_view hex) {
  auto r = hex_decode(hex);
  REQUIRE(r);
  return *r;
}

const KeyAlgorithm kBoth[] = {KeyAlgorithm::ed25519, KeyAlgorithm::ecdsa_p256,
                              KeyAlgorithm::ecdsa_p384};

}  // namespace

TEST_CASE("algorithm names round trip", "[keys]") {
  for (KeyAlgorithm alg : kBoth) {
    auto back = algorithm_from_name(algorithm_name(alg));
    REQUIRE(back);
    CHECK(*back == alg);
  }
  CHECK(algorithm_name(KeyAlgorithm::ed25519) == "ed25519");
  CHECK(algorithm_name(KeyAlgorithm::ecdsa_p256) == "ecdsa-p256");
  CHECK(algorithm_name(KeyAlgorithm::ecdsa_p384) == "ecdsa-p384");
  CHECK_FALSE(algorithm_from_name("rsa"));
  CHECK_FALSE(algorithm_from_name("ED25519"));
  CHECK_FALSE(algorithm_from_name(""));
}

TEST_CASE("generate, sign and verify", "[keys]") {
  for (KeyAlgorithm alg : kBoth) {
    DYNAMIC_SECTION(algorithm_name(alg)) {
      auto key = PrivateKey::generate(alg);
      REQUIRE(key);
      CHECK(key->algorithm() == alg);
      CHECK(key->public_key().algorithm() == alg);
      Bytes msg = to_bytes("transfer chip 42 to vault B");
      auto sig = key->sign(msg);
      REQUIRE(sig);
      if (alg == KeyAlgorithm::ed25519) CHECK(sig->size() == 64);
      if (alg == KeyAlgorithm::ecdsa_p256) {
        CHECK(sig->size() <= 72);
        CHECK((*sig)[0] == 0x30);  // DER SEQUENCE
      }
      CHECK(key->public_key().verify(msg, *sig));

      SECTION("tampered message fails") {
        Bytes tampered = msg;
        tampered[0] ^= 1;
        CHECK_FALSE(key->public_key().verify(tampered, *sig));
        CHECK_FALSE(key->public_key().verify(Bytes{}, *sig));
      }
      SECTION("tampered signature fails") {
        for (size_t i = 0; i < sig->size(); i += 7) {
          Bytes bad = *sig;
          bad[i] ^= 0x40;
          CHECK_FALSE(key->public_key().verify(msg, bad));
        }
      }
      SECTION("another key fails") {
        auto other = PrivateKey::generate(alg);
        REQUIRE(other);
        CHECK_FALSE(other->public_key().verify(msg, *sig));
        CHECK(other->public_key().key_id() != key->public_key().key_id());
      }
      SECTION("empty message signs and verifies") {
        auto empty_sig = key->sign(Bytes{});
        REQUIRE(empty_sig);
        CHECK(key->public_key().verify(Bytes{}, *empty_sig));
        CHECK_FALSE(key->public_key().verify(msg, *empty_sig));
      }
    }
  }
}

TEST_CASE("verify returns false for garbage signatures of any length", "[keys]") {
  for (KeyAlgorithm alg : kBoth) {
    auto key = PrivateKey::generate(alg);
    REQUIRE(key);
    Bytes msg = to_bytes("m");
    for (size_t len : {0, 1, 2, 8, 31, 63, 64, 65, 70, 71, 72, 73, 128, 4096}) {
      Bytes zeros(len, 0), ones(len, 0xff), der_like(len, 0x02);
      if (len > 0) der_like[0] = 0x30;
      if (len > 1) der_like[1] = static_cast<uint8_t>(len - 2);
      CHECK_FALSE(key->public_key().verify(msg, zeros));
      CHECK_FALSE(key->public_key().verify(msg, ones));
      CHECK_FALSE(key->public_key().verify(msg, der_like));
    }
  }
}

TEST_CASE("ed25519 and ecdsa signatures are not interchangeable", "[keys]") {
  auto ed = PrivateKey::generate(KeyAlgorithm::ed25519);
  auto ec = PrivateKey::generate(KeyAlgorithm::ecdsa_p256);
  REQUIRE(ed);
  REQUIRE(ec);
  Bytes msg = to_bytes("hello");
  auto ed_sig = ed->sign(msg);
  auto ec_sig = ec->sign(msg);
  REQUIRE(ed_sig);
  REQUIRE(ec_sig);
  CHECK_FALSE(ec->public_key().verify(msg, *ed_sig));
  CHECK_FALSE(ed->public_key().verify(msg, *ec_sig));
}

TEST_CASE("RFC 8032 Ed25519 test vectors 1 and 2", "[keys][vectors]") {
  struct Vector {
    const char* seed;
    const char* pub;
    const char* msg;
    const char* sig;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
       "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
       "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& v : vectors) {
    auto key = PrivateKey::ed25519_from_seed(unhex(v.seed));
    REQUIRE(key);
    auto raw = key->public_key().raw_ed25519();
    REQUIRE(raw);
    CHECK(hex_encode(*raw) == v.pub);
    Bytes msg = unhex(v.msg);
    auto sig = key->sign(msg);
    REQUIRE(sig);
    CHECK(hex_encode(*sig) == v.sig);
    CHECK(key->public_key().verify(msg, unhex(v.sig)));
    // The SPKI is the fixed Ed25519 prefix followed by the raw key.
    CHECK(hex_encode(key->public_key().der()) == std::string("302a300506032b6570032100") + v.pub);
  }
}

TEST_CASE("ed25519_from_seed refuses wrong seed sizes", "[keys]") {
  CHECK_FALSE(PrivateKey::ed25519_from_seed(Bytes(31)));
  CHECK_FALSE(PrivateKey::ed25519_from_seed(Bytes(33)));
  CHECK_FALSE(PrivateKey::ed25519_from_seed(Bytes{}));
  CHECK_THAT(PrivateKey::ed25519_from_seed(Bytes(64)).reason(), Catch::Contains("32"));
}

TEST_CASE("raw_ed25519 is ed25519 only", "[keys]") {
  auto ec = PrivateKey::generate(KeyAlgorithm::ecdsa_p256);
  REQUIRE(ec);
  CHECK_FALSE(ec->public_key().raw_ed25519());
}

TEST_CASE("PEM and DER round trips", "[keys]") {
  for (KeyAlgorithm alg : kBoth) {
    DYNAMIC_SECTION(algorithm_name(alg)) {
      auto key = PrivateKey::generate(alg);
      REQUIRE(key);
      std::string pem = key->pem();
      CHECK_THAT(pem, Catch::StartsWith("-----BEGIN PRIVATE KEY-----\n"));
      auto again = PrivateKey::from_pem(pem);
      REQUIRE(again);
      CHECK(again->algorithm() == alg);
      CHECK(again->public_key().der() == key->public_key().der());
      CHECK(again->pem() == pem);

      const PublicKey& pub = key->public_key();
      CHECK_THAT(pub.pem(), Catch::StartsWith("-----BEGIN PUBLIC KEY-----\n"));
      CHECK_THAT(pub.pem(), Catch::EndsWith("-----END PUBLIC KEY-----\n"));
      auto from_pem = PublicKey::from_pem(pub.pem());
      REQUIRE(from_pem);
      CHECK(from_pem->der() == pub.der());
      CHECK(from_pem->key_id() == pub.key_id());
      CHECK(from_pem->algorithm() == alg);
      auto from_der = PublicKey::from_der(pub.der());
      REQUIRE(from_der);
      CHECK(from_der->key_id() == pub.key_id());
      CHECK(pub.key_id() == sha256(pub.der()));

      Bytes msg = to_bytes("round trip");
      auto sig = again->sign(msg);
      REQUIRE(sig);
      CHECK(from_der->verify(msg, *sig));
    }
  }
}

TEST_CASE("malformed keys are refused with a reason", "[keys]") {
  auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
  REQUIRE(key);
  std::string pub_pem = key->public_key().pem();
  std::string priv_pem = key->pem();

  CHECK_FALSE(PrivateKey::from_pem(""));
  CHECK_FALSE(PrivateKey::from_pem("not a key"));
  CHECK_FALSE(PrivateKey::from_pem(pub_pem));  // a public key is not a private key
  CHECK_FALSE(PublicKey::from_pem(priv_pem));  // and the other way round
  CHECK_FALSE(PublicKey::from_pem(""));
  CHECK_FALSE(PublicKey::from_der(Bytes{}));
  CHECK_FALSE(PublicKey::from_der(to_bytes("garbage")));

  std::string truncated = priv_pem.substr(0, priv_pem.size() / 2);
  auto r = PrivateKey::from_pem(truncated);
  CHECK_FALSE(r);
  CHECK_FALSE(r.reason().empty());

  Bytes der = key->public_key().der();
  Bytes trailing = der;
  trailing.push_back(0);
  CHECK_FALSE(PublicKey::from_der(trailing));
  der.pop_back();
  CHECK_FALSE(PublicKey::from_der(der));
}

TEST_CASE("save_file writes mode 0600 and refuses to overwrite", "[keys]") {
  TempDir dir;
  for (KeyAlgorithm alg : kBoth) {
    auto key = PrivateKey::generate(alg);
    REQUIRE(key);
    std::string path = dir.file(std::string(algorithm_name(alg)) + ".pem");
    REQUIRE(key->save_file(path).is_ok());

    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_text(path) == key->pem());

    Status again = key->save_file(path);
    CHECK_FALSE(again.is_ok());
    CHECK_THAT(again.reason(), Catch::Contains(path));
    CHECK(read_text(path) == key->pem());  // untouched

    auto loaded = PrivateKey::load_file(path);
    REQUIRE(loaded);
    CHECK(loaded->public_key().der() == key->public_key().der());
  }
  CHECK_FALSE(PrivateKey::load_file(dir.file("missing.pem")));
  auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
  REQUIRE(key);
  CHECK_FALSE(key->save_file(dir.file("no/such/dir/key.pem")).is_ok());
}

TEST_CASE("keys made by the openssl CLI load and interoperate", "[keys][openssl]") {
  TempDir dir;
  struct Case {
    const char* name;
    const char* genpkey;
    KeyAlgorithm alg;
  };
  const Case cases[] = {
      {"ed25519", "openssl genpkey -algorithm ed25519", KeyAlgorithm::ed25519},
      {"p256", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
       KeyAlgorithm::ecdsa_p256},
      {"p384", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384",
       KeyAlgorithm::ecdsa_p384},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      std::string key_path = dir.file(std::string(c.name) + ".pem");
      REQUIRE(run(std::string(c.genpkey) + " -out " + key_path));
      CHECK_THAT(read_text(key_path), Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));
      auto key = PrivateKey::load_file(key_path);
      REQUIRE(key);
      CHECK(key->algorithm() == c.alg);

      // Our public key equals the one openssl derives.
      std::string pub_path = dir.file(std::string(c.name) + ".pub");
      REQUIRE(run("openssl pkey -in " + key_path + " -pubout -out " + pub_path));
      auto cli_pub = PublicKey::from_pem(read_text(pub_path));
      REQUIRE(cli_pub);
      CHECK(cli_pub->der() == key->public_key().der());
      CHECK(cli_pub->pem() == read_text(pub_path));

      // We sign, openssl verifies.
      std::string digest = c.alg == KeyAlgorithm::ecdsa_p384 ? "-sha384" : "-sha256";
      Bytes msg = to_bytes("chip custody handoff #7\n");
      std::string msg_path = dir.file("msg");
      std::string sig_path = dir.file(std::string(c.name) + ".sig");
      write_bytes(msg_path, msg);
      auto sig = key->sign(msg);
      REQUIRE(sig);
      write_bytes(sig_path, *sig);
      std::string verify = c.alg == KeyAlgorithm::ed25519
                               ? "openssl pkeyutl -verify -pubin -inkey " + pub_path +
                                     " -rawin -in " + msg_path + " -sigfile " + sig_path
                               : "openssl dgst " + digest + " -verify " + pub_path +
                                     " -signature " + sig_path + " " + msg_path;
      CHECK(run(verify + " >/dev/null"));

      // openssl signs, we verify.
      std::string cli_sig_path = dir.file(std::string(c.name) + ".clisig");
      std::string sign = c.alg == KeyAlgorithm::ed25519
                             ? "openssl pkeyutl -sign -inkey " + key_path + " -rawin -in " +
                                   msg_path + " -out " + cli_sig_path
                             : "openssl dgst " + digest + " -sign " + key_path + " -out " +
                                   cli_sig_path + " " + msg_path;
      REQUIRE(run(sign));
      Bytes cli_sig = to_bytes(read_text(cli_sig_path));
      CHECK(key->public_key().verify(msg, cli_sig));
      Bytes tampered = msg;
      tampered.back() ^= 1;
      CHECK_FALSE(key->public_key().verify(tampered, cli_sig));
    }
  }
}

TEST_CASE("traditional BEGIN EC PRIVATE KEY files load", "[keys][openssl]") {
  TempDir dir;
  std::string path = dir.file("ec.pem");
  // ecparam writes an "EC PARAMETERS" block first, then the key.
  REQUIRE(run("openssl ecparam -name prime256v1 -genkey -out " + path));
  std::string text = read_text(path);
  REQUIRE_THAT(text, Catch::Contains("-----BEGIN EC PRIVATE KEY-----"));
  auto key = PrivateKey::from_pem(text);
  REQUIRE(key);
  CHECK(key->algorithm() == KeyAlgorithm::ecdsa_p256);
  CHECK_THAT(key->pem(), Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));
  auto sig = key->sign(to_bytes("x"));
  REQUIRE(sig);
  CHECK(key->public_key().verify(to_bytes("x"), *sig));
}

TEST_CASE("other key types are refused with a clear reason", "[keys][openssl]") {
  TempDir dir;
  struct Case {
    const char* name;
    const char* command;
    const char* reason;
  };
  const Case cases[] = {
      {"rsa", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024", "RSA"},
      {"p521", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521", "secp521r1"},
      {"secp256k1", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1",
       "secp256k1"},
      {"ed448", "openssl genpkey -algorithm ed448", "ED448"},
      {"encrypted", "openssl genpkey -algorithm ed25519 -aes-128-cbc -pass pass:secret",
       "not an unencrypted"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      std::string path = dir.file(std::string(c.name) + ".pem");
      REQUIRE(run(std::string(c.command) + " -out " + path));
      auto key = PrivateKey::load_file(path);
      REQUIRE_FALSE(key);
      CHECK_THAT(key.reason(), Catch::Contains(c.reason));
      if (std::string_view(c.name) != "encrypted") {
        CHECK_THAT(key.reason(), Catch::Contains("supported"));
        std::string pub_path = path + ".pub";
        REQUIRE(run("openssl pkey -in " + path + " -pubout -out " + pub_path));
        auto pub = PublicKey::from_pem(read_text(pub_path));
        REQUIRE_FALSE(pub);
        CHECK_THAT(pub.reason(), Catch::Contains(c.reason));
      }
    }
  }
}

TEST_CASE("keys are usable from copies and across threads of ownership", "[keys]") {
  auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
  REQUIRE(key);
  PublicKey pub = key->public_key();  // copies share the OpenSSL object
  PrivateKey copy = *key;
  auto sig = copy.sign(to_bytes("a"));
  REQUIRE(sig);
  key = Result<PrivateKey>::error("dropped");
  CHECK(pub.verify(to_bytes("a"), *sig));
}
