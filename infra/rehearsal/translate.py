"""Translate template.yaml to plain CloudFormation with the SAM translator,
as `sam deploy` has CloudFormation do it, for the stack rehearsal
(rehearsal_test.go). Usage: translate.py TEMPLATE CODE_S3_URI PARAMETERS_JSON > out.json

PARAMETERS_JSON holds the stack's parameter values: the translator resolves
a few references itself (the HTTP API's CORS origins), as CloudFormation's
transform does with the values of the deploy.

Every function's CodeUri (`.`, built by `sam build`) becomes CODE_S3_URI:
the translator needs an S3 location where `sam build`/`sam package` would
have put the code. Nothing generated is committed.
"""
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policy by name, so none is looked up."""

    def load(self):
        return {}


def main():
    template_path, code_uri, parameters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    with open(template_path) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = code_uri
    json.dump(transform(template, parameters, NoManagedPolicies()), sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
