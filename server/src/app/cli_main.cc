// auroraedge-cli: health, info, generate, inspect and load-model against an auroraedge-server;
// tokenize and detokenize with a tokenizer.json, offline.
// Usage and exit codes: see CliUsage() (cli_options.cc) or --help.

#include <iostream>
#include <string>
#include <vector>

#include "auroraedge/model/tokenize_command.h"
#include "cli_commands.h"
#include "cli_options.h"

namespace auroraedge::server::app {

int CliMain(int argc, char** argv) {
  try {
    const CliArgs args = ParseCliArgs(std::vector<std::string>(argv + 1, argv + argc));
    switch (args.command) {
      case CliCommand::kHealth:
        return RunHealth(args);
      case CliCommand::kInfo:
        return RunInfo(args);
      case CliCommand::kGenerate:
        return RunGenerate(args);
      case CliCommand::kLoadModel:
        return RunLoadModel(args);
      case CliCommand::kInspect:
        return RunInspect(args);
      case CliCommand::kTokenize:
        return model::RunTokenizeCommand(args.tokenizer.tokenizer_path,
                                         args.tokenizer.allow_special, std::cin, std::cout,
                                         std::cerr);
      case CliCommand::kDetokenize:
        return model::RunDetokenizeCommand(args.tokenizer.tokenizer_path,
                                           args.tokenizer.skip_special, std::cin, std::cout,
                                           std::cerr);
      case CliCommand::kHelp:
      default:
        std::cout << CliUsage();
        return kCliOk;
    }
  } catch (const UsageError& error) {
    std::cerr << "auroraedge-cli: " << error.what() << "\n";
    return kCliUsage;
  }
}

}  // namespace auroraedge::server::app

int main(int argc, char** argv) { return auroraedge::server::app::CliMain(argc, argv); }
