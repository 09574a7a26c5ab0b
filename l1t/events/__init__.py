"""Event inputs: Pythia8 generation, pileup overlay, a parametric detector response, HDF5 data sets."""
