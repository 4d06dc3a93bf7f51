"""Everything that runs inside Lambda, packaged as one artifact (domain, adapters, handlers)."""
