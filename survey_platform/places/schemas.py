"""Request and response shapes for cities and venues."""

from __future__ import annotations

from typing import Annotated

import msgspec

CityCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,19}$", description="e.g. 'hangzhou'")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Share = Annotated[float, msgspec.Meta(ge=0)]


class CityIn(msgspec.Struct, forbid_unknown_fields=True):
    code: CityCode
    name_zh: Name
    name_en: Annotated[str, msgspec.Meta(max_length=100)] = ""
    province: Annotated[str, msgspec.Meta(max_length=100)] = ""
    population: Annotated[int, msgspec.Meta(ge=0, le=10**10)] = 0
    # Annual retail sales of consumer goods (any fixed unit, e.g. 亿元), for national figures weighted by sales too
    retail_sales: Annotated[float, msgspec.Meta(ge=0)] | None = None
    # Population margins for weighting: variable → category → population count or share, checked against the
    # registered survey questionnaires by survey_platform.places.margins (shares: all values <= 1, summing to 1)
    margins: dict[
        Annotated[str, msgspec.Meta(max_length=60)], dict[Annotated[str, msgspec.Meta(max_length=60)], Share]
    ] = msgspec.field(default_factory=dict)


class City(CityIn, kw_only=True):
    id: int


class VenueIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    category: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,60}$", description="e.g. 'car_park'")]
    city: CityCode
    address: Annotated[str, msgspec.Meta(max_length=300)] = ""
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


class Visit(msgspec.Struct):
    date: str
    campaign: str = ""
    audit: str = ""
    outcome: str = ""


class Venue(VenueIn, kw_only=True):
    id: int
    visit_history: list[Visit] = msgspec.field(default_factory=list)
