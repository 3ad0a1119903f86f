"""Uploads: a body-size limit counted while reading, the reconstruction form (the fields of ``lift3d reconstruct``)
and its conversion to a checked :class:`~lift3d.reconstruct.service.Request` (images decoded by content)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from fastapi import File, Form, UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lift3d.errors import InputError
from lift3d.reconstruct.service import Request, Service
from lift3d.server.catalog import FORMATS, Catalog, ModelEntry
from lift3d.server.settings import MB


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413, from its Content-Length before anything is read,
    and by counting the bytes as they arrive (a chunked or lying client)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.message = (f"upload too large: over the limit of {max_bytes / MB:g} MB per request "
                        "(lift3d serve --max-upload-mb)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await JSONResponse({"detail": self.message}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, counted, send)


@dataclass
class ReconstructForm:
    """The multipart form of ``POST /api/reconstruct`` (and ``/sync``); options as ``lift3d reconstruct``'s."""

    images: list[UploadFile]
    masks: list[UploadFile] | None
    options: dict


def reconstruct_form(
    images: list[UploadFile | str] = File(..., description="1..8 photos of ONE object (any PIL format; the content "
                                    "decides, not the name)"),
    masks: list[UploadFile | str] | None = File(None, description="optional foreground mask per image (white = "
                                                "object)"),
    model: str | None = Form(None, description="model name (GET /api/models); default: the default model"),
    format: str = Form("glb", description=f"output format: {', '.join(FORMATS)}"),
    texture: str | None = Form(None, description="image, vertex, none or auto (default)"),
    texture_size: int | None = Form(None, description="texture side in pixels (16-8192, default 1024)"),
    post: str | None = Form(None, description="refinement steps, e.g. fill,smooth:taubin:10,decimate:5000"),
    faces: int | None = Form(None, description="face budget of the mesh"),
    size: str | None = Form(None, description="real size of the longest side, e.g. 0.45m"),
    up: str | None = Form(None, description="up axis: y (default) or z"),
    units: str | None = Form(None, description="units of the mesh file: m (default), cm, mm, in, ft"),
    threshold: float | None = Form(None, description="occupancy threshold (voxel and occupancy models)"),
    resolution: int | None = Form(None, description="occupancy model: marching-cubes grid (64, 128, 256)"),
    smooth: int | None = Form(None, description="Taubin smoothing iterations (default 10)"),
) -> ReconstructForm:
    options = dict(model=model, format=format, texture=texture, texture_size=texture_size, post=post, faces=faces,
                   size=size, up=up, units=units, threshold=threshold, resolution=resolution, smooth=smooth)
    return ReconstructForm(files(images), files(masks or []) or None,
                           {k: v for k, v in options.items() if v not in (None, "")})


def files(parts: list[UploadFile | str]) -> list[UploadFile]:
    """The file parts of a field: an HTML form's empty file input arrives as an empty string and is dropped."""
    return [p for p in parts if not isinstance(p, str)]


def upload_name(upload: UploadFile, index: int) -> str:
    """A file name for messages only (never a path): the base name, printable characters, at most 80."""
    raw = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in raw if unicodedata.category(c)[0] != "C")[:80]
    return clean or f"image {index + 1}"


def build_request(form: ReconstructForm, catalog: Catalog, service: Service,
                  max_images: int) -> tuple[Request, ModelEntry]:
    """The form -> (a :class:`Request` with decoded RGBA images and bool masks, its model entry); InputError on
    anything wrong.

    The model comes from the server's catalog by name (a checkpoint path never comes from a request); each upload
    is decoded by :func:`lift3d.io.images.load_image`, which goes by the bytes and enforces the pixel limits.
    """
    from lift3d.io.images import load_image, load_mask

    opts = dict(form.options)
    fmt = str(opts.pop("format", "glb")).lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not served; choose one of {', '.join(FORMATS)}")
    if not form.images:
        raise InputError("no image given: send 1 or more views of one object in the field 'images'")
    if len(form.images) > max_images:
        raise InputError(f"{len(form.images)} images given; send 1 to {max_images} views of one object")
    if form.masks is not None and len(form.masks) != len(form.images):
        raise InputError(f"{len(form.masks)} masks given for {len(form.images)} images")
    entry = catalog.get(opts.pop("model", None))
    names = [upload_name(u, i) for i, u in enumerate(form.images)]
    request = Request(images=[b""] * len(names), names=names, checkpoint=str(entry.checkpoint), format="." + fmt,
                      **opts)
    service.options(request)  # every option that needs no model, before any decoding
    request.images = [load_image(u.file.read(), n) for u, n in zip(form.images, names, strict=True)]
    if form.masks is not None:
        request.masks = [load_mask(m.file.read(), im.shape[:2], f"mask of {n}")
                         for m, im, n in zip(form.masks, request.images, names, strict=True)]
    return request, entry
