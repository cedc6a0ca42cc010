// Streaming SHA-256 (OpenSSL EVP). Not thread-safe; one hasher per stream.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace imgbuild {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes the hash; the hasher is reset and may be reused.
  std::array<uint8_t, 32> finish();
  // Finishes and returns lowercase hex (64 chars).
  std::string finish_hex();

  static std::string hex_of(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string to_hex(const uint8_t* data, size_t size);

}  // namespace imgbuild
