#pragma once
/**
 * @file cli_common.hpp
 * What the subcommands share: exit codes, the options every dump reader takes, the progress
 * line, and parsing helpers. Subcommands live in cmd_<name>.cpp as Run<Name>(argc, argv).
 */
#include <cxxopts.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gradquant/io/dump.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/pipeline/error_feedback.hpp"
#include "gradquant/pipeline/selection.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "report.hpp"

namespace gradquant::cli {

/** Exit codes, documented in `gradquant --help` and docs/cli.md. */
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,    ///< bad command line or quantizer spec
  kExitInput = 2,    ///< an input or output file is missing, unreadable or malformed
  kExitCorrupt = 3,  ///< a stored message is corrupt
  kExitOther = 4,    ///< any other error
};

/** Adds --layers, --records and --format. */
void AddDumpOptions(cxxopts::Options& options);
/** Adds --format only. */
void AddFormatOption(cxxopts::Options& options);

/** Adds --nonfinite reject|zero, for subcommands that read gradient dumps. */
void AddNonfiniteOption(cxxopts::Options& options);

/** The --nonfinite value. @throws SpecError */
NonfinitePolicy NonfiniteOf(const cxxopts::ParseResult& args);

/**
 * Adds --ef: error feedback around the quantizer (docs/quantizers.md#error-feedback); @p list
 * takes a comma-separated list of modes (analyze runs each).
 */
void AddFeedbackOption(cxxopts::Options& options, bool list);

/** The --ef modes in the order given; empty without --ef. @throws SpecError */
std::vector<Feedback> FeedbackOf(const cxxopts::ParseResult& args);

/** The one --ef mode of a command that takes one, unset without --ef. @throws SpecError */
std::optional<Feedback> OneFeedbackOf(const cxxopts::ParseResult& args);

/** One stderr warning line if @p dump zeroed NaN/Inf values (--nonfinite zero). */
void WarnNonfinite(const Dump& dump);

/**
 * Refuses an output path that is also one of @p inputs (same file), so a run can never
 * replace its own input. @throws SpecError
 */
void CheckOutputIsNotInput(const std::string& output, const std::vector<std::string>& inputs);

/**
 * Parses @p argv (argv[0] is the subcommand) and prints help to stdout when asked.
 * @return false when help was printed (the caller returns kExitOk).
 * @throws cxxopts exceptions on a bad command line.
 */
bool Parse(cxxopts::Options& options, int argc, char** argv, cxxopts::ParseResult* result);

/**
 * Every value given to the vector option @p key, in command-line order and whole: cxxopts' own
 * as<std::vector<std::string>>() would split "qsgd:s=7,bucket=512" or "run,1.h5" at the comma.
 */
std::vector<std::string> Repeated(const cxxopts::ParseResult& args, const std::string& key);

/**
 * The value of the string option @p key, or @p fallback when it was not given. For options
 * whose default is "none" or "all": a default_value("") would make cxxopts print
 * `(default: "")` in the help.
 */
std::string TextOr(const cxxopts::ParseResult& args, const std::string& key,
                   const std::string& fallback);

/** The positional input files, or SpecError if none were given. */
std::vector<std::string> Inputs(const cxxopts::ParseResult& args, const std::string& what);

/**
 * The quantizer of one `-q SPEC`. A comma before the first ':' ("dqsg,qsgd") is taken as an
 * attempt to list several quantizers in one -q and refused with the hint to repeat -q.
 * @throws SpecError
 */
std::unique_ptr<Quantizer> MakeQuantizer(const std::string& spec);

/** Applies --layers and --records to @p dump. */
Selection SelectFrom(const Dump& dump, const cxxopts::ParseResult& args);

/** The --format value. */
Format FormatOf(const cxxopts::ParseResult& args);

/** A progress line on stderr when it is a terminal, erased when done; a no-op otherwise. */
Progress ProgressLine(const std::string& label);

/** Comma-joined list. */
std::string Join(const std::vector<std::string>& items, const std::string& sep = ",");

/** The header every report starts with: version and command. */
void AddStandardMeta(Report& report, const std::string& command);

}  // namespace gradquant::cli
