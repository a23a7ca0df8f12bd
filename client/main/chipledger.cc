#include "client/cli.h"

int main(int argc, char** argv) { return chipledger::run_cli(argc, argv); }
