"""The shared base transformer: loaded once, 8-bit (bitsandbytes LLM.int8) or fp32, mean-pooled.

The base is loaded without a task head: each task (intent, category) brings its own LoRA
adapter and its own small linear head, so one base in memory serves every task.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import (
    AutoModel,
    AutoTokenizer,
    BitsAndBytesConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from nlu_models.config import ClassifierSettings

HEAD_FILE = "head.safetensors"

hf_logging.set_verbosity_error()
# bitsandbytes says once per layer call that inputs are cast to fp16: expected on CPU, noise.
logging.getLogger("bitsandbytes.autograd._functions").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")
warnings.filterwarnings("ignore", message=".*quantize_per_channel.*")


def resolve_device(setting: str) -> str:
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("SHOPDESK_NLU_DEVICE=cuda, but PyTorch sees no CUDA device")
    return setting


def load_tokenizer(settings: ClassifierSettings) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(settings.base_model)


def load_encoder(settings: ClassifierSettings, device: str) -> PreTrainedModel:
    """The base encoder, its linear layers in 8-bit unless quantization is "none"."""
    quantization = None
    if settings.quantization == "8bit":
        quantization = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=["pooler"])
    model = AutoModel.from_pretrained(
        settings.base_model,
        quantization_config=quantization,
        device_map=device,
        dtype=torch.float32,  # adapters and heads train in fp32 whatever the checkpoint holds
        add_pooling_layer=False,  # sentence models are read by mean pooling, not BERT's pooler
    )
    return model  # type: ignore[no-any-return]


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding left out: how all-MiniLM-L6-v2 was trained."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class Head(torch.nn.Module):
    """A task's classification layer on the pooled sentence vector; trained in full, fp32."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = torch.nn.Dropout(dropout)
        self.linear = torch.nn.Linear(hidden_size, num_labels)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.linear(self.dropout(pooled.float()))
        return logits

    def save(self, folder: Path) -> None:
        state = {k: v.detach().cpu().contiguous() for k, v in self.linear.state_dict().items()}
        save_file(state, str(folder / HEAD_FILE))

    @classmethod
    def load(cls, folder: Path, device: str) -> Head:
        state = load_file(str(folder / HEAD_FILE), device=device)
        num_labels, hidden_size = state["weight"].shape
        head = cls(hidden_size, num_labels).to(device)
        head.linear.load_state_dict(state)
        return head.eval()
