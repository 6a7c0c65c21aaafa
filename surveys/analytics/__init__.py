"""Analytics: NPS metrics and statistics, movement between periods, movers."""
