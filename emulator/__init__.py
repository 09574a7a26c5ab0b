"""The bit-accurate L1 data flow: numpy only, no TensorFlow, nothing imported from models/, firmware/ or l1t/."""
