"""Pure protocol decoders: bytes in, observations out."""
