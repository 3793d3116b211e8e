// gradquant: dispatch on the subcommand, the one top-level catch, exit codes, signals.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/io/output_file.hpp"

namespace {

using namespace gradquant::cli;

constexpr const char* kUsage =
    "usage: gradquant <command> [options]   (gradquant <command> --help for its options)\n"
    "\n"
    "commands:\n"
    "  info        records, workers, layers and attributes of a dump\n"
    "  list        every quantizer with its parameters, defaults and ranges\n"
    "  compress    encode a dump, store the messages, report bits and error per layer\n"
    "  decompress  rebuild gradients from a compressed file's messages alone\n"
    "  bench       encode/decode throughput against the machine's memory bandwidth\n"
    "  optimize    TNQ thresholds vs their measured optimum; best spec per family under a budget\n"
    "\n"
    "exit codes: 0 ok, 1 usage or spec error, 2 input/output file error, 3 corrupt message,\n"
    "            4 other error; 130/143 interrupted by SIGINT/SIGTERM (no output left behind)\n";

void OnSignal(int sig) {
  gradquant::RemovePendingOutputs();
  const char msg[] = "gradquant: interrupted, no output written\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(128 + sig);
}

int Dispatch(const std::string& command, int argc, char** argv) {
  if (command == "info") return RunInfo(argc, argv);
  if (command == "list") return RunList(argc, argv);
  if (command == "compress") return RunCompress(argc, argv);
  if (command == "decompress") return RunDecompress(argc, argv);
  if (command == "bench") return RunBench(argc, argv);
  if (command == "optimize") return RunOptimize(argc, argv);
  throw gradquant::SpecError("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  gradquant::PinBlasThreads();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cout << kUsage;
    return argc < 2 ? kExitUsage : kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::cout << "gradquant " << gradquant::kVersion << '\n';
    return kExitOk;
  }
  const std::string command = argv[1];
  try {
    return Dispatch(command, argc - 1, argv + 1);
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "gradquant: error: " << e.what() << " (see 'gradquant " << command << " --help')\n";
    return kExitUsage;
  } catch (const gradquant::SpecError& e) {
    std::cerr << "gradquant: error: " << e.what() << " (see 'gradquant " << command << " --help')\n";
    return kExitUsage;
  } catch (const gradquant::IoError& e) {
    std::cerr << "gradquant: error: " << e.what() << '\n';
    return kExitInput;
  } catch (const gradquant::FormatError& e) {
    std::cerr << "gradquant: error: " << e.what() << '\n';
    return kExitCorrupt;
  } catch (const std::exception& e) {
    std::cerr << "gradquant: error: " << e.what() << '\n';
    return kExitOther;
  }
}
