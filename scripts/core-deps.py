#!/usr/bin/env python3
"""Which core object references which other core object's symbols.

Reads `nm` over BUILD/core/**/*.o (default build/), prints one line per
object with the objects it needs, then the strongly connected components
with more than one member: each is a set of files that cannot be linked
without each other. Exit status 0; `--check` exits 1 if any cycle exists.

    python3 scripts/core-deps.py [--build DIR] [--fold DIR]... [--check] [--dot]

--fold core/emu counts a folder's objects as one node (the interpreter is
one subsystem; its files calling each other is not a layering question).
"""
import argparse
import os
import subprocess
import sys


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f:
            yield f


def load(build, fold):
    root = os.path.join(build, "core")
    objs = []
    for d, _, files in os.walk(root):
        objs += [os.path.join(d, f) for f in files if f.endswith(".o")]
    if not objs:
        sys.exit(f"core-deps: no objects under {root}: run make first")
    objs.sort()
    name = {}
    for o in objs:
        n = os.path.relpath(o, build)[:-2]
        for f in fold:
            group = f.split(",")
            if len(group) > 1:
                if n in group:
                    n = group[0]
            elif n.startswith(f.rstrip("/") + "/"):
                n = f.rstrip("/")
        name[o] = n
    owner = {}
    for o in objs:
        for f in nm(o, "--defined-only", "-g"):
            if len(f) == 3 and f[1] not in "wWvV":
                owner[f[2]] = name[o]
    deps = {}
    for o in objs:
        need = set()
        for f in nm(o, "-u"):
            sym = f[-1]
            if sym in owner and owner[sym] != name[o]:
                need.add(owner[sym])
        deps.setdefault(name[o], set()).update(need)
    return deps


def sccs(deps):
    """Tarjan's algorithm, iterative; components in dependency order."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    for root in sorted(deps):
        if root in index:
            continue
        work = [(root, iter(sorted(deps[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(deps[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    out.append(sorted(comp))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the core has a cycle")
    ap.add_argument("--fold", action="append", default=[],
                    help="count this folder's objects (or comma-separated objects: core/disk,core/chain) as one node")
    ap.add_argument("--dot", action="store_true", help="print a dot graph")
    a = ap.parse_args()
    deps = load(a.build, a.fold)
    if a.dot:
        print("digraph core {")
        for o in sorted(deps):
            for d in sorted(deps[o]):
                print(f'  "{o}" -> "{d}";')
        print("}")
        return 0
    for o in sorted(deps):
        print(f"{o}: {' '.join(sorted(deps[o])) or '-'}")
    cycles = [c for c in sccs(deps) if len(c) > 1]
    print()
    if not cycles:
        print("no cycles: every object links with what it needs below it")
    for c in cycles:
        print(f"cycle ({len(c)} objects): {' '.join(c)}")
    return 1 if a.check and cycles else 0


if __name__ == "__main__":
    sys.exit(main())
