// Test runner: Catch2 2.13 with our own main, so a test run names the library versions it used.
#define CATCH_CONFIG_RUNNER
#include <armadillo>
#include <catch2/catch.hpp>
#include <iostream>

#include "gradquant/core/version.hpp"

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int bad = session.applyCommandLine(argc, argv)) return bad;
  // ctest's test discovery lists the tests (several times per build): only a real run names the
  // versions, so the build does not print the banner.
  const Catch::ConfigData& config = session.configData();
  if (!config.listTests && !config.listTestNamesOnly && !config.listTags && !config.listReporters &&
      !config.showHelp) {
    std::cerr << "gradquant " << gradquant::kVersion << ", Armadillo "
              << arma::arma_version::as_string() << '\n';
  }
  return session.run();
}
