"""The exceptions of gle. Every message names the field and the value that
are wrong, as the Go library's errors do."""


class GleError(Exception):
    """An error of the gle library."""


class SpecError(GleError, ValueError):
    """A spec, argument or value that is invalid (names the field and value)."""


class ShapeError(GleError, ValueError):
    """Arrays whose shapes do not fit the network."""


class TooLargeError(GleError, MemoryError):
    """A network, batch or tape that would need more memory than is available."""


class DivergedError(GleError, ArithmeticError):
    """A run whose state or parameters became NaN or infinite."""


class MismatchError(GleError, ValueError):
    """A checkpoint of another run."""


class CancelledError(GleError):
    """A run stopped before its end (Ctrl-C)."""
