// gradquant: dispatch on the subcommand, the one top-level catch, exit codes, signals.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <new>
#include <string>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/core/memory.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/io/output_file.hpp"
#include "one_line.hpp"

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
    "  analyze     bits, error against theory over R trials, bias, aggregate error, speed, and\n"
    "              gradient statistics (tails, fits, correlation across workers)\n"
    "  optimize    TNQ thresholds vs their measured optimum; best spec per family under a budget\n"
    "\n"
    "exit codes: 0 ok, 1 usage or spec error, 2 input/output file error, 3 corrupt message,\n"
    "            4 other error; 128+N killed by signal N (130 SIGINT, 143 SIGTERM; no output\n"
    "            left behind)\n";

// Removes the outputs being written and exits 128 + sig; only async-signal-safe calls.
void OnSignal(int sig) {
  gradquant::RemovePendingOutputs();
  const char* msg = "gradquant: interrupted, no output written\n";
  if (sig == SIGTERM) msg = "gradquant: terminated, no output written\n";
  if (sig == SIGHUP) msg = "gradquant: hangup, no output written\n";
  if (sig == SIGQUIT) msg = "gradquant: quit, no output written\n";
  if (sig == SIGALRM) msg = "gradquant: alarm clock, no output written\n";
  if (sig == SIGUSR1 || sig == SIGUSR2) msg = "gradquant: user signal, no output written\n";
  if (sig != SIGPIPE) (void)!write(STDERR_FILENO, msg, std::strlen(msg));  // a closed pipe: quiet
  _exit(128 + sig);
}

// OpenMP threads that wait for work spin by default (libgomp), and on a machine shared with
// other jobs they take the cores the working threads need. libgomp reads its wait policy once,
// when it is loaded, so a process started without OMP_WAIT_POLICY starts itself again with
// OMP_WAIT_POLICY=passive (same PID, same arguments). A user's own setting is left alone; if
// the program cannot be found again, it runs on as it is.
void PreferPassiveWaiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 0) != 0) return;
  execv("/proc/self/exe", argv);
}

int Dispatch(const std::string& command, int argc, char** argv) {
  if (command == "info") return RunInfo(argc, argv);
  if (command == "list") return RunList(argc, argv);
  if (command == "compress") return RunCompress(argc, argv);
  if (command == "decompress") return RunDecompress(argc, argv);
  if (command == "bench") return RunBench(argc, argv);
  if (command == "analyze") return RunAnalyze(argc, argv);
  if (command == "optimize") return RunOptimize(argc, argv);
  std::cerr << "gradquant: error: unknown command '" << command << "' (see 'gradquant --help')\n";
  return kExitUsage;
}

int Main(int argc, char** argv) {
  gradquant::PinBlasThreads();
  if (const int asked = gradquant::CapThreads()) {
    std::cerr << "gradquant: warning: " << asked << " OpenMP threads asked for; using "
              << gradquant::MaxUsefulThreads() << " (4 per core)\n";
  }
  // Items come and go with slab-sized blocks: keep freed memory for reuse instead of mapping
  // and faulting in fresh pages for every item (the peak resident size is unchanged).
  gradquant::RetainFreedMemory();
  // Every signal whose default action ends the process removes the outputs being written first.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2}) {
    std::signal(sig, OnSignal);
  }
  // A library that ends the process with exit() (libgomp when it cannot create a thread) still
  // removes the outputs being written.
  std::atexit(gradquant::RemovePendingOutputs);
  // Past `ulimit -f` a write fails with EFBIG (an error with a message and cleanup) instead of
  // the process being killed by SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    std::cerr << kUsage;  // a usage error: stderr, exit 1
    return kExitUsage;
  }
  const std::string command = argv[1];
  try {
    int code = kExitOk;
    if (command == "--help" || command == "-h") {
      std::cout << kUsage;
    } else if (command == "--version") {
      std::cout << "gradquant " << gradquant::kVersion << '\n';
    } else {
      code = Dispatch(command, argc - 1, argv + 1);
    }
    // Output not checked by a report (help, `list --format table`) is checked here.
    errno = 0;
    std::cout.flush();
    if (!std::cout) {
      throw gradquant::IoError(std::string("stdout: write failed (") +
                               (errno ? std::strerror(errno) : "stream error") + ")");
    }
    return code;
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "gradquant: error: " << OneLine(e.what()) << " (see 'gradquant " << command
              << " --help')\n";
    return kExitUsage;
  } catch (const gradquant::SpecError& e) {
    std::cerr << "gradquant: error: " << OneLine(e.what()) << " (see 'gradquant " << command
              << " --help')\n";
    return kExitUsage;
  } catch (const gradquant::NonfiniteError& e) {
    std::cerr << "gradquant: error: " << OneLine(e.what())
              << " (--nonfinite zero replaces such values by 0)\n";
    return kExitInput;
  } catch (const gradquant::IoError& e) {
    std::cerr << "gradquant: error: " << OneLine(e.what()) << '\n';
    return kExitInput;
  } catch (const gradquant::FormatError& e) {
    std::cerr << "gradquant: error: " << OneLine(e.what()) << '\n';
    return kExitCorrupt;
  } catch (const std::bad_alloc&) {
    std::cerr << "gradquant: error: out of memory running '" << OneLine(command)
              << "' (select fewer layers or records with --layers and --records, or use fewer "
                 "threads)\n";
    return kExitOther;
  } catch (const std::exception& e) {
    std::cerr << "gradquant: error: " << OneLine(e.what()) << '\n';
    return kExitOther;
  }
}

}  // namespace

int main(int argc, char** argv) {
  PreferPassiveWaiting(argv);
  const int code = Main(argc, argv);
  if (gradquant::OutputWriteFailed()) {
    // HDF5's own shutdown can crash on a file whose close failed: end without it.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(code);
  }
  return code;
}
