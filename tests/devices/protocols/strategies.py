"""Hypothesis strategies for sensor payloads: hostile JSON and near-valid forms.

The near-valid strategies produce mostly acceptable payloads, with the
corners each format has (aliases, seconds and milliseconds, base fields,
relative times, sums), so the round-trip properties see many accepted
examples rather than a stream of refusals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from devices.protocols.elements import CANONICAL_ELEMENTS, ELEMENT_ALIASES

PROPERTY = settings(
    max_examples=300,
    deadline=None,  # the machine is shared; a slow example is not a failure
    database=None,  # no example files left in the working tree
    suppress_health_check=[HealthCheck.too_slow],
)

T = TypeVar("T")

received_times = st.datetimes(
    min_value=datetime(2001, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
hostile_values = st.recursive(  # NaN and infinities where json.dumps writes them
    json_scalars | st.floats(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)


def mostly(
    good: st.SearchStrategy[T], bad: st.SearchStrategy[T], one_in: int = 10
) -> st.SearchStrategy[T]:
    """``bad`` once in ``one_in`` draws, else ``good``: payloads stay near valid."""
    return st.integers(1, one_in).flatmap(lambda roll: bad if roll == 1 else good)


valid_keys = st.sampled_from(
    sorted({*ELEMENT_ALIASES, *CANONICAL_ELEMENTS})
) | st.from_regex(r"[a-z][A-Za-z0-9_]{0,12}", fullmatch=True)
element_keys = mostly(valid_keys, st.text(max_size=4))
stations = mostly(
    st.sampled_from(["st1", "bahe-01", "Device A", "巴河站", "urn:dev:x"]),
    st.text(max_size=6),
)
numbers = st.integers(-(2**63), 2**63 - 1) | st.floats(
    allow_nan=False, allow_infinity=False
)
scalars = numbers | st.booleans() | st.none() | st.text(max_size=10)
device_times = mostly(
    st.integers(10**12, 10**13 - 1)
    | st.integers(10**9, 10**10 - 1)
    | st.floats(1e9, 1e10)
    | st.floats(1e12, 1e13),
    st.integers(-5, 10**14) | st.text(max_size=3),
)


@st.composite
def key_values(draw: st.DrawFn) -> dict[str, object]:
    """Keys with values that suit them (numbers for measurements), mostly."""
    keys = draw(st.lists(element_keys, max_size=4, unique=True))
    measured = set(CANONICAL_ELEMENTS) | set(ELEMENT_ALIASES)
    return {
        key: draw(mostly(numbers if key in measured else scalars, scalars))
        for key in keys
    }


tb_entries = key_values() | st.fixed_dictionaries(
    {"ts": device_times, "values": key_values()}
)
tb_documents = tb_entries | st.lists(tb_entries, max_size=5)
gateway_documents = st.dictionaries(
    stations, st.lists(tb_entries, min_size=1, max_size=3), min_size=1, max_size=3
)

rfc3339_times = st.datetimes(
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))]
    )
).map(lambda at: at.isoformat())
plain_items = st.fixed_dictionaries(
    {"element": element_keys, "value": scalars},
    optional={
        "station": mostly(st.just("st1"), stations),  # the topic names st1
        "ts": device_times | rfc3339_times | st.none(),
        "unit": st.text(max_size=4),
    },
)
plain_documents = plain_items | st.lists(plain_items, max_size=5)

senml_names = mostly(
    st.sampled_from(["", "urn:dev:mac:0024be:", "st1/"]), st.just("dev:")
)
senml_times = (
    st.integers(-(10**5), 10**5)
    | st.floats(-1e5, 1e5)
    | st.sampled_from([2**28 - 1, 2**28, 1751968800])
    | st.floats(1.7e9, 1.8e9)
)
_VALUE_FIELDS = {
    "v": numbers,
    "vs": st.text(max_size=6),
    "vb": st.booleans(),
    "vd": st.text(alphabet="ABCabc012_-", max_size=8),
}
_ONE_VALUE = st.sampled_from([["v"], ["vs"], ["vb"], ["vd"], ["s"], ["v", "s"]])
_ONE_NUMBER = st.sampled_from([["v"], ["s"], ["v", "s"]])
_MEASURED = frozenset({*CANONICAL_ELEMENTS, *ELEMENT_ALIASES})


@st.composite
def senml_records(draw: st.DrawFn) -> dict[str, object]:
    """One record: some base fields, a name, a time and (usually) one value."""
    record: dict[str, object] = draw(
        st.fixed_dictionaries(
            {"n": valid_keys},
            optional={
                "bn": senml_names,
                "bt": senml_times,
                "bu": st.sampled_from(["m", "mm", "V", ""]),
                "bv": numbers,
                "bs": numbers,
                "bver": mostly(st.just(10), st.just(11)),
                "u": st.sampled_from(["m", "%RH", "Cel"]),
                "t": senml_times,
                "ut": st.integers(0, 600),
            },
        )
    )
    one_value = _ONE_NUMBER if record["n"] in _MEASURED else _ONE_VALUE
    fields = draw(
        mostly(
            one_value,
            st.lists(st.sampled_from(["v", "vs", "vb"]), max_size=2, unique=True),
        )
    )
    for field in fields:
        record[field] = draw(_VALUE_FIELDS.get(field, numbers))
    if draw(mostly(st.just(False), st.just(True), one_in=30)):
        del record["n"]
    return record


senml_packs = st.lists(senml_records(), max_size=5)


@st.composite
def senml_named_packs(draw: st.DrawFn) -> list[dict[str, object]]:
    """Packs whose names carry the station, for topics that name none."""
    pack = draw(st.lists(senml_records(), min_size=1, max_size=5))
    pack[0]["bn"] = draw(
        mostly(st.sampled_from(["st1/", "urn:dev:mac:0024be:"]), senml_names)
    )
    return pack
