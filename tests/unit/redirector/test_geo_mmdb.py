"""Country lookup order: the bundled geoip2fast data first, then a configured .mmdb file
for what the bundled data does not know (it carries no IPv6 ranges)."""

from __future__ import annotations

from pathlib import Path

from kurz_redirector.geo import Countries
from mmdb_writer import MMDBWriter
from netaddr import IPSet


def _write_mmdb(path: Path) -> None:
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-Country", ipv4_compatible=True)
    writer.insert_network(IPSet(["2600::/16"]), {"country": {"iso_code": "CA"}})
    writer.insert_network(IPSet(["1.1.1.0/24"]), {"country": {"iso_code": "NZ"}})
    writer.insert_network(IPSet(["2a00::/16"]), {"registered_country": {"iso_code": "DE"}})
    writer.to_db_file(str(path))


def test_mmdb_answers_what_the_bundled_data_does_not_know(tmp_path: Path) -> None:
    mmdb = tmp_path / "countries.mmdb"
    _write_mmdb(mmdb)
    countries = Countries(str(mmdb))
    assert countries.of("2600::1") == "CA"
    assert countries.of("2a00::1") == "DE"  # registered country when no country is given
    assert countries.of("2c0f:ffff::1") is None  # in neither
    # The bundled data knows 1.1.1.1 and comes first.
    assert countries.of("1.1.1.1") == "AU"


def test_without_mmdb_ipv6_is_unknown_and_private_addresses_never_resolve(tmp_path: Path) -> None:
    countries = Countries()
    assert countries.of("2600::1") is None
    assert countries.of("1.1.1.1") == "AU"
    mmdb = tmp_path / "countries.mmdb"
    _write_mmdb(mmdb)
    with_file = Countries(str(mmdb))
    for private in ("10.0.0.1", "127.0.0.1", "::1", "not-an-ip"):
        assert with_file.of(private) is None
