"""After-sales assistant core: domain, policy engine, persistence and services.

The policy engine, the domain vocabulary and the services are plain Python with no Rasa
imports, so they can be unit-tested in milliseconds. Rasa-facing adapters (custom NLU
components, input channels) live in clearly named sub-packages.
"""
