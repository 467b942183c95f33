#!/usr/bin/env python3
"""Writes Tests/LMTokenizersTests/Vectors/: small tokenizers built with Hugging Face `tokenizers`
that exercise every component the fixture vocabularies do not (normalizers, Metaspace, Digits,
Punctuation, Whitespace, added-token flags, continuing_subword_prefix / end_of_word_suffix,
WordPiece-style decoding), with reference ids and decodes; and Jinja templates covering the
language features real chat templates use, rendered by jinja2 configured as transformers does.
Run: pip install tokenizers==0.23.3 jinja2==3.1.6 && python3 scripts/make-tokenizer-vectors.py
"""
import json
import os

import jinja2
import jinja2.ext
import jinja2.sandbox
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers, AddedToken

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LMTokenizersTests", "Vectors")
CORPUS = [
    "The quick brown fox jumps over the lazy dog. Ünïcödé café, naïve résumé!",
    "Numbers 12345 and 3.14159; email me@example.com, path /usr/bin, x=y+z*2.",
    "ＦＵＬＬ-width ｔｅｘｔ and ﬁ ligatures, ① circled, ² superscripts.",
    "Hello hello HELLO   spaced\ttabs\nnew lines... (parens) [brackets] {braces}",
    "<special> tokens <sep> and [MASK] in the middle of words like un<special>done.",
] * 20
TEXTS = [
    "The quick brown fox.", "  leading and trailing  ", "Ünïcödé café naïve", "ＦＵＬＬ ﬁ ① ²",
    "12345 3.14159", "x=y+z*2!!", "HELLO hello", "un<special>done <special> [MASK]x [MASK] y",
    "tabs\tand\nnewlines", "", "   ",
]

CONFIGS = {
    "nfkc-lower-strip-whitespace": dict(
        normalizer=normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Strip()]),
        pre=pre_tokenizers.Whitespace(), decoder=None),
    "nfc-metaspace": dict(
        normalizer=normalizers.NFC(), pre=pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        decoder=decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)),
    "metaspace-first-nosplit": dict(
        normalizer=None, pre=pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        decoder=decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False)),
    "digits-punctuation": dict(
        normalizer=normalizers.Replace("  ", " "),
        pre=pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Digits(individual_digits=True),
                                     pre_tokenizers.Punctuation(behavior="isolated")]), decoder=None),
    "digits-contiguous-split-behaviors": dict(
        normalizer=None,
        pre=pre_tokenizers.Sequence([pre_tokenizers.Split(pattern=" ", behavior="merged_with_next"),
                                     pre_tokenizers.Digits(individual_digits=False),
                                     pre_tokenizers.Split(pattern=".", behavior="merged_with_previous"),
                                     pre_tokenizers.Split(pattern="=", behavior="removed"),
                                     pre_tokenizers.Split(pattern="!", behavior="contiguous")]), decoder=None),
    "subword-prefix-suffix": dict(
        normalizer=normalizers.Lowercase(), pre=pre_tokenizers.Whitespace(),
        decoder=decoders.WordPiece(prefix="##", cleanup=True), prefix="##", suffix="</w>"),
}


def build(name, cfg):
    extra = {k: v for k, v in (("continuing_subword_prefix", cfg.get("prefix")), ("end_of_word_suffix", cfg.get("suffix"))) if v}
    model = models.BPE(unk_token="[UNK]", **extra)
    tokenizer = Tokenizer(model)
    if cfg["normalizer"] is not None:
        tokenizer.normalizer = cfg["normalizer"]
    tokenizer.pre_tokenizer = cfg["pre"]
    if cfg["decoder"] is not None:
        tokenizer.decoder = cfg["decoder"]
    trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=2, special_tokens=["[UNK]", "[CLS]", "[SEP]"],
                                  show_progress=False, **extra)
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.add_special_tokens([AddedToken("<special>", lstrip=True, rstrip=True, special=True, normalized=False)])
    tokenizer.add_tokens([AddedToken("[MASK]", single_word=True, normalized=False), AddedToken("café", normalized=True)])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))])
    cases = []
    for text in TEXTS:
        plain = tokenizer.encode(text, add_special_tokens=False).ids
        cases.append({"text": text, "ids": plain, "ids_with_special": tokenizer.encode(text).ids,
                      "decoded": tokenizer.decode(plain), "decoded_keep_special": tokenizer.decode(plain, skip_special_tokens=False)})
    return json.loads(tokenizer.to_str()), cases


TEMPLATES = [
    ("macro-call", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', punct='?') }}"
                   "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside{% endcall %}"),
    ("loop-vars", "{% for x in items %}{{ loop.index }}/{{ loop.length }}{{ '<' if loop.first }}{{ '>' if loop.last }}"
                  "{{ loop.revindex0 }}{% if not loop.last %},{% endif %}{% else %}empty{% endfor %}|"
                  "{% for x in [] %}x{% else %}none{% endfor %}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"),
    ("loop-controls", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"
                      "|{% for i in range(10) if i is odd %}{{ i }}{% endfor %}"),
    ("set-namespace", "{% set a = 1 %}{% for i in [1, 2] %}{% set a = a + i %}{% endfor %}{{ a }}|"
                      "{% set ns = namespace(total=0) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}|"
                      "{% set block %}captured {{ a }}{% endset %}{{ block | upper }}|{% set x, y = [3, 4] %}{{ x * y }}"),
    ("filters", "{{ items | join(', ') }}|{{ items | length }}|{{ items | first }}-{{ items | last }}|{{ none_value | default('dflt') }}|"
                "{{ '' | default('empty', true) }}|{{ users | map(attribute='name') | join('+') }}|{{ users | selectattr('admin') | map(attribute='name') | list }}|"
                "{{ users | rejectattr('admin') | list | length }}|{{ [1, 2, 3, 4] | select('even') | list }}|{{ [1, 2, 3] | reject('equalto', 2) | list }}|"
                "{{ '  pad  ' | trim }}|{{ 42 | string }}{{ '7' | int + 1 }}|{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'x' | indent(2, true) }}|"
                "{{ [3, 1, 2] | sort | list }}|{% for k, v in d | dictsort %}{{ k }}{% endfor %}|{{ [1, 1, 2] | unique | list }}|{{ [1, 2, 3] | sum }}|{{ 3.14159 | round(2) }}"),
    ("tojson", "{{ d | tojson }}|{{ users | tojson(indent=2) }}|{{ 'ünï \"q\" \\\\ \\n' | tojson }}|{{ [1.0, 2.5, none, true] | tojson }}"),
    ("expressions", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ -3 + 1 }}|"
                    "{{ 'a' ~ 1 ~ none }}|{{ 'ab' in 'cabd' }} {{ 3 in [1, 2] }} {{ 'k' in d }} {{ 'z' not in d }}|"
                    "{{ 'yes' if items else 'no' }} {{ 'yes' if [] else 'no' }}|{{ items[1:] }} {{ items[::-1] }} {{ 'hello'[1:3] }} {{ items[-1] }}|"
                    "{{ d.k }} {{ d['k'] }} {{ d.missing is defined }} {{ none_value is none }} {{ 1 == 1.0 }} {{ [1, 2] == [1, 2] }}|"
                    "{{ true and 'x' }} {{ false or 'y' }} {{ not none_value }} {{ 1 < 2 < 3 }}"),
    ("methods", "{{ ' x '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|"
                "{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }}|{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}|"
                "{{ 'aaa'.replace('a', 'b', 2) }}|{{ d.get('k') }} {{ d.get('nope', 'dflt') }} {{ d.get('nope') }}|{{ d.keys() | list }} {{ d.values() | list }}|"
                "{{ '-'.join(['x', 'y']) }}|{{ 'abc'.upper() }}{{ 'ABC'.lower() }}|{{ 'a\\nb'.splitlines() }}"),
    ("whitespace", "  {% if true %}\n    kept\n  {% endif %}\n{%- if true -%}\n   stripped   \n{%- endif -%}\n|\n  {%+ if true %}plus{% endif %}\n{# comment #}\nend\n"),
    ("repr", "{{ items }}|{{ d }}|{{ [none, true, 1.5, 'q\\'s'] }}|{{ none_value }}|{{ 1e-07 }} {{ 1.0 }} {{ 100000000000000000.0 }}"),
]


def render_templates():
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = lambda x, indent=None, separators=None, sort_keys=False: json.dumps(
        x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
    context = {"items": ["x", "y", "z"], "d": {"k": "v", "b": 2, "a": [1, {"n": None}]}, "none_value": None,
               "users": [{"name": "ann", "admin": True}, {"name": "bob", "admin": False}]}
    out = []
    for name, source in TEMPLATES:
        out.append({"name": name, "template": source, "rendered": env.from_string(source).render(**context)})
    return {"context": context, "templates": out}


def main():
    os.makedirs(OUT, exist_ok=True)
    vectors = {}
    for name, cfg in CONFIGS.items():
        tokenizer_json, cases = build(name, cfg)
        vectors[name] = {"tokenizer": tokenizer_json, "cases": cases}
    with open(os.path.join(OUT, "tokenizer-components.json"), "w") as f:
        json.dump(vectors, f, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(OUT, "jinja-features.json"), "w") as f:
        json.dump(render_templates(), f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
