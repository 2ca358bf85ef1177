"""Validates YAML files against spec/app.schema.json as an editor would: each file as written
(YAML 1.2 core scalars: only true/false are booleans, ${VAR} and includes stay as text).
usage: schema_check.py SCHEMA FILE...; prints one line per file: 'valid FILE', or
'invalid FILE @PATH... : MESSAGE' with where each error is (a JSON pointer without its leading
'/'; '@' alone is the top level) and the first error's message; exit status 0 unless a file
cannot be read at all."""
import json
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader resolves YAML 1.1 words (yes/on/0644 octal, dates); an editor's YAML 1.2
    reads those as strings or decimal, and so does corec (spec/app.yml.md, Value types)."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] in ("null", "str")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", construct_int)


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    for path in sys.argv[2:]:
        try:
            with open(path) as f:
                doc = yaml.load(f, Loader=Yaml12Loader)
        except yaml.YAMLError as e:
            print(f"invalid {path} @ : not YAML: {str(e).splitlines()[0]}")
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            where = sorted({"@" + "/".join(map(str, e.absolute_path)) for e in errors})
            print(f"invalid {path} {' '.join(where)} : {errors[0].message[:200]}")
        else:
            print(f"valid {path}")


main()
