"""Software prefetch for the Numba kernels: LLVM's `llvm.prefetch` as a Numba intrinsic.

A CBOW step reads the rows of the words entering its window, random rows of a matrix larger
than the cache, and waits for them. Asking for a row a few centre words before it is
needed lets that wait overlap the arithmetic of the steps in between. A prefetch is only a
hint: it changes no value, so a kernel gives the same numbers with or without it.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_LINE_FLOATS = 16  # float32 values per 64-byte cache line


@intrinsic
def prefetch_for_write(typingctx, matrix, row, col):
    """Hint that `matrix[row, col]` (a 2-D array) will soon be read and written.

    Emits `llvm.prefetch(address, rw=1, locality=3, data)`: x86 `prefetchw`. The name is
    left unmangled; LLVM's intrinsic upgrade gives it the pointer type of the build
    (`llvm.prefetch.p0` with opaque pointers).
    """
    signature = types.void(matrix, row, col)

    def codegen(context, builder, sig, args):
        array_type = sig.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        index = [context.cast(builder, value, kind, types.intp)
                 for value, kind in zip(args[1:], sig.args[1:])]
        address = cgutils.get_item_pointer(context, builder, array_type, array, index,
                                           wraparound=False)
        byte_ptr, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
            "llvm.prefetch")
        builder.call(hint, [builder.bitcast(address, byte_ptr), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return signature, codegen


@njit(cache=True, nogil=True, inline="always")
def prefetch_row(matrix: np.ndarray, row: int) -> None:
    """Prefetch every cache line of `matrix[row]` ((V, E) float32, C-contiguous)."""
    dim = matrix.shape[1]
    for e in range(0, dim, _LINE_FLOATS):
        prefetch_for_write(matrix, row, e)
    prefetch_for_write(matrix, row, dim - 1)  # a row need not start on a line boundary
