#!/usr/bin/env python3
"""Renders the Jinja chat-template goldens with Python's jinja2 (the reference).

Replicates Hugging Face transformers' apply_chat_template environment: an
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls, a `tojson`
filter without ASCII escaping, `raise_exception` and `strftime_now` (with a fixed clock here).
For every template in ../shared/testdata/templates and every conversation in conversations.json
it writes <template>.json: {conversation: {"output": text} | {"error": message, "raise": bool}}.

Usage (from the repository root): /usr/bin/python3 tests/chat/goldens/render_goldens.py
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata", "templates")
# The fixed clock for strftime_now; the C++ test uses the same instant (UTC).
FIXED_NOW = datetime.datetime(2025, 1, 15, 10, 30, 0)
BOS = "<s>"
EOS = "</s>"


class TemplateRaise(Exception):
    pass


class AssistantTracker(Extension):
    # HF's {% generation %} tag: renders its body.
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise TemplateRaise(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    with open(os.path.join(HERE, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    with open(os.path.join(HERE, "tools.json"), encoding="utf-8") as f:
        tools = json.load(f)
    env = make_env()
    names = sorted(n for n in os.listdir(TEMPLATES) if n.endswith(".jinja"))
    for name in names:
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            template = env.from_string(f.read())
        results = {}
        for conv_name, conv in conversations.items():
            context = {
                "messages": conv["messages"],
                "tools": tools if conv.get("tools") == "TOOLS" else None,
                "documents": None,
                "add_generation_prompt": conv["add_generation_prompt"],
                "bos_token": BOS,
                "eos_token": EOS,
            }
            try:
                results[conv_name] = {"output": template.render(**context)}
            except TemplateRaise as e:
                results[conv_name] = {"error": str(e), "raise": True}
            except Exception as e:  # a type error or undefined value inside the template
                results[conv_name] = {"error": f"{type(e).__name__}: {e}", "raise": False}
        out = os.path.join(HERE, name[: -len(".jinja")] + ".json")
        with open(out, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print(f"rendered {len(names)} templates x {len(conversations)} conversations (jinja2 {jinja2.__version__})")
    render_snippets(env)


# Small templates exercising one feature each, over SNIPPET_CONTEXT -> snippets.golden.json.
SNIPPET_CONTEXT = {
    "x": 1,
    "s": "  hello world  ",
    "items": ["a", "b", "c", "d"],
    "d": {"a": 1, "b": [1, 2], "c": None},
    "users": [{"name": "ann", "age": 31, "active": True, "tags": ["x"]},
              {"name": "bob", "age": 25, "active": False, "tags": []},
              {"name": "cy", "age": 40, "active": True, "tags": ["y", "z"]}],
}


def render_snippets(env):
    with open(os.path.join(HERE, "snippets.json"), encoding="utf-8") as f:
        snippets = json.load(f)
    results = []
    for src in snippets:
        try:
            results.append({"template": src, "output": env.from_string(src).render(**SNIPPET_CONTEXT)})
        except TemplateRaise as e:
            results.append({"template": src, "error": str(e), "raise": True})
        except Exception as e:
            results.append({"template": src, "error": f"{type(e).__name__}: {e}", "raise": False})
    with open(os.path.join(HERE, "snippets.golden.json"), "w", encoding="utf-8") as f:
        json.dump({"context": SNIPPET_CONTEXT, "cases": results}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"rendered {len(snippets)} snippets")


if __name__ == "__main__":
    sys.exit(main())
