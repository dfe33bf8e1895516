"""The contract: OpenAPI documents read and checked (documents), turned into operations (spec), their schemas made
JSON Schema (schemas) and their security schemes modelled once (security). Knows nothing of serving or checking."""
