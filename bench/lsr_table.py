#!/usr/bin/python3
"""Final-epoch pixel accuracy and mean IoU (of q and of r) per loss, mean ± sample std over
seeds, from a segmentation suite's jobs/*/metrics.jsonl (e.g. runs/lsr from examples/lsr.toml).

  /usr/bin/python3 bench/lsr_table.py runs/lsr
"""
import json
import os
import re
import statistics
import sys


def main():
    run = sys.argv[1]
    rows = {}
    for job in sorted(os.listdir(os.path.join(run, "jobs"))):
        path = os.path.join(run, "jobs", job, "metrics.jsonl")
        if not os.path.exists(os.path.join(run, "jobs", job, "DONE")):
            continue
        last = json.loads(open(path).read().strip().splitlines()[-1])
        loss = re.match(r"loss=(.+?)(_seed=.*)?$", job).group(1)
        rows.setdefault(loss, []).append(last)
    keys = ["test_acc", "test_miou", "test_acc_r", "test_miou_r"]
    print("| train.loss | n | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 2) + "|")
    for loss, ms in rows.items():
        cells = []
        for k in keys:
            v = [m[k] for m in ms]
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            cells.append("%.3f ± %.3f" % (statistics.mean(v), sd))
        print("| %s | %d | %s |" % (loss, len(ms), " | ".join(cells)))


if __name__ == "__main__":
    main()
