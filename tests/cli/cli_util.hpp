#pragma once
// Test-only process helpers for the CLI tests beyond test::RunGradquant: a chosen stdout
// (/dev/full), background runs that can be signalled, and folder listings.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"

extern char** environ;

namespace gradquant::test {

/** The whole content of a text file ("" if missing). */
inline std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

/** Runs gradquant with @p args (shell-quoted) and stdout sent to @p stdoutPath. */
inline RunResult RunGradquantTo(const std::string& args, const std::string& stdoutPath) {
  TempDir dir;
  const std::string err = dir / "err";
  const char* wrapper = std::getenv("GRADQUANT_TEST_WRAPPER");  // as in RunGradquant
  const std::string cmd = (wrapper ? std::string(wrapper) + " " : std::string()) +
                          GRADQUANT_BINARY + " " + args + " >" + stdoutPath + " 2>" + err +
                          " </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, "", Slurp(err)};
}

/** A gradquant process running in the background, stdout and stderr sent to files. */
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
    std::vector<std::string> all = {GRADQUANT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  /** Sends @p sig. */
  void Signal(int sig) const { kill(pid_, sig); }

  /** Whether the process has not exited yet. */
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  /** Waits for the exit and returns the raw wait status. */
  int Wait() {
    if (pid_ > 0) {
      waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

/** Names in folder @p dir, sorted. */
inline std::vector<std::string> Entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

/** Number of lines of @p text (each ended by '\n'). */
inline std::size_t Lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace gradquant::test
