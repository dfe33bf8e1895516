"""The mock server: a contract served as a deterministic fake. `pipeline/` is the framework-free core (route,
security, validation, negotiation, producer) over `data/` (generation, realism, encoding); the runtime shell (app,
admin, journal, watch, store, config, cors) wraps it; `forward/` (proxy, drift, recorder) is the wing to a real
server. Never imports the checker."""
