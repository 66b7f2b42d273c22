// Small helpers shared by the benchmark drivers: peak resident memory and comma-separated option lists.
#pragma once
#include <sys/resource.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace v4::bench {

// Peak resident set size of this process so far, MiB (Linux reports ru_maxrss in KiB).
inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// "1,2,4" -> {1, 2, 4}.
inline std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');) v.push_back(std::atoi(t.c_str()));
  return v;
}

}  // namespace v4::bench
