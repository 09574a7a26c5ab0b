from __future__ import annotations

import os

import numpy as np

from l1t.firmware.ap_types import RefCase
from l1t.firmware.fixed_check import find_mismatch

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the test session's choice: TensorFlow's start-up notices hidden


def assert_raw_equal(case: RefCase, inputs: tuple, expected: np.ndarray, got: np.ndarray) -> None:
    """Assert bit equality; on failure name the case, the count and the first differing input."""
    found = find_mismatch(case, inputs, expected, got)
    if found is not None:
        raise AssertionError(str(found))
