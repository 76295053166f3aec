"""The domain, version-agnostic. Each service owns its tables and calls other services, never their tables."""
