// Test runner: Catch2 2.13 with our own main, so the run names the library versions it used.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <armadillo>
#include <iostream>

#include "gradquant/core/version.hpp"

int main(int argc, char* argv[]) {
  std::cerr << "gradquant " << gradquant::kVersion << ", Armadillo " << arma::arma_version::as_string()
            << '\n';
  return Catch::Session().run(argc, argv);
}
