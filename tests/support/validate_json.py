#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Validates JSON documents against a JSON Schema (draft 2020-12) file.

usage: validate_json.py SCHEMA [DOCUMENT]...   (DOCUMENT "-" or none: stdin)
       validate_json.py --check-schema SCHEMA

Exit 0 when every document is valid, saying nothing; 1 when one is not, with one line per error
naming its JSON path ($.targets[0].figures.score) on stderr; 2 when it cannot validate at all:
jsonschema is not importable, a file cannot be read, a "$ref" does not resolve. Never passes
silently. --check-schema checks the schemas of SCHEMA's folder against the draft 2020-12
metaschema instead (exit 0 or 2): it costs more than validating a document (about a second with
jsonschema 4.10), so the tests do it once, not for every document.

"$ref"s to other files resolve against the schema's own folder: every *.json there is loaded
(hb-status-target.schema.json refers to hb-status.schema.json). "format": "date-time" is
checked by this script itself (RFC 3339, a real calendar date), because jsonschema checks it
only when the optional rfc3339-validator module is installed, which Debian's python3-jsonschema
does not pull in. Works with Debian's python3-jsonschema 4.10 (RefResolver) and with newer
releases (the referencing registry).
"""

import datetime
import json
import pathlib
import re
import sys

PROGRAM = "validate_json.py"
MAX_ERRORS = 20
MAX_LINE = 400
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def fail(code, message):
    sys.stderr.write(f"{PROGRAM}: {message}\n")
    sys.exit(code)


try:
    import jsonschema
except ImportError as error:
    fail(2, f"error: cannot import the Python module jsonschema ({error}); install it "
            "(Debian: apt-get install python3-jsonschema, which scripts/setup does) - "
            "no document can be validated without it")

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")


def is_date_time(text):
    if not isinstance(text, str):
        return True  # formats apply to strings only; "type" judges the rest
    m = RFC3339.match(text)
    if not m:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    # 60: a leap second, which RFC 3339 allows.
    datetime.datetime(year, month, day, hour, minute, min(second, 59))
    if second > 60:
        raise ValueError(f"{text!r}: second {second} out of range")
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        raise ValueError(f"{text!r}: offset out of range")
    return True


def load_json(path, what):
    try:
        text = sys.stdin.read() if path == "-" else pathlib.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(2, f"error: cannot read {what} {path}: {error}")
    return text


def parse_json(text):
    def no_constant(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=no_constant)


def make_validator(schema_path, resources):
    """Returns a draft 2020-12 validator of the schema at schema_path, its $refs resolved in
    `resources` (every schema of its folder by URI), with our date-time format check."""
    schema = dict(resources[schema_path.as_uri()])
    schema.setdefault("$id", schema_path.as_uri())
    validator_class = jsonschema.Draft202012Validator
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(is_date_time)
    try:
        import referencing  # with jsonschema >= 4.18, which deprecates RefResolver
        import referencing.jsonschema

        registry = referencing.Registry().with_resources(
            (uri, referencing.Resource.from_contents(
                contents, default_specification=referencing.jsonschema.DRAFT202012))
            for uri, contents in list(resources.items()) + [(schema["$id"], schema)])
        return validator_class(schema, registry=registry, format_checker=checker)
    except (ImportError, TypeError):  # Debian's 4.10
        resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=resources)
        return validator_class(schema, resolver=resolver, format_checker=checker)


def problems_of(validator, schema_path, text, where):
    """Returns the lines that say why `text` does not match, or [] when it does."""
    try:
        document = parse_json(text)
    except ValueError as error:
        snippet = text[:200] + ("..." if len(text) > 200 else "")
        return [f"{where} is not JSON ({error}); it begins: {snippet!r}"]
    try:
        errors = sorted(validator.iter_errors(document),
                        key=lambda e: (list(map(str, e.absolute_path)), e.message))
    except Exception as error:  # RefResolutionError, referencing's Unresolvable, a broken schema
        fail(2, f"error: cannot validate against {schema_path}: {type(error).__name__}: {error}")
    if not errors:
        return []
    lines = [f"{where} does not match {schema_path.name} ({len(errors)} "
             f"error{'s' if len(errors) != 1 else ''}):"]
    for error in errors[:MAX_ERRORS]:
        line = f"  {error.json_path}: {error.message}"
        if error.cause is not None:  # a format check's own reason
            line += f" ({error.cause})"
        # anyOf / oneOf: the closest alternative says more than "is not valid under any"; the
        # one that got deepest into the document ("status" of an object, not "is not null").
        if error.context:
            deepest = max(len(e.absolute_path) for e in error.context)
            best = jsonschema.exceptions.best_match(
                e for e in error.context if len(e.absolute_path) == deepest)
            line += f" [closest: {best.json_path}: {best.message}]"
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + "..."
        lines.append(line + f" (schema: {'/'.join(str(p) for p in error.schema_path)})")
    if len(errors) > MAX_ERRORS:
        lines.append(f"  ... and {len(errors) - MAX_ERRORS} more")
    if len(errors) > 1 and any(e.validator == "unevaluatedProperties" for e in errors):
        lines.append("  (a property whose value is invalid may also be called unevaluated, as "
                     "jsonschema 4.10 does: the other errors are the ones to read first)")
    return lines


def main(argv):
    args = argv[1:]
    check_schema = bool(args) and args[0] == "--check-schema"
    if check_schema:
        args = args[1:]
    if not args or (check_schema and len(args) != 1) or args[0] in ("-h", "--help"):
        fail(2, "usage: validate_json.py SCHEMA [DOCUMENT|-]...\n"
                "       validate_json.py --check-schema SCHEMA")
    schema_path = pathlib.Path(args[0]).resolve()
    documents = args[1:] or ["-"]

    # Every schema of the folder, by its file URI (and its $id, when it has one).
    resources = {}
    for path in sorted(schema_path.parent.glob("*.json")):
        try:
            contents = parse_json(load_json(str(path), "schema"))
        except ValueError as error:
            fail(2, f"error: schema {path} is not JSON: {error}")
        resources[path.as_uri()] = contents
        if isinstance(contents, dict) and isinstance(contents.get("$id"), str):
            resources[contents["$id"]] = contents
    if schema_path.as_uri() not in resources:
        fail(2, f"error: cannot read schema {schema_path}")
    if resources[schema_path.as_uri()].get("$schema") != DRAFT_2020_12:
        fail(2, f"error: {schema_path} does not declare JSON Schema draft 2020-12 in \"$schema\"")

    if check_schema:
        for uri, contents in resources.items():
            try:
                jsonschema.Draft202012Validator.check_schema(contents)
            except jsonschema.exceptions.SchemaError as error:
                where = "/".join(str(p) for p in error.absolute_path) or "its root"
                fail(2, f"error: {uri} is not a valid draft 2020-12 schema: {error.message} "
                        f"(at {where})")
        return 0

    validator = make_validator(schema_path, resources)
    problems = []
    for name in documents:
        where = "stdin" if name == "-" else name
        problems += problems_of(validator, schema_path, load_json(name, "document"), where)
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
