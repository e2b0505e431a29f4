"""Composite panel outputs: a panel's tiles composed and encoded as one stream."""
