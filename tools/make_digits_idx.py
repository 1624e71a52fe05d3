#!/usr/bin/python3
"""Writes real handwritten digits as MNIST IDX files, for the ranking experiment of §4.2.

MNIST itself cannot be downloaded here, but Debian's python3-sklearn ships scikit-learn's
digits set (sklearn.datasets.load_digits: 1,797 8x8 images with 16 grey levels, UCI
optdigits), read from the package with no download. Digit classes have a real order, which
"which digit is larger" needs (Fashion-MNIST's class order is arbitrary). The images are
scaled from 0..16 to 0..255 and resized bilinearly to 28x28 uint8, so `ipm-dist pack idx`
and the paper's 28x28 CNN apply unchanged.

Split: numpy.random.RandomState(0).permutation(1797) (legacy RandomState: its stream is
fixed across numpy versions); the first 300 indices are the test split, the other 1,497
the train split. Output (gzip, MNIST names):
train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz.

  /usr/bin/python3 tools/make_digits_idx.py OUT_DIR
  build/tools/ipm-dist pack idx OUT_DIR -o data/digits.h5
"""
import gzip
import importlib
import os
import struct
import sys
import tempfile

SEED = 0
TEST_ROWS = 300
SIZE = 28


def need(module, package):
    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(f"make_digits_idx: cannot import {module}; install the Debian package "
                 f"{package} (apt-get install --no-install-recommends {package})")


def write_idx(path, array):
    """IDX: magic 0x000008NN (unsigned bytes, NN dims), big-endian int32 dims, raw bytes."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as raw:
            # mtime=0 and no file name in the gzip header: the same bytes on every run.
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(header + array.tobytes())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)  # readers never see a half-written file
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    np = need("numpy", "python3-numpy")
    torch = need("torch", "python3-torch")
    datasets = need("sklearn.datasets", "python3-sklearn")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    digits = datasets.load_digits()  # bundled with the package, never downloaded
    x = torch.from_numpy(digits.images.astype(np.float32) * (255.0 / 16.0)).unsqueeze(1)
    x = torch.nn.functional.interpolate(x, size=(SIZE, SIZE), mode="bilinear",
                                        align_corners=False)
    images = x.squeeze(1).round().clamp(0, 255).to(torch.uint8).numpy()
    labels = digits.target.astype(np.uint8)

    order = np.random.RandomState(SEED).permutation(len(labels))
    splits = {"t10k": order[:TEST_ROWS], "train": order[TEST_ROWS:]}
    for prefix, rows in splits.items():
        write_idx(os.path.join(out, f"{prefix}-images-idx3-ubyte.gz"), images[rows])
        write_idx(os.path.join(out, f"{prefix}-labels-idx1-ubyte.gz"), labels[rows])
        print(f"make_digits_idx: {prefix}: {len(rows)} images {SIZE}x{SIZE}, "
              f"per class {np.bincount(labels[rows], minlength=10).tolist()}")


if __name__ == "__main__":
    main()
