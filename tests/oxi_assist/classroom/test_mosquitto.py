"""The same class on an external mosquitto, configured with the files `oxi-assist class
--mosquitto-files` writes (password file, ACL with %u patterns). Skipped where mosquitto is
not installed, except on CI, where it must be."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import aiomqtt

from drivers.clock import RealClock
from oxi_assist.actions import Action
from oxi_assist.classroom.codes import class_id
from oxi_assist.classroom.link import BrokerAddress
from oxi_assist.classroom.messages import CommandName, EventKind, Phase
from oxi_assist.classroom.mosquitto import station_names, write_files
from oxi_assist.classroom.station import StationClient, StationOptions
from oxi_assist.classroom.topics import TopicKind
from oxi_assist.classroom.trainer import ClassSetup, TrainerNode

from .conftest import CODE, Mosquitto, free_port, mosquitto_or_skip, until


async def test_class_on_mosquitto_with_generated_acl(tmp_path) -> None:
    exe = mosquitto_or_skip()
    port = free_port()
    files = write_files(tmp_path / "broker", code=CODE, stations=station_names("2"), port=port)
    for name in ("passwd", "acl", "mosquitto.conf", "trainer.password"):
        assert stat.S_IMODE((files.folder / name).stat().st_mode) == 0o600
    m = Mosquitto(exe, files.folder / "mosquitto.conf")
    m.start(port)
    node = TrainerNode(ClassSetup("opioid-overdose", speed=20.0), RealClock(), code=CODE,
                       external=BrokerAddress("127.0.0.1", port, username="trainer"),
                       password=files.trainer_password_file.read_text().strip())
    st = None
    task = None
    try:
        await node.start(timeout=10)
        st = StationClient(BrokerAddress("127.0.0.1", port), CODE,
                           StationOptions("station-01", record=False), RealClock())
        task = asyncio.ensure_future(st.run())
        await until(lambda: "station-01" in node.core.board.rows, what="station on the board")
        node.core.start()
        await until(lambda: st.core.patient is not None)
        st.core.act(Action.CALLED_911)
        node.core.cue(CommandName.FINGER_OUT, 15, station="station-01")
        await until(lambda: "911" in [e.name for e in node.core.events("station-01")
                                      if e.kind is EventKind.ACTION])
        await until(lambda: any(a.name == "finger_out" for a in st.core.patient.session.actions))
        # the ACL: a station (right password) cannot command, nor speak for another station
        t = node.core.topics
        async with aiomqtt.Client("127.0.0.1", port, username="station-02", password=CODE,
                                  identifier=f"{class_id(CODE)}-station-02", timeout=5) as eve:
            await eve.publish(t.cmd_all, json.dumps({"v": 1, "type": "cmd", "seq": 50,
                                                     "channel": "all", "name": "end"}), qos=1)
            await eve.publish(t.station("station-01", TopicKind.EVENT), b"{}", qos=1)
        await asyncio.sleep(0.5)
        assert st.core.phase is Phase.RUNNING
        assert node.core.rejected.total == 0  # the forged event never reached the trainer
        # a user that is not in the password file is refused
        try:
            async with aiomqtt.Client("127.0.0.1", port, username="mallory", password=CODE,
                                      timeout=5):
                raise AssertionError("mallory got in")
        except aiomqtt.MqttError:
            pass
    finally:
        if st is not None:
            st.link.stop()
            st._stop.set()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await node.stop()
        m.stop()
    assert os.path.exists(files.folder / "acl")


async def test_class_over_tls_with_passwords(tmp_path) -> None:
    """mqtts:// to mosquitto with a certificate from a private CA: the trainer and a station
    connect with the CA file; a client that does not trust the CA is refused."""
    import shutil as sh
    import subprocess

    import pytest

    from oxi_assist.classroom.link import tls_context

    exe = mosquitto_or_skip()
    if sh.which("openssl") is None:
        pytest.skip("openssl is not installed")
    port = free_port()
    files = write_files(tmp_path / "broker", code=CODE, stations=["ann"], port=port)
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    conf = files.folder / "mosquitto.conf"
    conf.write_text(conf.read_text().replace("# certfile /path/to/server.crt",
                                             f"certfile {cert}")
                    .replace("# keyfile /path/to/server.key", f"keyfile {key}"))
    m = Mosquitto(exe, conf)
    m.start(port)
    tls = tls_context(str(cert))
    node = TrainerNode(ClassSetup("opioid-overdose", speed=20.0), RealClock(), code=CODE,
                       external=BrokerAddress.parse(f"mqtts://trainer@127.0.0.1:{port}"),
                       password=files.trainer_password_file.read_text().strip(), tls=tls)
    st = task = None
    try:
        await node.start(timeout=10)
        st = StationClient(BrokerAddress.parse(f"mqtts://127.0.0.1:{port}"), CODE,
                           StationOptions("ann", record=False), RealClock(), tls=tls)
        task = asyncio.ensure_future(st.run())
        await until(lambda: "ann" in node.core.board.rows, what="ann over TLS")
        node.core.start()
        await until(lambda: st.core.patient is not None)
        # without the CA (the system trust store only), the certificate is refused
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", port, username="ann", password=CODE,
                                      identifier=f"{class_id(CODE)}-ann-x",
                                      tls_context=tls_context(), timeout=5):
                pass
    finally:
        if st is not None:
            st.link.stop()
            st._stop.set()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await node.stop()
        m.stop()
