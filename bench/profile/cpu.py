#!/usr/bin/env python3
"""Where a process spends its CPU, from a dotnet-trace thread-time profile exported as Speedscope.

    dotnet-trace collect -p PID --profile dotnet-sampled-thread-time --duration 00:00:00:10 \
        --format Speedscope -o list.nettrace
    bench/profile/cpu.py list.speedscope.json [--top 30] [--callers DynamicMethod.CreateDelegate]

Only samples of running code count (their innermost frame is CPU_TIME; waiting threads are left
out). Shares are exclusive: each sample is charged to the method it was running, so they add up to
100% (unresolved native code — the GC, the JIT, the runtime — shows as "?!?"). Inclusive shares of
async frames mislead: a continuation that completes inline runs on top of whatever finished the
awaited I/O, so --callers prints the stacks that lead to a method instead.
"""
import argparse
import collections
import json


def samples(path):
    """Yields (stack of frame names without CPU_TIME, seconds) for every running sample."""
    data = json.load(open(path))
    frames = [f["name"] for f in data["shared"]["frames"]]
    for profile in data["profiles"]:
        if profile.get("type") != "evented":
            continue
        stack, last = [], None
        for event in profile["events"]:
            at = event["at"]
            if stack and last is not None and frames[stack[-1]] == "CPU_TIME" and len(stack) > 1:
                yield [frames[f] for f in stack[:-1]], at - last
            last = at
            if event["type"] == "O":
                stack.append(event["frame"])
            elif stack:
                stack.pop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--callers", help="print the most common stacks that lead to a method whose name contains this")
    parser.add_argument("--depth", type=int, default=10)
    args = parser.parse_args()

    by_method, by_assembly, callers = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0.0
    for stack, seconds in samples(args.trace):
        total += seconds
        leaf = stack[-1]
        by_method[leaf] += seconds
        by_assembly[leaf.split("!")[0]] += seconds
        if args.callers:
            hits = [i for i, name in enumerate(stack) if args.callers in name]
            if hits:
                start = max(0, hits[-1] - args.depth)
                callers[tuple(name.split("!")[-1][:120] for name in stack[start:hits[-1] + 1])] += seconds

    if total == 0:
        raise SystemExit("no running samples in the trace")
    print(f"running samples: {total:.0f} ms")
    print("\nby assembly (exclusive)")
    for name, seconds in by_assembly.most_common(args.top):
        print(f"{100 * seconds / total:5.1f}%  {name}")
    print("\nby method (exclusive)")
    for name, seconds in by_method.most_common(args.top):
        print(f"{100 * seconds / total:5.1f}%  {name[:160]}")
    for chain, seconds in callers.most_common(5):
        print(f"\n{100 * seconds / total:5.1f}% of the CPU, through:")
        print("\n".join("    " + frame for frame in chain))


if __name__ == "__main__":
    main()
