#!/usr/bin/env python3
"""Write models/npy-layouts/: one array saved by numpy in each byte order and memory layout.

Run from the repository root:

    /usr/bin/python3 models/make_npy_layouts.py

a[i, j, k] = 12 i + 4 j + k − 10 for shape (2, 3, 4) (exact in every dtype below), saved as
C order, Fortran order (np.save of a Fortran-contiguous array, as np.asfortranarray or a
transpose gives) and big-endian, and in format versions 2.0 and 3.0 (a 4-byte header length; a
UTF-8 header), so the test can check parseNpy against numpy's own writer.
"""
import os

import numpy as np

OUT = 'models/npy-layouts'
os.makedirs(OUT, exist_ok=True)
a = np.arange(24).reshape(2, 3, 4) - 10
for name, dtype, fortran in [('c_f4', '<f4', False), ('fortran_f4', '<f4', True), ('big_f4', '>f4', False),
                             ('big_fortran_f8', '>f8', True), ('big_i8', '>i8', False), ('fortran_i2', '<i2', True),
                             ('big_f2', '>f2', False)]:
    x = a.astype(dtype)
    np.save(f'{OUT}/{name}.npy', np.asfortranarray(x) if fortran else np.ascontiguousarray(x))
for version in [(2, 0), (3, 0)]:
    with open(f'{OUT}/version_{version[0]}.npy', 'wb') as f:
        np.lib.format.write_array(f, a.astype('<f4'), version=version)
