import pytest

from drivers.errors import SourceError
from oxi_assist.uris import parse_uri


def test_parses_scheme_target_and_options():
    u = parse_uri("replay:night.csv?speed=10")
    assert (u.scheme, u.target, u.params) == ("replay", "night.csv", {"speed": "10"})
    assert parse_uri("ble:AA:BB:CC:DD:EE:FF").target == "AA:BB:CC:DD:EE:FF"
    assert parse_uri("serial:auto?protocol=cms50-v7").params == {"protocol": "cms50-v7"}


@pytest.mark.parametrize(
    ("uri", "message"),
    [("opioid-overdose", "expected SCHEME:TARGET"), ("tcp:1.2.3.4", "unknown source scheme"),
     ("sim:", "nothing after"), ("serial:auto?protocol", "malformed options")],
)
def test_bad_uris_are_named(uri, message):
    with pytest.raises(SourceError) as e:
        parse_uri(uri)
    assert message in str(e.value)
