"""Publishing: stored answers → scoring → frozen releases, their charts and open data."""
