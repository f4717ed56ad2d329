"""The read-only HTTP API over the warehouse (`titan serve`). No Dagster here: it starts in
about a second and answers while Dagster is down."""
