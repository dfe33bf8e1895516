"""The checker and fuzzer: a `Plan` (plan) carried out against a real server (conformance) through the engine
(engine, the only module that knows Schemathesis' internals), with our rules (rules), a bounded HTTP session
(throttling), findings (findings) and reports (reporting). Never imports the mock server."""
