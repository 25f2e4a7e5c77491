"""Which venues a campaign covers (pure): one definition for audits, the field app's venue lists and follow-ups.

A campaign with a venue list covers exactly those venues; without one, the venues of its cities; without either,
every venue.
"""

from __future__ import annotations

from survey_platform.campaigns.schemas import Campaign


def includes_venue(campaign: Campaign, venue_id: int, venue_city: str) -> bool:
    """Whether ``campaign`` covers the venue ``venue_id`` (in the city ``venue_city``)."""
    if campaign.venues:
        return venue_id in campaign.venues
    if campaign.cities:
        return venue_city in campaign.cities
    return True


__all__ = ["includes_venue"]
