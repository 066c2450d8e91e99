"""Field extensions: code a study opts into through its manifest; the core knows no field."""
