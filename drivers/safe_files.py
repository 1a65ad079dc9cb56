"""Reading and writing a user's files without harming them, hanging or tracing back.

Inputs. A recording, a config or a capture must be a regular file. A FIFO with no writer would
block `open()` forever, `/dev/zero` never ends, a directory is not a file: `check_input` refuses
each by name before it is opened, and `open_input` opens without blocking and checks the opened
file again, so a path swapped for a FIFO in between cannot hang us either. `read_input` reads at
most `limit` bytes, so a file far larger than its kind can be is refused instead of filling
memory.

Outputs. Whatever a command writes is written to a private temporary file beside the target and
put in place only once it is complete (`output`): a new name is linked into place, so a file
that appeared meanwhile is never replaced; with `--force` the old file is replaced by a rename in
one step, so a failed write (a full disk, an interrupt) leaves the old file as it was, never half
of a new one. An existing file is refused unless `force`; a target that is also an input of the
same command (the same path, a symbolic or hard link to it) is refused even with `force`; a
directory, FIFO or device is never replaced. Every file written is 0600: recordings and their
exports are personal health data.

Links. `make_link` creates a symbolic link only where nothing exists (not even a dangling link);
`repoint_link` and `remove_link` touch a link only while it is still the one we made.

Every problem is an `OxiError` whose text is one line naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from drivers.errors import FormatError, OxiError, SourceError

MIB = 1 << 20
#: The longest single name most file systems accept (bytes); longer is refused by name.
NAME_MAX = 255
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
PathLike = str | os.PathLike[str]


# --- what went wrong, in words -----------------------------------------------------------------


#: What a file system object is, for a message, by the first test its mode passes.
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"),
          (stat.S_ISREG, "a regular file"))


def kind_of(mode: int) -> str:
    """What a file system object is, for a message: 'a directory', 'a FIFO (named pipe)', …"""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def check_char_device(path: str, name: str, missing: str, device: str) -> None:
    """Refuses, naming `name` (the source, e.g. `serial:/dev/ttyUSB0`), a path that is missing
    (`missing` says what to do), cannot be looked at, or is not a character device (`device`
    says what it should have been): the checks a serial port and a USB-HID node share."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SourceError(f"{name}: {missing}") from None
    except OSError as e:
        raise SourceError(f"{name}: {os_reason(e)}") from None
    if not stat.S_ISCHR(st.st_mode):
        raise SourceError(f"{name}: {kind_of(st.st_mode)}, not {device}")


def os_reason(e: OSError) -> str:
    """An OSError in our words (no Python class names, no errno numbers)."""
    code = e.errno
    if code == errno.ENOENT:
        return "no such file"
    if code == errno.ENAMETOOLONG:
        return f"file name too long (a name may have at most {NAME_MAX} bytes)"
    if code == errno.ELOOP:
        return "too many levels of symbolic links"
    if code == errno.ENOTDIR:
        return "a folder in the path is not a folder"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENOSPC:
        return "no space left on the device"
    if code == errno.EROFS:
        return "read-only file system"
    if code == errno.EISDIR:
        return "is a directory"
    if code == errno.EEXIST:
        return "already exists"
    return (e.strerror or str(e) or type(e).__name__).splitlines()[0]


def name_too_long(path: Path) -> bool:
    """Whether a part of `path` is longer than NAME_MAX bytes (refused by name, not by errno,
    so the message is the same on every system)."""
    return any(len(os.fsencode(part)) > NAME_MAX for part in path.parts)


def _stat(path: Path, *, follow: bool = True) -> os.stat_result:
    if name_too_long(path):
        raise FormatError(path, os_reason(OSError(errno.ENAMETOOLONG, "")))
    try:
        return os.stat(path, follow_symlinks=follow)
    except OSError as e:
        raise FormatError(path, os_reason(e)) from None
    except ValueError:  # an embedded NUL byte
        raise FormatError(path, "not a valid file name") from None


# --- inputs --------------------------------------------------------------------------------------


def check_input(path: PathLike, *, what: str = "file") -> os.stat_result:
    """The file's stat if it is a regular file; otherwise FormatError saying what it is instead
    (a directory, a FIFO, a device, a missing file, a name that is too long). Nothing is opened."""
    p = Path(path)
    st = _stat(p)
    if not stat.S_ISREG(st.st_mode):
        raise FormatError(p, f"is {kind_of(st.st_mode)}, not a {what}")
    return st


def open_input(path: PathLike, *, what: str = "file") -> IO[bytes]:
    """The regular file at `path`, opened for reading in binary mode. Opened without blocking
    and checked again once open, so a FIFO or device swapped in after the check is refused too."""
    p = Path(path)
    check_input(p, what=what)
    try:
        fd = os.open(p, os.O_RDONLY | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC | _O_BINARY)
    except OSError as e:
        raise FormatError(p, os_reason(e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FormatError(p, f"is {kind_of(st.st_mode)}, not a {what}")
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: PathLike, *, limit: int, what: str = "file") -> bytes:
    """The whole of a regular file of at most `limit` bytes (a larger one is refused after
    reading `limit + 1` bytes, whatever its size claims)."""
    p = Path(path)
    with open_input(p, what=what) as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise FormatError(p, os_reason(e)) from None
    if len(data) > limit:
        raise FormatError(p, f"larger than {_size(limit)}: too large for a {what}")
    return data


def _size(n: int) -> str:
    return f"{n // MIB} MB" if n >= MIB else f"{n // 1024} kB" if n >= 1024 else f"{n} bytes"


# --- outputs -------------------------------------------------------------------------------------


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether two paths name the same file: the same device and inode (a hard or symbolic link
    to it counts), or the same resolved path when either cannot be looked at."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            return Path(a).resolve() == Path(b).resolve()
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_output(path: PathLike, *, force: bool = False, inputs: Iterable[PathLike] = (),
                 option: str = "--force") -> Path:
    """Checks that `path` may be written: its folder exists; it is none of `inputs`; it does not
    exist yet (or `force`, and it is a regular file or a link). Raises OxiError naming the path
    (and `option` where that is the way out). Nothing is written."""
    p = Path(path)
    if not p.name or p.name in (".", ".."):
        raise FormatError(p, "give a file name to write")
    if name_too_long(p):
        raise FormatError(p, os_reason(OSError(errno.ENAMETOOLONG, "")))
    parent = p.parent
    try:
        pst = os.stat(parent)
    except OSError as e:
        raise FormatError(p, f"cannot write there: folder {parent} "
                             f"{'does not exist' if e.errno == errno.ENOENT else os_reason(e)}"
                          ) from None
    if not stat.S_ISDIR(pst.st_mode):
        raise FormatError(p, f"cannot write there: {parent} is not a folder")
    for src in inputs:
        if src is not None and same_file(p, src):
            raise FormatError(p, f"is also an input of this command ({src}): "
                                 "write the output somewhere else")
    try:
        lst = os.lstat(p)
    except FileNotFoundError:
        return p
    except OSError as e:
        raise FormatError(p, os_reason(e)) from None
    try:
        st = os.stat(p)
    except OSError:
        st = lst  # a dangling link: it exists, but points nowhere
    if stat.S_ISDIR(st.st_mode):
        raise FormatError(p, "is a directory; give a file name to write")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise FormatError(p, f"is {kind_of(st.st_mode)}, not a file: it is never replaced")
    if not force:
        what = "already exists" if not stat.S_ISLNK(lst.st_mode) else \
            "already exists (a symbolic link)"
        raise FormatError(p, f"{what}; use {option} to replace it")
    return p


def open_private(path: PathLike, *, exclusive: bool = False) -> IO[bytes]:
    """Opens `path` for writing in binary mode with mode 0600 (an existing file is narrowed to
    0600 and emptied). With `exclusive`, only a new file is created (FileExistsError otherwise).
    The low-level open every writer of personal data goes through."""
    p = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | _O_CLOEXEC | _O_BINARY | _O_NOCTTY
    flags |= os.O_EXCL if exclusive else os.O_TRUNC
    fd = os.open(p, flags, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # an existing file, or a wide umask, must not widen it
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def _temp_beside(p: Path) -> Path:
    """A new, empty, private file in `p`'s folder, named so it sorts out of the way."""
    stem = p.name if len(os.fsencode(p.name)) <= NAME_MAX - 24 else "output"
    for _ in range(100):
        tmp = p.with_name(f".{stem}.{secrets.token_hex(4)}.part")
        try:
            open_private(tmp, exclusive=True).close()
        except FileExistsError:
            continue
        except OSError as e:
            raise FormatError(p, f"cannot write ({os_reason(e)})") from None
        return tmp
    raise FormatError(p, "cannot write (no free temporary name beside it)")


def _commit(tmp: Path, p: Path, *, force: bool, option: str) -> None:
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o600)  # the writer may have made the file afresh
    if force:
        os.replace(tmp, p)
        return
    try:
        os.link(tmp, p)  # never over a file that appeared since the check
    except FileExistsError:
        raise FormatError(p, f"already exists; use {option} to replace it") from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                           errno.EMLINK, errno.ENOSYS):
            raise
        # no hard links here (FAT, some network shares): claim the name, then move onto it
        try:
            open_private(p, exclusive=True).close()
        except FileExistsError:
            raise FormatError(p, f"already exists; use {option} to replace it") from None
        os.replace(tmp, p)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def output(path: PathLike, *, force: bool = False, inputs: Iterable[PathLike] = (),
           option: str = "--force") -> Iterator[Path]:
    """Yields a private temporary path beside `path` for a writer to fill; when the block ends
    without an error the file becomes `path` (see the module docstring). On an error or an
    interrupt the temporary file is removed and `path` is as it was before."""
    inputs = list(inputs)
    p = check_output(path, force=force, inputs=inputs, option=option)
    tmp = _temp_beside(p)
    try:
        yield tmp
        if force:  # the checks again, just before the old file is replaced
            check_output(p, force=True, inputs=inputs, option=option)
        _commit(tmp, p, force=force, option=option)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def open_output(path: PathLike, *, force: bool = False, inputs: Iterable[PathLike] = (),
                option: str = "--force", text: bool = True,
                newline: str | None = "\n") -> Iterator[Any]:
    """`output` with the temporary file already open (UTF-8 text, or binary)."""
    with output(path, force=force, inputs=inputs, option=option) as tmp:
        # the temporary file exists and is 0600: opening it again keeps that mode
        if text:
            with open(tmp, "w", encoding="utf-8", newline=newline) as f:
                yield f
        else:
            with open(tmp, "wb") as fb:
                yield fb


def write_output(path: PathLike, data: str | bytes, **kw: Any) -> Path:
    """Writes `data` as a new file (see `output` for `force`, `inputs`, `option`). A failure
    is one OxiError line naming the path."""
    p = Path(path)
    try:
        with open_output(p, text=isinstance(data, str), **kw) as f:
            f.write(data)
    except OxiError:
        raise
    except OSError as e:
        raise FormatError(p, f"cannot write ({os_reason(e)})") from None
    return p


def free_name(path: PathLike) -> Path:
    """`path`, or `stem-2.ext`, `stem-3.ext`, … : the first name nothing has (for files named
    by the program itself, such as an export from the debrief screen)."""
    p = Path(path)
    n = 2
    candidate = p
    while os.path.lexists(candidate):
        candidate = p.with_name(f"{p.stem}-{n}{p.suffix}")
        n += 1
    return candidate


# --- symbolic links ------------------------------------------------------------------------------


def make_link(path: PathLike, target: PathLike) -> Path:
    """Creates `path` as a symbolic link to `target`, only if nothing is there (a file, a folder,
    even a dangling link is left alone and refused)."""
    p = Path(path)
    if name_too_long(p):
        raise FormatError(p, os_reason(OSError(errno.ENAMETOOLONG, "")))
    if os.path.lexists(p):
        raise FormatError(p, "already exists; the link is only made where nothing is "
                             "(choose a new name)")
    try:
        os.symlink(target, p)
    except OSError as e:
        raise FormatError(p, f"cannot make the link ({os_reason(e)})") from None
    return p


def is_our_link(path: PathLike, target: PathLike) -> bool:
    """Whether `path` is still a symbolic link pointing at `target`."""
    try:
        return os.path.islink(path) and os.readlink(path) == os.fspath(target)
    except OSError:
        return False


def repoint_link(path: PathLike, old: PathLike, new: PathLike) -> bool:
    """Points our link at `new`, in one step, if it still points at `old`. False (and nothing
    changed) when something else is there now."""
    p = Path(path)
    if not is_our_link(p, old):
        return False
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.new")
    try:
        os.symlink(new, tmp)
        if not is_our_link(p, old):
            os.unlink(tmp)
            return False
        os.replace(tmp, p)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def remove_link(path: PathLike, target: PathLike) -> bool:
    """Removes `path` only if it is still our symbolic link to `target`."""
    if not is_our_link(path, target):
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True
