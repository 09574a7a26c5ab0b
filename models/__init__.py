"""TensorFlow / QKeras / tfmot models: training, distillation and export to the emulator and hls4ml."""
