"""Where the pipeline keeps its files between tasks (staging Parquet, counts, raw pages, quarantined
batches): a folder on local disk, or under s3://bucket/prefix when NEWSMON_DATA_URL says so, so that
workers on several machines share nothing on local disk. One code path for both, through pyarrow's
filesystems (its S3 client is native: no botocore, whose python-dateutil pin clashes with ours)."""

from __future__ import annotations

import fnmatch
import functools
import io
import os
import threading
from pathlib import Path

from pipelines.lake import S3


class Folder:
    """A folder: a local path, or s3://bucket/prefix with the endpoint and credentials in s3."""

    def __init__(self, url: str, s3: S3 | None = None):
        from pyarrow import fs

        self.url = str(url).rstrip("/")
        self.s3 = s3
        if self.url.startswith("s3://"):
            self.remote = True
            self.root = self.url[len("s3://"):]
            self.fs = _s3_filesystem(s3 or S3())
        else:
            self.remote = False
            self.root = str(Path(self.url).absolute())
            self.fs = fs.LocalFileSystem()

    def __repr__(self) -> str:
        return f"Folder({self.url!r})"

    def __truediv__(self, name: str) -> Folder:
        return Folder(f"{self.url}/{name}", self.s3)

    def path(self, name: str) -> str:
        """The file's path as the filesystem names it (for pyarrow and pandas readers)."""
        return f"{self.root}/{name}"

    def exists(self, name: str) -> bool:
        from pyarrow import fs

        return self.fs.get_file_info(self.path(name)).type == fs.FileType.File

    def names(self, pattern: str = "*") -> list[str]:
        """The files directly in the folder whose names match the glob pattern, sorted."""
        from pyarrow import fs

        infos = self.fs.get_file_info(fs.FileSelector(self.root, allow_not_found=True))
        return sorted(i.base_name for i in infos
                      if i.type == fs.FileType.File and fnmatch.fnmatchcase(i.base_name, pattern))

    def folders(self) -> list[str]:
        """The names of the folders directly in this one, sorted."""
        from pyarrow import fs

        infos = self.fs.get_file_info(fs.FileSelector(self.root, allow_not_found=True))
        return sorted(i.base_name for i in infos if i.type == fs.FileType.Directory)

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a file whole. A reader never sees half of it: on S3 an object appears when its upload
        completes; on disk it is written under a temporary name (one per thread: two threads may store
        the same raw page) and renamed."""
        if self.remote:
            with self.fs.open_output_stream(self.path(name), compression=None) as out:
                out.write(data)
            return
        target = Path(self.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)

    def read_bytes(self, name: str) -> bytes | None:
        """The file's bytes, or None where there is none."""
        try:
            # compression=None: pyarrow would otherwise gunzip a .gz file on reading it.
            with self.fs.open_input_stream(self.path(name), compression=None) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        try:
            self.fs.delete_file(self.path(name))
        except FileNotFoundError:
            pass

    def make(self) -> None:
        """Create the folder (on S3 there is nothing to create)."""
        if not self.remote:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def clear(self) -> None:
        """Delete the folder and everything in it."""
        try:
            self.fs.delete_dir(self.root)
        except FileNotFoundError:
            pass

    def copy_to(self, other: Folder, skip: tuple[str, ...] = ()) -> None:
        """Copy every file of this folder (not its subfolders) into another, replacing what is there."""
        other.clear()
        other.make()
        for name in self.names():
            if name not in skip:
                other.write_bytes(name, self.read_bytes(name) or b"")

    def write_parquet(self, name: str, df) -> None:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        self.write_bytes(name, buf.getvalue())

    def read_parquet(self, name: str, columns: list[str] | None = None):
        import pandas as pd

        return pd.read_parquet(io.BytesIO(self.read_bytes(name)), columns=columns)


@functools.lru_cache(maxsize=8)
def _s3_filesystem(s3: S3):
    """One client per endpoint and credentials in a process: every raw page and staged file goes through it."""
    from urllib.parse import urlsplit

    from pyarrow import fs

    # allow_delayed_open: a file smaller than one upload part (most of ours) goes up in one PutObject
    # instead of a three-request multipart upload (moto's server, the tests' S3, also fails the AWS C++
    # SDK's multipart completion: "error embedded in a 200 OK response").
    options: dict = {"region": s3.region, "allow_delayed_open": True}
    if s3.key_id:
        options |= {"access_key": s3.key_id, "secret_key": s3.secret}
    if s3.endpoint:
        url = urlsplit(s3.endpoint)
        options |= {"endpoint_override": url.netloc or url.path, "scheme": url.scheme or "https"}
    return fs.S3FileSystem(**options)
