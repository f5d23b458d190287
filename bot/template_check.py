"""`rangkul templates check`: every template rendered with sample figures, countdown cases and election kinds,
to find what would fail before a broadcast does (unknown variables, HTML Telegram would refuse, escaping)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError

from bot import i18n, telegram_html
from bot.catalog import (
    CONTEXT_VARIABLES,
    ELECTION_KINDS,
    SAMPLE_ELECTION_DATE,
    SAMPLE_FIGURES,
    TEMPLATE_NAME,
    TEMPLATE_NAME_MAX,
    TEMPLATE_SUFFIX,
    TemplateInfo,
    Value,
    count_templates,
    figure_context,
    read_template_info,
    sample_values,
    template_context,
    unusable_folder,
)
from bot.render import WITA, Renderer, countdown_label, timezone_for_region

# Days before the election at which check_templates renders each template; -1 is the day after.
COUNTDOWN_CASES = (45, 30, 7, 1, 0, -1)


def _static_problems(ast: nodes.Template, declared_values: frozenset[str] | None) -> list[str]:
    """Problems visible without rendering: unknown variables and attributes, escaping turned off, includes."""
    problems = [
        f"uses unknown variable {name!r} (templates may use {', '.join(CONTEXT_VARIABLES)})"
        for name in sorted(meta.find_undeclared_variables(ast) - CONTEXT_VARIABLES.keys())
    ]
    used_values: set[str] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        if not isinstance(node.node, nodes.Name) or node.node.name not in CONTEXT_VARIABLES:
            continue
        variable = node.node.name
        if isinstance(node, nodes.Getattr):
            key: object = node.attr
        else:
            key = node.arg.value if isinstance(node.arg, nodes.Const) else None
        if not isinstance(key, str) or variable == "now":
            continue
        allowed = declared_values if variable == "values" else CONTEXT_VARIABLES[variable]
        if variable == "values":
            used_values.add(key)
        if allowed is not None and key not in allowed:
            problems.append(f"line {node.lineno}: unknown variable '{variable}.{key}'")
    if declared_values is not None:
        problems.extend(
            f"values.{key} is declared in the metadata but never used" for key in sorted(declared_values - used_values)
        )
    for filter_node in ast.find_all(nodes.Filter):
        if filter_node.name == "safe":
            problems.append(f"line {filter_node.lineno}: the 'safe' filter turns off escaping")
    for modifier in ast.find_all(nodes.EvalContextModifier):
        if any(option.key == "autoescape" for option in modifier.options):
            problems.append(f"line {modifier.lineno}: templates must not change autoescaping")
    for include in ast.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        problems.append(f"line {include.lineno}: include/extends/import is not allowed; keep each message whole")
    return problems


def _render_problems(renderer: Renderer, info: TemplateInfo, values: Mapping[str, Value]) -> list[str]:
    """Render for every sample figure, countdown case and election kind; each distinct problem once, with its
    first case."""
    found: dict[str, str] = {}
    cases = ((sample, days, kind) for sample in SAMPLE_FIGURES for days in COUNTDOWN_CASES for kind in ELECTION_KINDS)
    for (name, category, code), days, kind in cases:
        tz = timezone_for_region(code)
        figure = figure_context(name, category, code)
        case = f"{name[:20]!r} ({figure['timezone']}), {kind} {countdown_label(days)}"
        now = dt.datetime.combine(SAMPLE_ELECTION_DATE - dt.timedelta(days=days), dt.time(8), tzinfo=tz)
        context = template_context(figure=figure, values=values, now=now, tz=tz, kind=kind)
        try:
            html = renderer.render(info.name, context, locale=info.locale, tz=tz)
        except UndefinedError as exc:
            found.setdefault(f"undefined variable: {exc.message}", case)
            continue
        except SecurityError as exc:
            found.setdefault(f"refused by the sandbox: {exc}", case)
            continue
        except (TemplateError, TypeError, ValueError, AttributeError) as exc:
            found.setdefault(f"cannot render: {type(exc).__name__}: {exc}", case)
            continue
        for problem in telegram_html.problems(html):
            found.setdefault(problem, case)
        try:
            plain = telegram_html.parse(html)
        except telegram_html.TelegramHtmlError:
            continue
        # Where the name shows, it must show exactly as typed: not interpreted as HTML, not escaped twice.
        if any(char in name for char in "<>&") and name.split()[0] in plain and name not in plain:
            found.setdefault("figure.name is not shown exactly as written (escaping problem)", case)
    return [f"{problem} [{case}]" for problem, case in found.items()]


def _template_files(templates_dir: Path) -> Iterator[tuple[str, Path]]:
    """(locale, path) of every template file, Indonesian first."""
    folders = sorted(
        (path for path in templates_dir.iterdir() if path.is_dir()),
        key=lambda path: (path.name != i18n.DEFAULT_LOCALE, path.name),
    )
    for folder in folders:
        for path in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")):
            yield folder.name, path


def _check_all(templates_dir: Path) -> tuple[int, list[str]]:
    if not (templates_dir / i18n.DEFAULT_LOCALE).is_dir():
        return 0, [f"{templates_dir}: no {i18n.DEFAULT_LOCALE}/ folder of templates"]
    renderer = Renderer(templates_dir, default_tz=WITA)
    indonesian: dict[str, TemplateInfo] = {}
    problems: list[str] = []
    count = 0
    for locale, path in _template_files(templates_dir):
        count += 1
        where = f"{locale}/{path.name}"
        file_problems = _check_file(renderer, path, locale, indonesian)
        problems.extend(f"{where}: {problem}" for problem in file_problems)
    return count, problems


def _check_file(renderer: Renderer, path: Path, locale: str, indonesian: dict[str, TemplateInfo]) -> list[str]:
    if not TEMPLATE_NAME.match(path.name):
        return ["a template name must be lower-case letters, digits, '_' and '-', ending in .html"]
    if len(path.name) > TEMPLATE_NAME_MAX:
        return [f"a template name may have at most {TEMPLATE_NAME_MAX - len(TEMPLATE_SUFFIX)} characters before .html"]
    info, problems = read_template_info(path, path.name, locale)
    try:
        ast = renderer.env.parse(path.read_text(encoding="utf-8"))
    except TemplateSyntaxError as exc:
        return [*problems, f"line {exc.lineno}: {exc.message}"]
    except (OSError, UnicodeDecodeError):
        return problems
    problems.extend(_static_problems(ast, frozenset(spec.key for spec in info.values) if info else None))
    if info is None:
        return problems
    if locale == i18n.DEFAULT_LOCALE:
        indonesian[info.name] = info
    elif info.name in indonesian:
        keys, expected = [s.key for s in info.values], [s.key for s in indonesian[info.name].values]
        if keys != expected:
            problems.append(f"values {keys} differ from the Indonesian template's {expected}")
        if info.commitments != indonesian[info.name].commitments:
            # The buttons follow the Indonesian template's metadata (bot.delivery): a translation must agree.
            problems.append(
                f"commitments {list(info.commitments)} differ from the Indonesian template's "
                f"{list(indonesian[info.name].commitments)}"
            )
    problems.extend(_render_problems(renderer, info, sample_values(info)))
    return problems


def check_templates(templates_dir: Path) -> list[str]:
    """Every problem in the templates under TEMPLATES_DIR, one line each naming the file; empty when all is well."""
    return _check_all(templates_dir)[1]


def main_check(templates_dir: Path) -> int:
    """`rangkul templates check`: print the problems (exit code 1) or "N templates OK" (exit code 0)."""
    unusable = unusable_folder(templates_dir)
    count, problems = _check_all(templates_dir) if unusable is None or count_templates(templates_dir) else (0, [])
    if unusable is not None:
        problems.insert(0, unusable)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{count} templates OK")
    return 0
