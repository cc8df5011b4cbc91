"""User-facing errors: one clear line, no traceback (the CLI prints ``str(err)`` and exits non-zero)."""


class GlobalfitError(Exception):
    """Base class of errors caused by user input (configs, command-line values, outputs)."""


class ConfigError(GlobalfitError):
    """A run config is malformed: the message names the file, the key path and what was expected."""


class InputError(GlobalfitError):
    """A command-line value is invalid."""


class OutputError(GlobalfitError):
    """An output directory problem (exists without --force, missing, incompatible resume)."""
