"""Adapters: the only code that talks to the outside world (AWS, HTTP, OCR, clocks)."""
