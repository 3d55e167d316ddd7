"""Progress bars on the terminal for the steps a large dataset makes long: load and export.

rich draws them on standard error, never on standard output: that may be a file the user
sent an answer or an export into (``hrkg query run cases --format csv > cases.csv``), and
a bar drawn there would end up in it. A bar appears only once its step has passed
:data:`PROGRESS_THRESHOLD_BYTES`, and vanishes when the step ends. rich is imported only
when a bar is drawn, so that importing hrkg stays quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO, cast

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

#: Below this many bytes, a load or an export is too quick for a progress bar to help.
PROGRESS_THRESHOLD_BYTES = 5 * 1024 * 1024


def loading_bar() -> Progress:
    """A bar for reading files whose total size is known: bytes read, and time left."""
    from rich.progress import DownloadColumn, TimeRemainingColumn

    return _bar(DownloadColumn(), TimeRemainingColumn())


def _bar(*columns: ProgressColumn) -> Progress:
    """A transient bar on standard error: the step, the bar, then ``columns``."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        *columns,
        transient=True,
        console=Console(stderr=True),
    )


class BytesWrittenDisplay:
    """A binary output that shows how many bytes have been written into it so far.

    An export cannot know its size before it ends, so the bar counts bytes and time
    elapsed. Everything else goes to the wrapped output unchanged, seeking included: an
    export that starts again over what it wrote (see :func:`hrkg.export.write_dataset`)
    seeks back, and the count follows.
    """

    def __init__(self, output: BinaryIO, description: str) -> None:
        self._output = output
        self._description = description
        self._start = output.tell() if output.seekable() else 0
        self._position = self._start
        self._bar: Progress | None = None

    def write(self, data: bytes) -> int:
        written = self._output.write(data)
        self._position += written
        self._show()
        return written

    def flush(self) -> None:
        self._output.flush()

    def seekable(self) -> bool:
        return self._output.seekable()

    def tell(self) -> int:
        return self._output.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = self._output.seek(offset, whence)
        self._show()
        return self._position

    def truncate(self, size: int | None = None) -> int:
        return self._output.truncate(size)

    def _show(self) -> None:
        written = self._position - self._start
        if self._bar is None:
            if written < PROGRESS_THRESHOLD_BYTES:
                return
            from rich.progress import FileSizeColumn, TimeElapsedColumn

            self._bar = _bar(FileSizeColumn(), TimeElapsedColumn())
            self._bar.start()
            self._bar.add_task(self._description, total=None)
        self._bar.update(self._bar.task_ids[0], completed=written)

    def close(self) -> None:
        """Take the bar off the terminal; the output itself stays open."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@contextmanager
def showing_bytes_written(output: BinaryIO, description: str, show: bool) -> Iterator[BinaryIO]:
    """``output``, counting on the terminal the bytes written into it when ``show`` is
    true (a terminal to show them on); ``output`` itself otherwise."""
    if not show:
        yield output
        return
    display = BytesWrittenDisplay(output, description)
    try:
        yield cast(BinaryIO, display)  # it has every method an export calls
    finally:
        display.close()
