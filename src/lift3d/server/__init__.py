"""The lift3d web server: a REST API over :mod:`lift3d.reconstruct.service` and the static web page
(``lift3d serve``; docs/server.md)."""

from lift3d.server.settings import Settings


def create_app(settings: Settings | None = None, service=None):  # noqa: ANN001, ANN201 - lazy import of FastAPI
    """Build the FastAPI app (see :func:`lift3d.server.app.create_app`)."""
    from lift3d.server.app import create_app as _create

    return _create(settings, service)


__all__ = ["Settings", "create_app"]
