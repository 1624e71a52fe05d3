#!/usr/bin/python3
"""Writes the first rows of an ipm-dist HDF5 file's /train and /test to a new file (x, y and,
when present, prior; the num_classes attribute), for quick tests and benchmarks.

  /usr/bin/python3 tools/h5_subset.py SRC.h5 DST.h5 TRAIN_ROWS TEST_ROWS
"""
import sys

import h5py


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    src_path, dst_path = sys.argv[1], sys.argv[2]
    rows = {"train": int(sys.argv[3]), "test": int(sys.argv[4])}
    with h5py.File(src_path, "r") as src, h5py.File(dst_path, "w") as dst:
        dst.attrs["num_classes"] = src.attrs["num_classes"]
        for split, n in rows.items():
            g = dst.create_group(split)
            for name in ("x", "y", "prior"):
                if name in src[split]:
                    g[name] = src[split][name][:n]


if __name__ == "__main__":
    main()
