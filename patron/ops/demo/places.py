"""Where the demo provider's customers are: towns, streets, postcodes and phone numbers."""

from __future__ import annotations

import random
from decimal import Decimal

from patron.ops.demo.base import words

# city -> (region group, latitude, longitude, postcode districts, landline prefix or "")
# Landline prefixes are Ofcom's ranges kept for drama and examples.
CITIES = {
    "Leeds": ("Leeds", 53.7997, -1.5492, ["LS1", "LS2", "LS6", "LS7", "LS8", "LS11"], "113 496 0"),
    "Manchester": ("Manchester", 53.4808, -2.2426, ["M1", "M4", "M14", "M20", "M21"], "161 496 0"),
    "Sheffield": ("Sheffield", 53.3811, -1.4701, ["S1", "S2", "S7", "S10", "S11"], "114 496 0"),
    "Newcastle upon Tyne": (
        "Newcastle",
        54.9783,
        -1.6178,
        ["NE1", "NE2", "NE4", "NE6"],
        "191 498 0",
    ),
    "Birmingham": ("Birmingham", 52.4862, -1.8904, ["B1", "B5", "B13", "B15", "B29"], "121 496 0"),
    "Leicester": ("Leicester", 52.6369, -1.1398, ["LE1", "LE2", "LE3", "LE5"], "116 496 0"),
    "London Camden": ("Camden", 51.5390, -0.1426, ["NW1", "NW3", "NW5"], "20 7946 0"),
    "London Islington": ("Islington", 51.5465, -0.1058, ["N1", "N5", "N7"], "20 7946 0"),
    "London Hackney": ("Hackney", 51.5450, -0.0553, ["E2", "E5", "E8", "E9"], "20 7946 0"),
    "London Southwark": (
        "Southwark",
        51.5035,
        -0.0804,
        ["SE1", "SE5", "SE15", "SE22"],
        "20 7946 0",
    ),
    "Bristol": ("Bristol", 51.4545, -2.5879, ["BS1", "BS3", "BS6", "BS7", "BS8"], "117 496 0"),
    "Reading": ("Reading", 51.4543, -0.9781, ["RG1", "RG2", "RG4", "RG30"], "118 496 0"),
    "Edinburgh": ("Edinburgh", 55.9533, -3.1883, ["EH1", "EH3", "EH6", "EH10"], "131 496 0"),
    "Glasgow": ("Glasgow", 55.8642, -4.2518, ["G1", "G3", "G11", "G12", "G41"], "141 496 0"),
    "Cardiff": ("Cardiff", 51.4816, -3.1791, ["CF10", "CF11", "CF14", "CF24"], "29 2018 0"),
    "Belfast": ("Belfast", 54.5973, -5.9301, ["BT1", "BT7", "BT9", "BT15"], "28 9018 0"),
}
# Leeds is the provider's home town, so it has the most customers.
CITY_WEIGHTS = {"Leeds": 6, "Manchester": 3, "Sheffield": 2, "London Camden": 2, "Bristol": 2}

STREETS = words(
    "High Street|Station Road|Church Lane|Victoria Road|Park Avenue|Mill Lane|Queen Street|"
    "King Street|The Crescent|Manor Road|Chapel Street|Albert Road|Springfield Road|"
    "Orchard Close|Grange Road|Beech Grove|Westfield Avenue|North Street|Kingsway|"
    "Castle Street|Meadow View|Cedar Drive|Windsor Terrace|Canal Wharf|Market Place",
    sep="|",
)

POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def phone(rng: random.Random, prefix: str) -> str:
    return f"+44 {prefix}{rng.randrange(1000):03d}"


def mobile(rng: random.Random) -> str:
    return f"+44 7400 {rng.randrange(100000, 999999)}"


def postcode(rng: random.Random, districts: list[str]) -> str:
    letters = "".join(rng.choice(POSTCODE_LETTERS) for _ in range(2))
    return f"{rng.choice(districts)} {rng.randrange(1, 10)}{letters}"


def coordinate(rng: random.Random, centre: float, spread: float) -> Decimal:
    return Decimal(str(round(centre + rng.uniform(-spread, spread), 6)))


def address(demo, city: str) -> dict:
    """A service address somewhere in `city`, with its map position."""
    _, lat, lon, districts, _ = CITIES[city]
    return {
        "service_street": f"{demo.rng.randrange(1, 240)} {demo.rng.choice(STREETS)}",
        "service_city": "London" if city.startswith("London ") else city,
        "service_postcode": postcode(demo.rng, districts),
        "service_country": "GB",
        "latitude": coordinate(demo.rng, lat, 0.04),
        "longitude": coordinate(demo.rng, lon, 0.06),
    }


def region_groups(demo, city: str) -> list:
    return [demo.regions[CITIES[city][0]]]
