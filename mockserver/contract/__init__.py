"""The contract: OpenAPI documents read and checked (documents), turned into operations (spec), their schemas made
JSON Schema (schemas), their security schemes modelled once (security) and media types read one way (media).
Knows nothing of serving or checking."""
