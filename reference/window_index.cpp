// window_index: see window_index.h.
#include "reference/window_index.h"

#include <stdexcept>
#include <string>

namespace v4 {

namespace {
void check(const char* fn, int64_t a, int64_t b) {
  if (a < 0 || b <= 0)
    throw std::invalid_argument(std::string(fn) + ": bad arguments " + std::to_string(a) + ", " + std::to_string(b));
}
}  // namespace

void window_index_prefill(int64_t s, int64_t win, int32_t* idx) {
  check("window_index_prefill", s, win);
  const int64_t width = window_index_prefill_width(s, win);
  for (int64_t t = 0; t < s; ++t) {
    const int64_t first = t - win + 1 > 0 ? t - win + 1 : 0;
    for (int64_t j = 0; j < width; ++j) idx[t * width + j] = first + j <= t ? int32_t(first + j) : -1;
  }
}

void window_index_decode(int64_t p, int64_t win, int32_t* idx) {
  check("window_index_decode", p, win);
  if (p >= win - 1) {
    const int64_t newest = p % win;
    for (int64_t j = 0; j < win; ++j) idx[j] = int32_t((newest + 1 + j) % win);
  } else {
    for (int64_t j = 0; j < win; ++j) idx[j] = j <= p ? int32_t(j) : -1;
  }
}

void compressed_index_prefill(int64_t s, int64_t r, int64_t offset, int32_t* idx) {
  check("compressed_index_prefill", s, r);
  const int64_t width = compressed_index_prefill_width(s, r);
  for (int64_t t = 0; t < s; ++t)
    for (int64_t i = 0; i < width; ++i) idx[t * width + i] = i < compressed_visible(t, r) ? int32_t(i + offset) : -1;
}

void compressed_index_decode(int64_t p, int64_t r, int64_t offset, int32_t* idx) {
  check("compressed_index_decode", p, r);
  for (int64_t i = 0; i < compressed_visible(p, r); ++i) idx[i] = int32_t(i + offset);
}

}  // namespace v4
