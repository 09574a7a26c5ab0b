"""Firmware: hls4ml projects, C-simulation, generated RTL, and the compiled ap_types reference."""
