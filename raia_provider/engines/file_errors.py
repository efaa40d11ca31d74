"""Which failures of a multi-file task concern one file only, so that the other files are still worth sending."""

from __future__ import annotations

from raia_provider.exceptions import RaiaBadRequestError, RaiaInputError, RaiaNotFoundError


def is_file_specific(error: Exception, *, vector_store_step: bool = False) -> bool:
    """Whether ``error`` concerns only the file it was raised for.

    A 400 (or another refusing 4xx) is about that file ("Failed to upload agent file."), as is a file that
    vanished or became unreadable since it was checked; a 404 is too, but only on a step about an uploaded
    file (it is gone), since a 404 on the upload itself means a wrong agent or URL. Everything else (a refused
    key, raia or the network down after the hook's retries, an answer breaking the contract) would fail
    every file the same way.

    :param error: what the request raised.
    :param vector_store_step: whether the request was about an already uploaded file (e.g. adding it to the
        vector store) rather than the upload.
    """
    if isinstance(error, RaiaBadRequestError | RaiaInputError):
        return True
    return vector_store_step and isinstance(error, RaiaNotFoundError)
