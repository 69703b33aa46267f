"""The engine: seeded, chunked simulation of worlds, forecasts, conditioning on evidence, forecasts as of a date."""
