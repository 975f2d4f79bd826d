"""Renders the templates beside this file; they only place values decided in Python."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parent

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render(template_name: str, args: object) -> str:
    return _environment.get_template(template_name).render(c=args)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
