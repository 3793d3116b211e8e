#pragma once
/** @file commands.hpp The subcommands; each gets argv with argv[0] = its own name. */

namespace gradquant::cli {

int RunInfo(int argc, char** argv);
int RunList(int argc, char** argv);
int RunCompress(int argc, char** argv);
int RunDecompress(int argc, char** argv);
int RunBench(int argc, char** argv);
int RunAnalyze(int argc, char** argv);
int RunOptimize(int argc, char** argv);

}  // namespace gradquant::cli
