"""Resource analytics for bed managers: encounter import (CSV, Parquet, FHIR) into DuckDB, census, arrivals,
length of stay, a snapshot of today, census forecasts with a backtest, and a documented hospital generator."""
