"""A tiny MaxMind DB (GeoIP2) writer: enough to test the country lookup on a real file.

It follows the MaxMind DB format 2.0: a binary search tree over the address bits, 16
zero bytes, a data section, then the metadata after a marker.
"""

import ipaddress
import time
from pathlib import Path

_METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
_TYPES = {"utf8_string": 2, "map": 7, "uint16": 5, "uint32": 6, "uint64": 9, "array": 11}


def _control(type_name: str, size: int) -> bytes:
    type_number = _TYPES[type_name]
    if type_number <= 7:
        return bytes([(type_number << 5) | size])
    return bytes([size, type_number - 7])


def _unsigned(type_name: str, value: int) -> bytes:
    payload = value.to_bytes(8, "big").lstrip(b"\0")
    return _control(type_name, len(payload)) + payload


def _encode(value) -> bytes:
    if isinstance(value, dict):
        encoded = _control("map", len(value))
        for key, item in value.items():
            encoded += _encode(key) + _encode(item)
        return encoded
    if isinstance(value, list):
        return _control("array", len(value)) + b"".join(_encode(item) for item in value)
    if isinstance(value, tuple):
        return _unsigned(*value)
    payload = value.encode()
    return _control("utf8_string", len(payload)) + payload


def write_country_database(path: Path, network: str, iso_code: str, database_type: str) -> Path:
    """An IPv4 database in which `network` is in the country `iso_code`, all else unknown."""
    parsed = ipaddress.IPv4Network(network)
    bits = format(int(parsed.network_address), "032b")[: parsed.prefixlen]
    node_count = len(bits)
    data = _encode({"country": {"iso_code": iso_code, "names": {"en": iso_code}}})
    data_pointer = node_count + 16
    tree = b""
    for depth, bit in enumerate(bits):
        onward = depth + 1 if depth + 1 < node_count else data_pointer
        records = (onward, node_count) if bit == "0" else (node_count, onward)
        tree += b"".join(record.to_bytes(3, "big") for record in records)
    metadata = _encode(
        {
            "node_count": ("uint32", node_count),
            "record_size": ("uint16", 24),
            "ip_version": ("uint16", 4),
            "database_type": database_type,
            "languages": ["en"],
            "binary_format_major_version": ("uint16", 2),
            "binary_format_minor_version": ("uint16", 0),
            "build_epoch": ("uint64", int(time.time())),
            "description": {"en": "Retrack test database"},
        }
    )
    path.write_bytes(tree + bytes(16) + data + _METADATA_MARKER + metadata)
    return path
