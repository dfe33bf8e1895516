"""The mock server: a contract served as a deterministic fake. The core (mock: route, security, validation,
negotiation, answers) is framework-free; app.py is the one ASGI adapter; admin, journal, cors, fixtures and
generation serve it. Never imports the checker."""
