// InputError: the one exception type for bad input (missing/corrupt file, missing dataset, wrong format
// or shape). design.md §6: the CLI prints what() as a single line and exits with status 2, so what() is
// always one line of the form "<file>: <dataset>: <problem>" (the dataset part is left out when the
// problem concerns the whole file).
#pragma once
#include <stdexcept>
#include <string>

namespace v4::golden {

struct InputError : std::runtime_error {
  InputError(std::string file_, std::string dataset_, std::string problem_)
      : std::runtime_error(compose(file_, dataset_, problem_)),
        file(std::move(file_)),
        dataset(std::move(dataset_)),
        problem(std::move(problem_)) {}

  std::string file;     // as the user named it
  std::string dataset;  // HDF5 path ("/layers/3/moe_gate/scores"), empty for file-level problems
  std::string problem;  // what is wrong, in words

 private:
  static std::string compose(const std::string& file, const std::string& dataset, const std::string& problem) {
    std::string line = file + ": ";
    if (!dataset.empty()) line += dataset + ": ";
    line += problem;
    for (char& c : line)  // one line, whatever the problem text (HDF5 messages) contained
      if (c == '\n' || c == '\r') c = ' ';
    return line;
  }
};

}  // namespace v4::golden
