"""What a build may read: files inside the manuscript and styles folders, nothing from the network."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, path2url

from ..book.errors import RefusedError
from ..system.fsutil import inside

# Where WeasyPrint sees the manuscript folder: the same URL wherever the folder lies, because
# WeasyPrint names resources after their URL (an image's PDF name is a hash of it).
MANUSCRIPT_URL = "file:///manuscript/"


class RefusedURL(FatalURLFetchingError):
    """Stops WeasyPrint at once: it swallows ordinary fetch errors as warnings."""


class SafeFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves only local files under the given folders.

    URLs under MANUSCRIPT_URL are read from the manuscript folder, when one is given.
    """

    def __init__(self, roots: list[Path], manuscript: Path | None = None):
        super().__init__(allowed_protocols={"file", "data"})
        self.roots = roots
        self.manuscript = manuscript

    def fetch(self, url, headers=None):
        if self.manuscript is not None and url.startswith(MANUSCRIPT_URL):
            url = path2url(str(self.manuscript.resolve()) + "/") + url[len(MANUSCRIPT_URL):]
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"refused to fetch '{url}': a build reads no network resource; "
                             "copy the file into the manuscript folder and link it by a relative path")
        path = Path(unquote(parts.path))
        if not inside(path, self.roots):
            raise RefusedURL(f"refused to read '{path}': it lies outside the manuscript and styles folders")
        return super().fetch(url, headers)


def refused(exc: BaseException) -> RefusedError:
    """Turn a refusal raised inside WeasyPrint into the user error it stands for."""
    return RefusedError(str(exc.args[0]) if exc.args else str(exc))
