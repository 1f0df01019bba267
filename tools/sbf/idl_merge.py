#!/usr/bin/env python3
"""Assemble an Anchor IDL JSON from the output of
   cargo test --features idl-build --lib -- __anchor_private_print_idl --show-output --quiet
(what `anchor idl build` does, re-implemented so the anchor CLI is not needed).
Usage: idl_merge.py < cargo-test-output > target/idl/<program>.json
"""
import json, re, sys

text = sys.stdin.read()
sections = re.findall(r"--- IDL begin (\w+) ---\n(.*?)\n--- IDL end \1 ---", text, re.S)
if not sections:
    sys.exit("no IDL sections found (did the idl-build test run?)")
idl, address, errors, events, consts, types = None, None, [], [], [], []
for kind, body in sections:
    val = json.loads(body)
    if kind == "program":
        idl = val
    elif kind == "address":
        address = json.loads(val) if isinstance(val, str) and val.startswith('"') else val
    elif kind == "errors":
        errors.extend(val)
    elif kind == "event":
        events.append(val["event"]); types.extend(val.get("types", []))
    elif kind == "const":
        consts.append(val)
    elif kind == "types":
        types.extend(val)
if idl is None:
    sys.exit("no program section")
if address:
    idl["address"] = address
if errors:
    idl["errors"] = errors
if events:
    idl["events"] = events
if consts:
    idl["constants"] = consts
if types:
    seen = {t["name"] for t in idl.get("types", [])}
    for t in types:
        if t["name"] not in seen:
            idl.setdefault("types", []).append(t); seen.add(t["name"])
# Like anchor-lang-idl's convert_module_paths: `crate::mod::Name` -> `Name` when unambiguous.
names = [x["name"] for x in idl.get("types", [])] + [x["name"] for x in idl.get("accounts", [])] + \
        [x["name"] for x in idl.get("events", [])]
short = {}
for n in set(names):
    s = n.split("::")[-1]
    short.setdefault(s, set()).add(n)
rename = {n: n.split("::")[-1] for s, full in short.items() if len(full) == 1 for n in full}
def conv(o):
    if isinstance(o, dict):
        return {k: (rename.get(v, v) if k == "name" and isinstance(v, str) else conv(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [conv(x) for x in o]
    return o
idl = conv(idl)
# anchor's key order: address, metadata, instructions, accounts, events, errors, types, constants
order = ["address", "metadata", "docs", "instructions", "accounts", "events", "errors", "types", "constants"]
out = {k: idl[k] for k in order if k in idl}
out.update({k: v for k, v in idl.items() if k not in out})
json.dump(out, sys.stdout, indent=2)
print()
