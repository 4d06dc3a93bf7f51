"""The Pulumi program's components, and the pure modules (ASL) the local cloud shares."""
