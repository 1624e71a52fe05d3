#!/usr/bin/python3
"""Aggregates a LibTorch chrome trace (bench/step_profile) by operator: self time share."""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))
events = events["traceEvents"] if isinstance(events, dict) else events
ops = [e for e in events if e.get("ph") == "X"]
# Self time: an op's duration minus its children's (events nest by time on one thread).
ops.sort(key=lambda e: (e["ts"], -e["dur"]))
self_t = collections.Counter()
count = collections.Counter()
stack = []
for e in ops:
    while stack and stack[-1]["ts"] + stack[-1]["dur"] <= e["ts"]:
        stack.pop()
    if stack:
        self_t[stack[-1]["name"]] -= e["dur"]
    self_t[e["name"]] += e["dur"]
    count[e["name"]] += 1
    stack.append(e)
total = sum(self_t.values())
print(f"{'operator':50s} {'self ms':>9s} {'share':>7s} {'calls':>6s}")
for name, t in self_t.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 15):
    print(f"{name[:50]:50s} {t / 1e3:9.1f} {100 * t / total:6.1f}% {count[name]:6d}")
