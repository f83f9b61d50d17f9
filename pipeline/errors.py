"""The one error type that reaches a person as a single line and exit code 2."""


class InputError(Exception):
    """Bad input or configuration: a message a person can act on, never a traceback."""


class WriteError(InputError):
    """An output the system would not let us write (no space, no permission): the input itself was fine."""
