// `ipm-dist pack csv TRAIN.csv TEST.csv -o OUT.h5 [options]`: the options of io/pack_csv.h.
// defines: PackCsvCommand, add_pack_csv_command, run_pack_csv_command
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "io/pack_csv.h"

struct PackCsvCommand {
  ipm::CsvPackOptions opt;
  std::string out, delimiter = ",";
  CLI::App* app = nullptr;
};

// Declares `csv` and its options under `pack`.
void add_pack_csv_command(CLI::App& pack, PackCsvCommand& cmd);

// Packs, prints "wrote OUT" and the row counts; throws ipm::Error on bad input.
int run_pack_csv_command(PackCsvCommand& cmd);
