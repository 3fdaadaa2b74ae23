"""The translation files agree with en.json, and en.json with the code.

Plain file checks: no Home Assistant instance is started.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

import pytest

PACKAGE = Path(__file__).parent.parent / "custom_components" / "wakehub"
TRANSLATIONS = PACKAGE / "translations"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
SNAKE_CASE = re.compile(r"[a-z0-9_]+")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _strings(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key path, text) of every string leaf."""
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _strings(value, path)
        else:
            yield path, value


EN = dict(_strings(_load(TRANSLATIONS / "en.json")))
OTHERS = sorted(p for p in TRANSLATIONS.glob("*.json") if p.name != "en.json")
# The languages WakeHub ships (pt is European Portuguese).
LANGUAGES = {"en", "fr", "de", "es", "it", "pl", "pt", "nl"}
# Product names, units and technical ids read the same in every language; a
# file where more strings than this are still the English text was copied,
# not translated.
MAX_SHARE_LEFT_IN_ENGLISH = 0.15


def _str_constants(node: ast.AST) -> set[str]:
    """String literals under `node`, except those only compared against
    (`"key" if status == "pendingValidation" else status`)."""
    if isinstance(node, ast.Compare):
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    found: set[str] = set()
    for child in ast.iter_child_nodes(node):
        found |= _str_constants(child)
    return found


def _mapped_keys(tree: ast.Module) -> set[str]:
    """Keys chosen at run time from literals: the `*error_key` helpers and the
    `*_KEYS` tables (error class -> key), e.g. `{"base": _error_key(err)}`."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.endswith("error_key"):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            for stmt in body:
                keys |= _str_constants(stmt)
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id.endswith("_KEYS") for t in targets):
                keys |= _str_constants(node.value)
    return keys


def _exception_keys() -> set[str]:
    """translation_key literals of calls that also pass translation_domain (the
    exceptions; entity descriptions and repair issues pass no domain)."""
    keys: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # The wizard's error tables name form errors, not exceptions.
        if "flows" not in path.parts and path.name != "flow.py":
            keys |= _mapped_keys(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            kwargs = {k.arg: k.value for k in node.keywords}
            value = kwargs.get("translation_key")
            if (
                "translation_domain" in kwargs
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                keys.add(value.value)
            # Keys chosen at run time come from tables (_mapped_keys).
    return keys


# The fallback of api/errors.error_key (a constant, not a literal in a table).
DYNAMIC_EXCEPTION_KEYS = {"unknown_error"}
# Helpers that take a bare key and show it as {"base": key}.
FORM_ERROR_HELPERS: set[str] = set()


def _form_error_keys() -> set[str]:
    """Keys the config, subentry and options flows put into an `errors` dict."""
    # The one table naming failures (api/errors.py) names form errors too.
    keys = _mapped_keys(ast.parse((PACKAGE / "api" / "errors.py").read_text("utf-8")))
    # The shared steps, and each kind's declaration (kinds/<kind>/flow.py).
    for path in [*(PACKAGE / "flows").glob("*.py"), *PACKAGE.glob("kinds/*/flow.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys |= _mapped_keys(tree)
        for node in ast.walk(tree):
            # A kind's own error table: FlowKind(error_keys=((Error, "key"), ...)).
            if isinstance(node, ast.keyword) and node.arg == "error_keys":
                keys |= _str_constants(node.value)
                continue
            # errors[...] = "key"  /  errors["base"] = ("key" if ... else status)
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name)
                and t.value.id == "errors"
                for t in node.targets
            ):
                keys |= _str_constants(node.value)
            # {"base": "key"} or {CONF_FIELD: "key"} handed to a form; a
            # value that is not a literal (status, _error_key(err)) is skipped
            # here and covered by _mapped_keys.
            elif (
                isinstance(node, ast.Dict)
                and len(node.keys) == 1
                and (
                    (isinstance(k := node.keys[0], ast.Constant) and k.value == "base")
                    or (isinstance(k, ast.Name) and k.id.startswith("CONF_"))
                )
                and isinstance(v := node.values[0], ast.Constant)
                and isinstance(v.value, str)
                and SNAKE_CASE.fullmatch(v.value)
            ):
                keys.add(v.value)
            # self._ovh_back("key")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in FORM_ERROR_HELPERS
            ):
                keys |= {
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                }
    return keys


def test_shipped_languages() -> None:
    """Exactly the supported languages have a translation file."""
    assert {path.stem for path in TRANSLATIONS.glob("*.json")} == LANGUAGES


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_every_string_translated(path: Path) -> None:
    """No string is empty, and the file is not mostly English left as is."""
    other = dict(_strings(_load(path)))
    assert sorted(key for key, text in other.items() if not text.strip()) == []
    left_in_english = [key for key, text in other.items() if EN.get(key) == text]
    assert len(left_in_english) <= MAX_SHARE_LEFT_IN_ENGLISH * len(EN)


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_same_keys_as_english(path: Path) -> None:
    """Every other language has exactly en.json's key paths."""
    other = dict(_strings(_load(path)))
    assert sorted(EN.keys() - other.keys()) == [], "missing"
    assert sorted(other.keys() - EN.keys()) == [], "not in en.json"


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_same_placeholders_as_english(path: Path) -> None:
    """Each string keeps exactly the {placeholders} of its English text."""
    other = dict(_strings(_load(path)))
    differing = {
        key: (set(PLACEHOLDER.findall(EN[key])), set(PLACEHOLDER.findall(text)))
        for key, text in other.items()
        if key in EN
        and set(PLACEHOLDER.findall(EN[key])) != set(PLACEHOLDER.findall(text))
    }
    assert differing == {}


def test_exception_keys_exist() -> None:
    """Every exception translation_key used in the code is in en.json."""
    used = _exception_keys() | DYNAMIC_EXCEPTION_KEYS
    missing = sorted(k for k in used if f"exceptions.{k}.message" not in EN)
    assert missing == []


def test_form_error_keys_exist() -> None:
    """Every form error key set by the flows is in en.json."""
    known = {
        path.rsplit(".", 1)[1]
        for path in EN
        if path.startswith(("config.error.", "options.error."))
        or re.fullmatch(r"config_subentries\.\w+\.error\.\w+", path)
    }
    used = _form_error_keys()
    assert len(used) > 20  # the collection itself still finds the flows' keys
    assert sorted(used - known) == []


@pytest.mark.parametrize(
    "path", sorted(TRANSLATIONS.glob("*.json")), ids=lambda p: p.name
)
def test_no_text_reads_as_markup(path: Path) -> None:
    """Home Assistant's frontend formats texts as ICU messages, where `<MAC>`
    is an unclosed tag: the form then shows "Translation error" instead."""
    tags = re.compile(r"<[A-Za-z][^>]*>")
    assert [key for key, text in _strings(_load(path)) if tags.search(text)] == []
