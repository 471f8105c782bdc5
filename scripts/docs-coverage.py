#!/usr/bin/env python3
"""Fails when a documentation archive has a public symbol without a doc comment.

Reads the `documentation-coverage.json` that `docc convert --experimental-documentation-coverage`
writes into each archive given, and prints every symbol that has no abstract (no `///` summary),
one per line as `Module/Path`, then exits 1; exits 0 when every symbol has one.

Members the compiler or the standard library supplies — `hash(into:)` and `hashValue` of a
raw-value enum, the literal initialisers `ExpressibleByStringLiteral` derives — have no line in
these sources to document and DocC does not inherit a text for them; they are not counted. Nor
are the pages DocC makes for a type of another module that this one extends ("Extended
Module", "Extended Structure"…): they hold the extension's members, which are counted.
"""
import json
import pathlib
import sys

SUPPLIED = {"hash(into:)", "hashValue", "init(extendedGraphemeClusterLiteral:)", "init(unicodeScalarLiteral:)"}

missing = []
counted = 0
for archive in sys.argv[1:]:
    coverage = pathlib.Path(archive) / "documentation-coverage.json"
    if not coverage.exists():
        sys.exit(f"docs-coverage: {coverage} is missing (was docc run with --experimental-documentation-coverage?)")
    for entry in json.loads(coverage.read_text()):
        extension_page = entry["kind"]["id"].startswith("org.swift.docc.kind.extended")
        if not entry["kind"]["isSymbol"] or entry["title"] in SUPPLIED or extension_page:
            continue
        counted += 1
        if not entry["hasAbstract"]:
            missing.append(entry["referencePath"].split("/documentation/", 1)[1])

for path in sorted(missing):
    print(f"undocumented: {path}")
print(f"docs-coverage: {counted - len(missing)} of {counted} public symbols documented", file=sys.stderr)
sys.exit(1 if missing else 0)
