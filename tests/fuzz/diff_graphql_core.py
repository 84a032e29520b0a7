#!/usr/bin/env python3
"""Differential check of Wesley's SDL parser against graphql-core (a port of
graphql-js): for every file in the given directories, both parsers must agree
on accept/reject, apart from Wesley's documented differences, which are
counted but not reported:

  - executable definitions (query, fragment, {...}) are refused by Wesley;
  - empty bodies `type T {}` (and interface/enum/input) are accepted by Wesley;
  - nesting deeper than WES_MAX_NESTING and tokens over WES_MAX_TOKEN_BYTES
    are refused by Wesley;
  - NUL characters and \\u0000 in strings are refused by Wesley.

Usage: diff_graphql_core.py WESLEY_BINARY DIR...   (needs `pip install graphql-core`)
Exit status 1 when an unexplained disagreement is found.
"""
import os
import re
import subprocess
import sys

from graphql import parse
from graphql.language import ast

KNOWN = (
    "schema files may contain only type system definitions",
    "nested deeper than",
    "token longer than",
    "NUL character",
    "U+0000",
)
EMPTY_BODY = re.compile(rb"\{\s*(#[^\n\r]*[\n\r]\s*)*\}")


def wesley(binary, path):
    run = subprocess.run([binary, "parse", path], capture_output=True, text=True,
                         errors="replace")
    return run.returncode, run.stderr.strip()


def reference(data):
    try:
        doc = parse(data.decode("utf-8"), no_location=True)
    except UnicodeDecodeError:
        return None
    except Exception as error:  # graphql-core raises more than GraphQLSyntaxError
        return False, str(error).split("\n")[0]
    executable = any(isinstance(d, ast.ExecutableDefinitionNode) for d in doc.definitions)
    return True, "executable" if executable else ""


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary = sys.argv[1]
    agree = known = skipped = 0
    unexplained = []
    for directory in sys.argv[2:]:
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if not os.path.isfile(path) or name.endswith(".md"):
                continue
            with open(path, "rb") as f:
                data = f.read()
            ref = reference(data)
            if ref is None:
                skipped += 1
                continue
            rc, message = wesley(binary, path)
            ours_ok = rc == 0
            ref_ok, ref_message = ref
            if ours_ok == ref_ok and ref_message != "executable":
                agree += 1
            elif not ours_ok and any(k in message for k in KNOWN):
                known += 1
            elif ours_ok and not ref_ok and EMPTY_BODY.search(data):
                known += 1
            else:
                unexplained.append((path, message or "accepted", ref_message or "accepted"))
    print(f"agree {agree}, documented differences {known}, not UTF-8 (skipped) {skipped}, "
          f"unexplained {len(unexplained)}")
    for path, ours, ref in unexplained[:50]:
        print(f"{path}\n  wesley:       {ours}\n  graphql-core: {ref}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
