"""The class's rules for an external mosquitto broker, as files: a password file, an ACL file
with `%u` patterns, and a configuration to include. The same rules as the embedded broker
(`oxi_assist.classroom.broker`): stations log in with their station id and the join code and
may publish only under their own station topics; only `trainer` may send commands.

mosquitto cannot accept "any user name with this password", so the station ids are fixed when
the files are written (`--stations alice,bob` or `--stations 30` for station-01 … station-30),
and trainees join with those names. The password hashes are made by mosquitto's own
`mosquitto_passwd`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from oxi_assist.classroom.codes import TRAINER_USER, CodeError, new_secret, station_id
from oxi_assist.classroom.topics import ROOT, TopicKind, Topics


def station_names(spec: str) -> list[str]:
    """`30` → station-01 … station-30; `alice,bob` → those (as station ids)."""
    spec = spec.strip()
    if spec.isdigit():
        n = int(spec)
        if not 1 <= n <= 500:
            raise CodeError(f"--stations {spec}: expected 1 to 500")
        return [f"station-{i:02d}" for i in range(1, n + 1)]
    names = [station_id(s) for s in spec.split(",") if s.strip()]
    if not names:
        raise CodeError("--stations: expected a number or names separated by commas")
    if len(set(names)) != len(names):
        raise CodeError("--stations: two names give the same station id")
    return names


def acl_text(class_id: str) -> str:
    t = Topics(class_id)
    me = "%u"
    lines = [
        "# oxi-assist class ACL (mosquitto acl_file). Stations: their own topics only.",
        f"user {TRAINER_USER}",
        f"topic readwrite {ROOT}/#",
        "",
        "# every other user is a station; %u is its user name (its station id)",
        f"pattern read {t.class_state}",
        f"pattern read {t.cmd_all}",
        f"pattern read {t.cmd(me)}",
        f"pattern read {t.ack(me)}",
        *(f"pattern write {t.station(me, k)}" for k in
          (TopicKind.EVENT, TopicKind.STATUS, TopicKind.PRESENCE)),
        f"pattern readwrite {t.station(me, TopicKind.STATE)}",
    ]
    return "\n".join(lines) + "\n"


def conf_text(folder: Path, port: int, bind: str) -> str:
    return "\n".join([
        "# oxi-assist class broker (include this file, or run mosquitto -c with it)",
        f"listener {port} {bind}",
        "allow_anonymous false",
        f"password_file {folder / 'passwd'}",
        f"acl_file {folder / 'acl'}",
        "# With TLS (then join with mqtts://HOST:PORT and give stations the CA file):",
        "# certfile /path/to/server.crt",
        "# keyfile /path/to/server.key",
        "",
    ])


@dataclass(frozen=True)
class BrokerFiles:
    folder: Path
    stations: tuple[str, ...]
    trainer_password_file: Path


def _private(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise CodeError(f"{path} exists; use --force to replace it")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def write_files(folder: str | os.PathLike[str], *, code: str, stations: list[str],
                port: int = 1883, bind: str = "127.0.0.1", force: bool = False) -> BrokerFiles:
    """Writes `passwd`, `acl`, `mosquitto.conf` and `trainer.password` (all 0600) into
    `folder` (0700). Needs `mosquitto_passwd` (Debian/Ubuntu: `apt install mosquitto`)."""
    from oxi_assist.classroom.codes import class_id

    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise CodeError("mosquitto_passwd not found: install mosquitto "
                        "(e.g. `apt install mosquitto`) to write its password file")
    d = Path(folder)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = new_secret()
    passwd = d / "passwd"
    _private(passwd, "", force)
    for user, pw in [(TRAINER_USER, secret), *((s, code) for s in stations)]:
        r = subprocess.run([tool, "-b", str(passwd), user, pw], capture_output=True, text=True,
                           timeout=30, check=False)
        if r.returncode != 0:
            raise CodeError(f"mosquitto_passwd failed: {r.stderr.strip() or r.returncode}")
    os.chmod(passwd, 0o600)
    _private(d / "acl", acl_text(class_id(code)), force)
    _private(d / "mosquitto.conf", conf_text(d.resolve(), port, bind), force)
    pw_file = d / "trainer.password"
    _private(pw_file, secret + "\n", force)
    return BrokerFiles(d, tuple(stations), pw_file)
