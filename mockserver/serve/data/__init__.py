"""Data made from schemas: generation (deterministic, per seed and pool slot), realism (readable values by whole-word
names) and encoding (JSON, XML, text bytes). Knows nothing of requests; imports only contract/."""
