"""Edge translation between OCPP versions and the version-agnostic services.

One package per protocol version. Everything version-specific — action names, field names, error
code spellings, enums — lives here and only here.
"""
