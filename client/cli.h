// The `chipledger` command line (README.md lists the commands and exit
// codes). Exceptions stop here; everything below returns Result/Status.
#pragma once

namespace chipledger {

int run_cli(int argc, char** argv);

}  // namespace chipledger
