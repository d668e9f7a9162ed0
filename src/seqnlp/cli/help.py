"""How every command's `--help` reads, fixed once for all sub-apps.

typer's rich renderer reads "[default: ...]" inside a help string as markup and drops it,
shows a `<bool>` beside flags, `{name}` for arguments in the usage line and `<list[Path]>`
for repeatable options. `plain_help` switches every sub-app to plain help text and
`polish` walks the built command tree once, giving arguments and repeatable options the
metavars users know (`CORPUS`, `<path>`). `help_records` lists what `--help` shows for each
option, which tests/cli/test_help.py holds to "every option has a description and a
visible default".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def plain_help(typer_app: Any) -> None:
    """Render `typer_app`'s help as plain text (no rich markup to swallow brackets)."""
    typer_app.rich_markup_mode = None


def commands(command: Any, path: tuple[str, ...] = ("seqnlp",)) -> Iterator[tuple[str, Any]]:
    """Yield `("seqnlp w2v train", click_command)` for every leaf command under `command`."""
    children = getattr(command, "commands", None)
    if not children:
        yield " ".join(path), command
        return
    for name, child in sorted(children.items()):
        yield from commands(child, (*path, name))


def polish(command: Any) -> Any:
    """Give every argument an upper-case metavar and every repeatable option its element
    type's metavar; return `command` (changed in place)."""
    for _, leaf in commands(command):
        for param in leaf.params:
            if param.param_type_name == "argument":
                if param.metavar is None:
                    param.metavar = param.name.upper()
                # typer writes a required argument as `{NAME}` in the usage line and a
                # repeated one's type as `<list[str]>`
                param._usage_display_name = _usage_name(param)
                if param.nargs != 1:
                    shown = _element_metavar(param)
                    param.display_type_rich = lambda ctx=None, shown=shown: shown
            elif param.param_type_name == "option" and param.multiple and param.metavar is None:
                param.metavar = _element_metavar(param)
    return command


def _usage_name(param: Any) -> Any:
    """The usage-line name of an argument: `NAME` when required, `[NAME]` when not."""
    name = param.metavar if param.required else f"[{param.metavar}]"
    name += "..." if param.nargs != 1 else ""
    return lambda: name


def _element_metavar(param: Any) -> str:
    """`<path>` for a `list[Path]` option, `<str>` for `list[str]`, and so on."""
    shown = param.display_type(None) if hasattr(param, "display_type") else "<value>"
    if shown.startswith("<list[") and shown.endswith("]>"):
        inner = shown[len("<list["):-len("]>")]
        return f"<{inner.lower()}>"
    return shown


def help_records(command: Any) -> Iterator[tuple[str, str, str]]:
    """Yield `(command path, option names, help text as --help shows it)` for every
    visible option except --help."""
    from typer._click import Context

    for path, leaf in commands(command):
        context = Context(leaf, info_name=path)
        for param in leaf.params:
            if param.param_type_name != "option" or param.hidden or param.name == "help":
                continue
            record = param.get_help_record(context)
            if record is not None:
                yield path, record[0], record[1]
