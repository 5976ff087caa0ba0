"""A file to upload in a multipart request, in the official SDK's shape.

``File(content=..., file_name=...)`` works as the official ``mistralai`` ``File`` does, and
``content`` also takes a path. Validation only checks shapes (no I/O): whether a path
exists is checked by the request layer when the request is built, before any connection.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainValidator, model_validator

__all__ = ["File", "FileContent"]

#: What ``File.content`` holds once validated: bytes, a path, or a binary file object.
FileContent = bytes | Path | IO[bytes]


def _file_content(value: Any) -> FileContent:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, os.PathLike)):
        return Path(value)
    if isinstance(value, io.TextIOBase):
        raise ValueError("a file to upload must be opened in binary mode ('rb'), not text mode")
    if callable(getattr(value, "read", None)):
        return value  # type: ignore[no-any-return]
    raise ValueError(
        f"file content must be bytes, a path or a binary file object, not {type(value).__name__}"
    )


class File(BaseModel):
    """A file part of a multipart upload: ``File(content=..., file_name=...)``.

    - ``content``: bytes, a path (``str`` or ``os.PathLike``; read when the request is
      built) or a binary file object (read while the request is sent, from its start).
    - ``file_name``: the name sent with the part; when omitted, the path's or the file
      object's own name, else ``"upload"``. The part's content type is guessed from it.
    - ``content_type``: sent instead of the guess when given.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid", frozen=True)

    content: Annotated[FileContent, PlainValidator(_file_content)]
    # the official model's aliases are accepted too, for drop-in compatibility
    file_name: str = Field(default="", validation_alias=AliasChoices("file_name", "fileName"))
    content_type: str | None = Field(
        default=None, validation_alias=AliasChoices("content_type", "Content-Type")
    )

    @model_validator(mode="after")
    def _default_name(self) -> File:
        if not self.file_name:
            content = self.content
            name = content if isinstance(content, Path) else getattr(content, "name", None)
            # an int name is a file descriptor, not a file name
            inferred = Path(name).name if isinstance(name, (str, os.PathLike)) else ""
            object.__setattr__(self, "file_name", inferred or "upload")
        return self
