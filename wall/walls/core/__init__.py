"""Pure wall domain core: no I/O, no clocks, no asyncio."""
