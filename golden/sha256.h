// SHA-256 (FIPS 180-4), self-contained and streaming: the content hash every tensor dataset carries in
// its `sha256` attribute (tensor_io.h), computed over the stored bytes as they are written or read.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace v4::golden {

class Sha256 {
 public:
  Sha256();
  void update(const void* bytes, size_t n);
  std::array<uint8_t, 32> digest();  // finishes; the object must not be updated afterwards
  std::string hex_digest();          // lowercase, 64 characters

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_;
  size_t buf_len_ = 0;
  uint64_t total_bytes_ = 0;
};
std::string sha256_hex(const void* bytes, size_t n);

}  // namespace v4::golden
