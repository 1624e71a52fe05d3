#include "tools/pack_csv_command.h"

#include <iostream>
#include <map>

#include "common/error.h"
#include "io/h5_split.h"

void add_pack_csv_command(CLI::App& pack, PackCsvCommand& cmd) {
  ipm::CsvPackOptions& o = cmd.opt;
  cmd.app = pack.add_subcommand(
      "csv", "From CSV files with one sample per row: a label column and the pixel or feature "
             "values (MNIST-style CSVs)");
  cmd.app->add_option("TRAIN_CSV", o.train, "Training rows -> /train")->required();
  cmd.app->add_option("TEST_CSV", o.test, "Test rows -> /test")->required();
  cmd.app->add_option("-o,--output", cmd.out, "HDF5 file to write")->required();
  cmd.app->add_option("--label-column", o.label_column,
                      "The label's column: 0-based index (-1: the last) or header name")
      ->capture_default_str();
  cmd.app->add_option("--shape", o.shape,
                      "One sample's shape, e.g. 1,28,28 (C,H,W); default: vectors of all the "
                      "values beside the label")
      ->delimiter(',');
  cmd.app->add_option("--header", o.header, "First line is a header: auto, yes, no")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ipm::CsvHeader>{{"auto", ipm::CsvHeader::kAuto},
                                                 {"yes", ipm::CsvHeader::kYes},
                                                 {"no", ipm::CsvHeader::kNo}}))
      ->default_str("auto");
  cmd.app->add_option("--dtype", o.dtype,
                      "How values are stored: uint8 (integers 0..255, read as /255) or float32")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, ipm::CsvDtype>{{"uint8", ipm::CsvDtype::kUint8},
                                                {"float32", ipm::CsvDtype::kFloat32}}))
      ->default_str("uint8");
  cmd.app->add_option("--delimiter", cmd.delimiter, "Cell separator (one character; tab: '\\t')")
      ->capture_default_str();
  cmd.app->add_option("--num-classes", o.num_classes, "Number of classes (labels 0..L-1)")
      ->capture_default_str();
  cmd.app->add_option("--class-names", o.class_names, "Class names, in label order");
}

int run_pack_csv_command(PackCsvCommand& cmd) {
  const std::string& d = cmd.delimiter;
  IPM_CHECK(d.size() == 1 || d == "\\t",
            "--delimiter '" << d << "': expected one character (or \\t)");
  cmd.opt.delimiter = d == "\\t" ? '\t' : d[0];
  ipm::pack_csv(cmd.opt, cmd.out);
  const ipm::H5Split train(cmd.out, "train", false), test(cmd.out, "test", false);
  std::cout << "wrote " << cmd.out << ": " << train.size() << " train and " << test.size()
            << " test samples\n";
  return 0;
}
