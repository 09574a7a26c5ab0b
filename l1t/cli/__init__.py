"""The ``l1t`` command line: one module per command group, each command parsing its arguments and calling library
functions (``l1t.pipelines``, ``l1t.studies``, ``l1t.kinds``, ``l1t.firmware``); ``l1t demo`` runs the others' work
through the same functions. The commands are registered here, in the order ``l1t --help`` lists them."""

import functools
from collections.abc import Callable
from typing import Any

from l1t.cli import board, demo, firmware, generate, project, report, tools, train
from l1t.cli._app import DEFAULT_MENU, app, fail
from l1t.extras import MissingExtra, extra_of, message

__all__ = ["DEFAULT_MENU", "app"]

COMMANDS = (
    tools.info,
    tools.selfcheck,
    generate.generate,
    generate.convert,
    train.train,
    report.report,
    report.compare_decisions,
    report.validate_rates,
    firmware.firmware,
    firmware.cosim,
    firmware.trigger,
    project.import_,
    project.verify,
    board.patterns,
    board.compare,
    demo.demo,
)


def _naming_missing_extras(command: Callable[..., Any]) -> Callable[..., Any]:
    """The command, with a missing optional module reported as the extra to install instead of a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ModuleNotFoundError as err:
            if isinstance(err, MissingExtra):
                fail(err)
            if err.name is None or extra_of(err.name) is None:
                raise
            fail(f"`l1t {command.__name__}` " + message(err.name))

    return run


for _command in COMMANDS:
    app.command(name=_command.__name__.removesuffix("_").replace("_", "-"))(_naming_missing_extras(_command))
