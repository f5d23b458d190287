"""The callback-data codec: round trips, the 64-byte limit, and parsing that never raises."""

from __future__ import annotations

import pytest

from bot.callbacks import MAX_BYTES, CallbackDataError, Codec, Pressed


def test_round_trip_and_versions() -> None:
    codec = Codec("cm")
    data = codec.data("commit", 12, "tps")
    assert data == "cm:commit:12:tps"
    assert codec.parse(data) == Pressed("commit", ("12", "tps"))
    assert codec.parse(data).arg(5, "x") == "x"  # type: ignore[union-attr]
    newer = Codec("cm", version=2)
    assert newer.data("commit", 12) == "cm2:commit:12"
    assert newer.parse(data) is None and codec.parse(newer.data("commit", 12)) is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "",
        "cm",
        "cm:",
        "xx:commit:1",
        "cm:COMMIT:1",
        "cm:commit:1:a b",
        "cm:commit:" + "9" * 41,
        "cm:commit:" + "1:" * 40,
        "cm:commit:\u00e9",
        "cm:commit:1\n",
        "\udcff",
    ],
)
def test_parse_never_raises_and_refuses_what_it_did_not_make(data: object) -> None:
    assert Codec("cm").parse(data) is None


def test_data_that_cannot_be_a_button_is_refused_when_made() -> None:
    codec = Codec("cm")
    with pytest.raises(CallbackDataError):
        codec.data("commit", "a:b")
    with pytest.raises(CallbackDataError):
        codec.data("commit", *["1234567890"] * 7)  # over 64 bytes
    with pytest.raises(CallbackDataError):
        Codec("Bad-Prefix")
    assert len(codec.data("commit", *["123456789"] * 5).encode()) <= MAX_BYTES
