"""The safe-file helpers: inputs that are not regular files are refused without blocking,
reads are bounded, outputs never replace a file without `force`, never land on an input, and
a failed write leaves the old file whole."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drivers import safe_files as sf
from drivers.errors import OxiError


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


# --- inputs --------------------------------------------------------------------------------------


def test_a_fifo_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for call in (sf.check_input, sf.open_input):
        with pytest.raises(OxiError, match=r"pipe.jsonl: is a FIFO \(named pipe\), not a file"):
            call(fifo)


def test_devices_directories_and_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(OxiError, match="/dev/zero: is a character device, not a config"):
        sf.read_input("/dev/zero", limit=10, what="config")
    with pytest.raises(OxiError, match="is a directory, not a file"):
        sf.open_input(tmp_path)
    with pytest.raises(OxiError, match="nope: no such file"):
        sf.check_input(tmp_path / "nope")
    long = tmp_path / ("a" * 300)
    with pytest.raises(OxiError, match="file name too long"):
        sf.check_input(long)


def test_reads_are_bounded(tmp_path: Path) -> None:
    p = tmp_path / "big.toml"
    p.write_bytes(b"x" * 2000)
    assert sf.read_input(p, limit=2000) == b"x" * 2000
    with pytest.raises(OxiError, match=r"big.toml: larger than 1 kB: too large for a config"):
        sf.read_input(p, limit=1024, what="config")


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    p = tmp_path / "real.csv"
    p.write_text("x")
    (tmp_path / "link.csv").symlink_to(p)
    assert sf.read_input(tmp_path / "link.csv", limit=10) == b"x"


# --- outputs -------------------------------------------------------------------------------------


def test_new_output_is_private_and_complete(tmp_path: Path) -> None:
    out = sf.write_output(tmp_path / "a.txt", "hello")
    assert out.read_text() == "hello"
    assert _mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    p = tmp_path / "night.jsonl"
    p.write_text("precious")
    with pytest.raises(OxiError, match=r"night.jsonl: already exists; use --force to replace"):
        sf.write_output(p, "new")
    assert p.read_text() == "precious"
    sf.write_output(p, "new", force=True)
    assert p.read_text() == "new" and _mode(p) == 0o600


def test_a_dangling_symlink_counts_as_existing(tmp_path: Path) -> None:
    link = tmp_path / "out.txt"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OxiError, match="already exists"):
        sf.write_output(link, "x")
    assert link.is_symlink()


def test_output_onto_an_input_is_refused_even_with_force(tmp_path: Path) -> None:
    src = tmp_path / "rec.jsonl"
    src.write_text("data")
    (tmp_path / "soft.jsonl").symlink_to(src)
    os.link(src, tmp_path / "hard.jsonl")
    for target in (src, tmp_path / "soft.jsonl", tmp_path / "hard.jsonl",
                   tmp_path / "." / "rec.jsonl"):
        with pytest.raises(OxiError, match="is also an input of this command"):
            sf.write_output(target, "x", force=True, inputs=[src])
    assert src.read_text() == "data"


def test_force_replacing_a_link_keeps_its_target(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("keep me")
    link = tmp_path / "out.txt"
    link.symlink_to(other)
    sf.write_output(link, "new", force=True)
    assert not link.is_symlink() and link.read_text() == "new"
    assert other.read_text() == "keep me"


def test_special_files_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    (tmp_path / "d").mkdir()
    with pytest.raises(OxiError, match=r"p: is a FIFO \(named pipe\), not a file: it is never"):
        sf.write_output(fifo, "x", force=True)
    with pytest.raises(OxiError, match="is a directory; give a file name"):
        sf.write_output(tmp_path / "d", "x", force=True)
    with pytest.raises(OxiError, match="is a character device"):
        sf.check_output("/dev/null", force=True)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_missing_folder_and_long_names_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(OxiError, match=r"folder .*nope does not exist") as e:
        sf.write_output(tmp_path / "nope" / "x.txt", "x")
    assert "\n" not in str(e.value)
    with pytest.raises(OxiError, match="file name too long"):
        sf.write_output(tmp_path / ("b" * 256), "x")


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    p = tmp_path / "export.txt"
    p.write_text("old contents")

    class Full(Exception):
        pass

    with pytest.raises(Full), sf.open_output(p, force=True) as f:
        f.write("half of the new")
        raise Full
    assert p.read_text() == "old contents"
    assert [x.name for x in tmp_path.iterdir()] == ["export.txt"]


def test_a_file_that_appears_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    p = tmp_path / "out.txt"
    with pytest.raises(OxiError, match="already exists"), sf.open_output(p) as f:
        f.write("ours")
        p.write_text("someone else's")
    assert p.read_text() == "someone else's"


def test_open_private_narrows_an_existing_file(tmp_path: Path) -> None:
    p = tmp_path / "x.edf"
    p.write_text("old")
    os.chmod(p, 0o644)
    with sf.open_private(p) as f:
        f.write(b"new")
    assert _mode(p) == 0o600 and p.read_bytes() == b"new"
    with pytest.raises(FileExistsError):
        sf.open_private(p, exclusive=True)


def test_free_name_skips_what_exists(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("1")
    (tmp_path / "a-2.txt").symlink_to(tmp_path / "gone")
    assert sf.free_name(tmp_path / "a.txt") == tmp_path / "a-3.txt"
    assert sf.free_name(tmp_path / "b.txt") == tmp_path / "b.txt"


# --- links ---------------------------------------------------------------------------------------


def test_links_are_made_only_where_nothing_is(tmp_path: Path) -> None:
    night = tmp_path / "night.csv"
    night.write_text("recording")
    with pytest.raises(OxiError, match=r"night\.csv: already exists"):
        sf.make_link(night, "/dev/pts/9")
    dangling = tmp_path / "old-link"
    dangling.symlink_to(tmp_path / "gone")
    with pytest.raises(OxiError, match="already exists"):
        sf.make_link(dangling, "/dev/pts/9")
    assert night.read_text() == "recording" and os.readlink(dangling) == str(tmp_path / "gone")


def test_only_our_own_link_is_moved_or_removed(tmp_path: Path) -> None:
    link = tmp_path / "dev"
    sf.make_link(link, "/dev/pts/1")
    assert sf.repoint_link(link, "/dev/pts/1", "/dev/pts/2")
    assert os.readlink(link) == "/dev/pts/2"
    assert not sf.remove_link(link, "/dev/pts/1")  # not pointing there any more
    assert sf.remove_link(link, "/dev/pts/2") and not os.path.lexists(link)
    # replaced by a user's file meanwhile: neither moved nor removed
    link.write_text("user data")
    assert not sf.repoint_link(link, "/dev/pts/2", "/dev/pts/3")
    assert not sf.remove_link(link, "/dev/pts/2")
    assert link.read_text() == "user data"
