"""Fast 8-bit inference on the CPU: the same int8 weights, run by PyTorch's fbgemm int8 GEMM.

bitsandbytes' CPU path dequantizes or quantizes in Python around each matrix product, which
made one short message about 2.5x slower than fp32 (benchmarks/results/classifiers.md).
bitsandbytes stores each linear layer as int8 rows with one absmax scale per row; that is
exactly a per-channel symmetric qint8 tensor, so the int8 values are handed over unchanged to
`torch.ao.nn.quantized.dynamic.Linear`, which quantizes activations per call and multiplies
in int8 with fbgemm. Weights stay int8 in memory; only the kernel changes. The LoRA layers
(fp32) around each base layer are untouched.
"""

from __future__ import annotations

import torch
from bitsandbytes.nn.modules import Linear8bitLt
from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear


def to_fbgemm(layer: Linear8bitLt) -> DynamicInt8Linear:
    """An int8 dynamic linear layer holding the very int8 weights of `layer`."""
    int8_rows = layer.weight.data
    scales = layer.weight.SCB.float() / 127.0  # type: ignore[attr-defined]  # bitsandbytes: W ≈ int8 * absmax / 127
    weight = int8_rows.float() * scales[:, None]
    quantized = torch.quantize_per_channel(
        weight, scales, torch.zeros_like(scales, dtype=torch.long), 0, torch.qint8
    )
    converted = DynamicInt8Linear(  # type: ignore[no-untyped-call]
        layer.in_features, layer.out_features, dtype=torch.qint8
    )
    bias = None if layer.bias is None else layer.bias.detach().float()
    converted.set_weight_bias(quantized, bias)
    return converted


def use_fbgemm_kernels(model: torch.nn.Module) -> int:
    """Swap every bitsandbytes 8-bit linear layer in `model` for its fbgemm twin; the count."""
    torch.backends.quantized.engine = "fbgemm"
    swapped = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, Linear8bitLt):
                setattr(module, name, to_fbgemm(child))
                swapped += 1
    return swapped
