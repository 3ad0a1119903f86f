"""Project exceptions. The CLI turns any :class:`Lift3DError` into one line on stderr and exit code 2."""


class Lift3DError(Exception):
    """Base class for errors a user can understand and act on."""


class InputError(Lift3DError):
    """A file or argument given by the user is missing, unreadable, corrupt or of the wrong kind."""


class FormatError(InputError):
    """A file exists but its contents do not match the expected format (truncated, wrong bytes...)."""


class DatasetError(Lift3DError):
    """A dataset on disk is inconsistent (missing or corrupt member files, bad manifest)."""


class ModelError(Lift3DError):
    """A checkpoint or model configuration cannot be loaded or built."""
