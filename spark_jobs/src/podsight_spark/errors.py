"""The one error a job raises for its caller: the CLI prints its message and exits 2."""


class JobError(Exception):
    """A job could not run as asked; the message says what to do."""
