"""TensorFlow / QKeras / tfmot models: definitions, training on arrays, distillation and export to the emulator
and hls4ml."""
