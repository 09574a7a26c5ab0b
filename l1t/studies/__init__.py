"""Physics studies on the emulator's bit-exact decisions: rates, efficiencies, thresholds, the HTML report."""
