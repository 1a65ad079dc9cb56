"""The bad-input corpus (tests/bad_inputs/manifest.toml) through the real command line, with the
checks that make "never harm a file, never hang, never trace back" measurable.

Each case must end with exit code 2 and exactly one line on stderr containing its `expect`
text, no traceback, within a time bound, and must change nothing in the corpus folder (hashed
before and after: contents, sizes, times, links). The corpus runs from a copy that
`make_corpus.make_special` completes with what git cannot hold (FIFOs, links, names with escape
codes, files of many megabytes).

    python -m benchmarks.reliability_files            # every case as its own process; rewrites
                                                      # the "File system and edges" section of
                                                      # docs/RELIABILITY.md in place
    python -m benchmarks.reliability_files --code DIR # measure another checkout (no rewrite)

tests/reliability/test_bad_inputs.py runs the same cases (most in-process, for speed).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
DOC = ROOT / "docs" / "RELIABILITY.md"
SECTION = "## File system and edges"
BEFORE = "## Crash safety"
#: A file name longer than any file system allows (255 bytes).
LONG = "a" * 300
#: Seconds a case may take: a hang is a case still running after this.
TIME_BOUND = 60.0
#: Address-space cap for a child process: runaway memory ends the case instead of the machine.
MEMORY_BOUND = 4 << 30
HASH_UP_TO = 1 << 20  # bytes: larger files are compared by size, times and inode
DEFAULT_CLASS = "content"

CLASS_WORDS: dict[str, str] = {
    "content": "malformed content of every format, bad URIs, scripts, column maps",
    "outputs": "existing files, inputs as outputs (same path, symbolic and hard links), "
               "folders, FIFOs, devices, missing folders, `--link` targets",
    "special files": "FIFOs, /dev/zero, /dev/null, directories, dangling and looping links, "
                     "process substitution",
    "names": "names over 255 bytes in 19 commands; escape codes and line breaks in names",
    "numbers": "NaN, ±inf, zero, negative and huge values in alarm configs, scenarios, "
               "source URIs and command options",
    "nesting": "TOML nested 1,000 levels, JSON nested 100,000 levels in a recording",
    "sizes": "a 20 MB config and scenario, a 20 MB line in a recording and a capture",
    "EDF headers": "every numeric EDF header field damaged (text, NaN, zero, 1e308, reversed)",
    "sources": "regular files, FIFOs, folders and /dev/null given as serial or HID devices",
    "terminal": "the full-screen commands with no terminal",
}


@dataclass(frozen=True)
class Case:
    cls: str
    file: str
    cmd: str
    expect: str
    subprocess: bool = False
    shell: bool = False

    @property
    def id(self) -> str:
        return self.cmd.replace("{long}", "LONG")[:80]


@dataclass
class Result:
    case: Case
    code: int | None
    out: str
    err: str
    seconds: float
    timed_out: bool = False
    changed: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.err + self.out

    @property
    def lines(self) -> list[str]:
        return self.err.splitlines()

    def problems(self) -> list[str]:
        """What is wrong with this outcome (empty: the case passes)."""
        bad = []
        if self.timed_out:
            bad.append(f"still running after {TIME_BOUND:g} s")
        if self.code != 2:
            bad.append(f"exit {self.code}")
        if self.traceback:
            bad.append("traceback")
        if len(self.lines) != 1:
            bad.append(f"{len(self.lines)} stderr lines")
        elif self.case.expect not in self.lines[0]:
            bad.append(f"message lacks {self.case.expect!r}")
        if self.changed:
            bad.append(f"changed {self.changed}")
        if self.leftovers:
            bad.append(f"left {self.leftovers}")
        return bad

    @property
    def ok(self) -> bool:
        return not self.problems()

    def report(self) -> str:
        return (f"{self.case.cmd!r}: {'; '.join(self.problems())}\n"
                f"  stderr: {self.err[-1500:]!r}\n  stdout: {self.out[-300:]!r}")


def load_cases() -> list[Case]:
    raw = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))["case"]
    return [Case(cls=c.get("class", DEFAULT_CLASS), file=c["file"], cmd=c["cmd"],
                 expect=c["expect"], subprocess=bool(c.get("subprocess")),
                 shell=bool(c.get("shell"))) for c in raw]


def prepare(dest: Path) -> Path:
    """A working copy of the corpus at `dest`, completed by `make_special`."""
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus
    finally:
        sys.path.remove(str(CORPUS))
    shutil.copytree(CORPUS, dest, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    make_corpus.make_special(dest)
    return dest


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Everything about the tree that a write, a replace or a delete would change; FIFOs and
    devices are looked at, never opened."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            key = os.path.relpath(p, root)
            extra: Any = None
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(p)
            elif stat.S_ISREG(st.st_mode) and st.st_size <= HASH_UP_TO:
                with open(p, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()
            out[key] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size,
                        st.st_mtime_ns, st.st_ino, extra)
    return out


def _changed(before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _leftovers(tmp: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*")) if tmp.exists() else []


def argv(case: Case, tmp: Path) -> list[str]:
    return shlex.split(case.cmd.replace("{tmp}", str(tmp)).replace("{long}", LONG))


def _env(state: Path, code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code), "OXI_ASSIST_DATA_DIR": str(state / "data"),
            "OXI_ASSIST_CONFIG_DIR": str(state / "config"), "NO_COLOR": "1",
            "OPENBLAS_NUM_THREADS": "1"}


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BOUND, MEMORY_BOUND))


def run_subprocess(case: Case, work: Path, tmp: Path, state: Path, *,
                   code: Path = ROOT) -> Result:
    """One case as `python -m oxi_assist …` (or through bash for a shell case), cwd = `work`."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = _env(state, code)
    if case.shell:
        oxi = f"{shlex.quote(sys.executable)} -m oxi_assist"
        cmd: Sequence[str] = ["bash", "-c", case.cmd.replace("{oxi}", oxi)
                              .replace("{tmp}", shlex.quote(str(tmp)))]
    else:
        cmd = [sys.executable, "-m", "oxi_assist", *argv(case, tmp)]
    before = snapshot(work)
    t0 = time.perf_counter()
    timed_out = False
    try:
        p = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, errors="replace",
                           timeout=TIME_BOUND, preexec_fn=_limit_memory)
        rc, so, se = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        timed_out = True
        rc = None
        so = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        se = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    secs = time.perf_counter() - t0
    return Result(case, rc, so, se, secs, timed_out, _changed(before, snapshot(work)),
                  _leftovers(tmp))


class Hung(BaseException):
    """Raised by the watchdog in an in-process case that outlived TIME_BOUND (a BaseException
    so that no `except Exception` in the code under test can swallow it)."""


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not \
            threading.main_thread() or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL,
                                                                                 None):
        yield
        return

    def fire(_sig: int, _frame: object) -> None:
        raise Hung

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_in_process(case: Case, work: Path, tmp: Path, state: Path) -> Result:
    """One case through `oxi_assist.cli.main` in this process (same code, no start-up cost),
    cwd = `work`, stdout and stderr captured (so neither is a terminal)."""
    from oxi_assist.cli import main

    tmp.mkdir(parents=True, exist_ok=True)
    out, err = io.StringIO(), io.StringIO()
    saved_env = {k: os.environ.get(k) for k in ("OXI_ASSIST_DATA_DIR", "OXI_ASSIST_CONFIG_DIR")}
    os.environ["OXI_ASSIST_DATA_DIR"] = str(state / "data")
    os.environ["OXI_ASSIST_CONFIG_DIR"] = str(state / "config")
    cwd = os.getcwd()
    before = snapshot(work)
    t0 = time.perf_counter()
    timed_out = False
    code: int | None
    try:
        os.chdir(work)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                _watchdog(TIME_BOUND):
            try:
                code = main(argv(case, tmp))
            except SystemExit as e:  # argparse usage errors exit through SystemExit
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Hung:
        timed_out, code = True, None
    finally:
        os.chdir(cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    secs = time.perf_counter() - t0
    return Result(case, code, out.getvalue(), err.getvalue(), secs, timed_out,
                  _changed(before, snapshot(work)), _leftovers(tmp))


def run_all(cases: Sequence[Case], base: Path, *, code: Path = ROOT,
            jobs: int = 2) -> list[Result]:
    """Every case as its own process, `jobs` at a time. Each worker has its own working copy
    of the corpus, made afresh after a case that changed it, so a change is charged to the
    case that made it and never spoils the next one."""
    import threading

    local = threading.local()
    made = iter(range(10_000))
    lock = threading.Lock()

    def fresh() -> Path:
        with lock:
            k = next(made)
        return prepare(base / f"work-{k}")

    def one(i_case: tuple[int, Case]) -> Result:
        i, c = i_case
        if getattr(local, "work", None) is None:
            local.work = fresh()
        r = run_subprocess(c, local.work, base / f"case-{i}", base / f"state-{i}", code=code)
        if r.changed:
            shutil.rmtree(local.work, ignore_errors=True)
            local.work = fresh()
        return r

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, enumerate(cases)))


# --- the published table ---------------------------------------------------------------------


def _command(case: Case) -> str:
    words = case.cmd.split()
    return words[1] if case.shell and len(words) > 1 else words[0]


def section(results: Sequence[Result], *, wall: float, jobs: int) -> str:
    by: dict[str, list[Result]] = {}
    for r in results:
        by.setdefault(r.case.cls, []).append(r)
    rows = []
    for cls, rs in by.items():
        rows.append([cls, CLASS_WORDS.get(cls, ""), len(rs),
                     sum(1 for r in rs if r.code == 2 and len(r.lines) == 1 and not r.traceback),
                     sum(1 for r in rs if r.changed), sum(1 for r in rs if r.traceback),
                     sum(1 for r in rs if r.timed_out),
                     sum(1 for r in rs if r.code == 0),
                     "pass" if all(r.ok for r in rs) else "FAIL"])
    n = len(results)
    tot = ["**all**", "", n, sum(r[3] for r in rows), sum(r[4] for r in rows),
           sum(r[5] for r in rows), sum(r[6] for r in rows), sum(r[7] for r in rows),
           "pass" if all(r.ok for r in results) else "FAIL"]
    head = ["class", "what", "cases", "exit 2, one line", "files changed (destroyed)",
            "tracebacks", f"hangs (> {TIME_BOUND:g} s)", "silent (exit 0)", "result"]
    table = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in [*rows, tot]:
        table.append("| " + " | ".join(str(c) for c in r) + " |")
    slow = max(results, key=lambda r: r.seconds)
    counts = Counter(_command(r.case) for r in results)
    lines = [
        SECTION, "",
        "Every case of the bad-input corpus (`tests/bad_inputs/manifest.toml`) run as its own "
        "`python -m oxi_assist` process from a copy of the corpus folder that also holds what "
        "git cannot (FIFOs, links, names with escape codes, 20 MB files). A case passes when "
        "the command exits 2 with exactly one line on stderr naming the problem (the expected "
        f"text), prints no traceback, ends within {TIME_BOUND:g} s (memory capped at "
        f"{MEMORY_BOUND >> 30} GB), and leaves every file of the folder as it was (contents, "
        "sizes, times and links hashed before and after) and nothing in its output folder.",
        "",
        f"Regenerate with `python -m benchmarks.reliability_files` ({n} cases, {jobs} at a "
        f"time: {wall:.0f} s here; the slowest case took {slow.seconds:.1f} s).", "",
        *table, "",
        "Commands covered: " + ", ".join(f"`{k}` {v}" for k, v in sorted(counts.items())) + ".",
        "",
    ]
    bad = [r for r in results if not r.ok]
    if bad:
        lines += ["Failing cases:", "", *[f"- `{r.case.id}`: {'; '.join(r.problems())}"
                                          for r in bad], ""]
    return "\n".join(lines)


def replace_section(page: str, new: str) -> str:
    """`page` with its File system and edges section replaced (or appended)."""
    start = page.find(SECTION)
    if start < 0:  # where the full run puts it: before the crash-safety section
        at = page.find(BEFORE)
        if at < 0:
            return page.rstrip() + "\n\n" + new.rstrip() + "\n"
        return page[:at] + new.rstrip() + "\n\n" + page[at:]
    nxt = page.find("\n## ", start + len(SECTION))
    end = len(page) if nxt < 0 else nxt + 1
    return page[:start] + new.rstrip() + "\n" + ("\n" + page[end:] if nxt >= 0 else "")


def main(argv_: list[str] | None = None) -> int:
    global TIME_BOUND
    ap = argparse.ArgumentParser(prog="python -m benchmarks.reliability_files",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--code", type=Path, default=ROOT,
                    help="the checkout whose code runs (default: this one); with another "
                         "checkout the page is not rewritten")
    ap.add_argument("--jobs", type=int, default=2, help="cases at a time (default 2)")
    ap.add_argument("--out", type=Path, default=DOC, help="page to update (default %(default)s)")
    ap.add_argument("--time-bound", type=float, default=TIME_BOUND,
                    help="seconds before a case counts as hung (default %(default)s)")
    args = ap.parse_args(argv_)
    TIME_BOUND = args.time_bound
    cases = load_cases()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="oxi-corpus-") as d:
        results = run_all(cases, Path(d), code=args.code.resolve(), jobs=args.jobs)
    wall = time.perf_counter() - t0
    text = section(results, wall=wall, jobs=args.jobs)
    print(text)
    for r in results:
        if not r.ok:
            print(r.report(), file=sys.stderr)
    if args.code.resolve() == ROOT:
        page = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        args.out.write_text(replace_section(page, text), encoding="utf-8")
        print(f"updated {args.out}", file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
