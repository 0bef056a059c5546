"""Serials people can type back: 70 random bits, no look-alike letters, a check character."""

from __future__ import annotations

import re

from trace_service.labels import serials


def test_a_serial_is_15_characters_of_the_alphabet_with_a_right_check():
    for _ in range(200):
        serial = serials.new_serial()
        assert re.fullmatch("[0-9A-HJKMNP-TV-Z]{15}", serial)
        assert serials.is_serial(serial)


def test_the_check_character_catches_every_single_wrong_character():
    for _ in range(50):
        serial = serials.new_serial()
        for i in range(len(serial)):
            for ch in serials.ALPHABET:
                if ch != serial[i]:
                    assert not serials.is_serial(serial[:i] + ch + serial[i + 1 :])


def test_the_check_character_catches_any_two_characters_swapped():
    for _ in range(300):
        serial = serials.new_serial()
        for i in range(len(serial)):
            for j in range(i + 1, len(serial)):
                if serial[i] != serial[j]:
                    swapped = list(serial)
                    swapped[i], swapped[j] = swapped[j], swapped[i]
                    assert not serials.is_serial("".join(swapped)), (serial, i, j)
    # The pair Luhn mod 32 misses.
    body = "M87NJZKFE7700Z"
    serial = body + serials.check_char(body)
    assert not serials.is_serial(serial.replace("0Z", "Z0"))


def test_a_typed_code_is_read_back_forgivingly():
    serial = serials.new_serial()
    printed = serials.grouped(serial)
    assert re.fullmatch(r"\w{5}-\w{5}-\w{5}", printed)
    assert serials.normalise_typed(printed) == serial
    assert serials.normalise_typed(printed.lower()) == serial
    assert serials.normalise_typed(printed.replace("-", " ")) == serial
    with_look_alikes = serial.replace("1", "l").replace("0", "O")
    assert serials.normalise_typed(with_look_alikes) == serial
    assert serials.normalise_typed(serial[:-1]) is None
    assert serials.normalise_typed("") is None
    assert serials.normalise_typed(None) is None  # type: ignore[arg-type]


def test_many_serials_are_all_different():
    batch = serials.new_serials(20_000)
    assert len(set(batch)) == 20_000


def test_a_scratch_code_is_derived_from_the_serial_and_only_its_hash_is_kept():
    secret = b"k" * 32
    serial = serials.new_serial()
    code = serials.scratch_code(secret, serial)
    assert re.fullmatch("[0-9A-HJKMNP-TV-Z]{10}", code)
    assert serials.scratch_code(secret, serial) == code  # a rebuild prints the same code
    assert serials.scratch_code(b"j" * 32, serial) != code
    digest = serials.scratch_hash(serial, code)
    assert len(digest) == 32 and code.encode() not in digest
    assert serials.scratch_hash(serials.new_serial(), code) != digest
