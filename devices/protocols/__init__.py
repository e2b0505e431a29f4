"""Pure protocol decoders: MQTT payload bytes in, normalised readings out.

``routing.decode`` is the entry point: the topic chooses the format and
maybe the station (``routing``); ``document`` parses strict JSON once;
``thingsboard``, ``senml`` and ``plain`` read each format into
``readings.Reading``; ``elements`` and ``epoch`` hold the name and time rules
every format shares. Errors are ``readings.DecodeError`` with a stable reason.
"""
