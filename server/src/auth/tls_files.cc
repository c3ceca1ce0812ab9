#include "tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace auroraedge::server::auth {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

[[noreturn]] void Fail(const std::string& what, const std::string& path,
                       const std::string& problem) {
  throw TlsFileError(what + " " + path + ": " + problem);
}

std::string ReadFile(const std::string& what, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) Fail(what, path, "cannot be opened");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// Every certificate in the PEM text, in order.
std::vector<X509Ptr> ReadCertificates(const std::string& what, const std::string& path) {
  const std::string text = ReadFile(what, path);
  BioPtr bio = MemoryBio(text);
  std::vector<X509Ptr> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // the read past the last certificate
  if (certificates.empty()) Fail(what, path, "holds no PEM certificate");
  return certificates;
}

// No passphrase callback would make OpenSSL prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

KeyPtr ReadPrivateKey(const std::string& path) {
  const std::string text = ReadFile("private key", path);
  BioPtr bio = MemoryBio(text);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) Fail("private key", path, "holds no unencrypted PEM private key");
  return key;
}

std::string Subject(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  return BioText(bio.get());
}

std::string Time(const ASN1_TIME* time) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), time);
  return BioText(bio.get());
}

void CheckValidity(X509* certificate, const std::string& path,
                   std::chrono::system_clock::time_point now) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  if (X509_cmp_time(X509_get0_notAfter(certificate), &seconds) < 0) {
    Fail("certificate", path, "expired on " + Time(X509_get0_notAfter(certificate)));
  }
  if (X509_cmp_time(X509_get0_notBefore(certificate), &seconds) > 0) {
    Fail("certificate", path, "not valid before " + Time(X509_get0_notBefore(certificate)));
  }
}

// The chain and the key as gRPC reads them from one file: one read cannot
// pair a new certificate with an old key.
std::string IdentityPem(const std::vector<X509Ptr>& chain, EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (const X509Ptr& certificate : chain) PEM_write_bio_X509(bio.get(), certificate.get());
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

std::string CertificatesPem(const std::vector<X509Ptr>& certificates) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  for (const X509Ptr& certificate : certificates) PEM_write_bio_X509(bio.get(), certificate.get());
  return BioText(bio.get());
}

}  // namespace

TlsMaterial LoadTlsMaterial(const TlsFiles& files, std::chrono::system_clock::time_point now) {
  const std::vector<X509Ptr> chain = ReadCertificates("certificate", files.certificate);
  X509* leaf = chain.front().get();
  CheckValidity(leaf, files.certificate, now);
  const KeyPtr key = ReadPrivateKey(files.private_key);
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    Fail("private key", files.private_key,
         "does not belong to the certificate " + files.certificate + " (" + Subject(leaf) + ")");
  }
  TlsMaterial material;
  material.identity_pem = IdentityPem(chain, key.get());
  material.subject = Subject(leaf);
  material.not_after = Time(X509_get0_notAfter(leaf));
  if (!files.client_ca.empty()) {
    const std::vector<X509Ptr> authorities = ReadCertificates("client CA", files.client_ca);
    material.client_ca_pem = CertificatesPem(authorities);
    material.client_ca_certificates = static_cast<int>(authorities.size());
  }
  return material;
}

}  // namespace auroraedge::server::auth
