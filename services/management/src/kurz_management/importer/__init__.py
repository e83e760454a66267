"""`kurz import`: links from other shorteners' exports, created through the same link use
cases as the API (so every rule, slug check and edge-cache write is the API's own)."""
